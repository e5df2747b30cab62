#!/bin/sh
# deps.sh -- installs what building, running and testing need, from Debian
# 12's packages (as root, or through sudo). Idempotent; quiet when all is
# there already.
#
#   build:   gcc make autoconf automake libtool pkg-config
#            libfcgi-dev libjson-c-dev libcurl4-openssl-dev libsqlite3-dev
#            libpq-dev (the header of the PostgreSQL backend; libpq itself
#            is loaded only by a deploy that names a postgresql:// database)
#   run:     lighttpd (the quick start serves through it)
#   test:    curl jq sqlite3 (the integration tests drive the real server
#            with curl, read JSON with jq and look into the database with
#            the sqlite3 shell); apache2 + libapache2-mod-fcgid + spawn-fcgi for the
#            Apache integration tests (tests/servers.sh: mod_fcgid,
#            mod_proxy_fcgi, plain CGI); man-db to check the man pages;
#            valgrind for the memory checks; clang with libclang-rt-14-dev
#            (libFuzzer and the sanitizer runtimes) and xxd for the fuzz
#            targets of tests/fuzz/; debootstrap for the Debian roots of
#            tests/minbase.sh and tests/deb.sh; dpkg-dev, debhelper,
#            apache2-dev (dh_apache2) and lintian to build and check the
#            Debian package (tests/deb.sh); postgresql (15) for the
#            suites on PostgreSQL (tests/pg.sh, nodes.sh: servers of their
#            own, never the package's cluster, which is not created).
set -e
PKGS="gcc make autoconf automake libtool pkg-config libfcgi-dev libjson-c-dev \
libcurl4-openssl-dev libsqlite3-dev libpq-dev lighttpd curl jq sqlite3 ca-certificates"
[ "${1:-}" = "--test" ] && PKGS="$PKGS apache2 libapache2-mod-fcgid spawn-fcgi man-db valgrind strace clang libclang-rt-14-dev xxd debootstrap \
dpkg-dev debhelper apache2-dev lintian postgresql"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
echo "deps.sh: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# Debian's postgresql would create and start a cluster on port 5432: the
# tests start their own servers, so none is made.
case " $missing " in *" postgresql "*)
	$SUDO mkdir -p /etc/postgresql-common/createcluster.d
	echo "create_main_cluster = false" | $SUDO tee /etc/postgresql-common/createcluster.d/purchase-tests.conf >/dev/null ;;
esac
$SUDO apt-get update -qq
# Debian starts apache2 and lighttpd on port 80 when it installs them; the
# service never uses those instances (tests start their own on free ports).
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
