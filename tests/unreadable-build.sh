#!/bin/bash
# unreadable-build.sh -- the Apache servers of the tests work wherever the
# checkout is (issue 9 B). Run as root, Apache's workers and the responders
# that mod_fcgid, mod_cgi and spawn-fcgi start run as www-data; with the
# clone in root's home (mode 0700) they could not load libpurchase.so.0
# (nor the binary) from the build tree, and every Apache server failed. Here
# the build's binary and library are copied, laid out as a build tree, into
# a directory www-data cannot enter, and the deployment checks run through
# each Apache server from that tree (tests/harness.sh, h_subrun): they pass
# only if the web server's side loads nothing from the build tree (h_stage
# copies it into the test's directory). Needs root: only then do the
# servers run as another user.
: "${abs_top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
. "$abs_top_srcdir/tests/harness.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "1..0 # SKIP not root: the web servers run as this user, who can read the build"
	exit 0
fi
user=$(id -un www-data 2>/dev/null || echo nobody)
command -v runuser >/dev/null || { echo "1..0 # SKIP no runuser"; exit 0; }
real=$(dirname "$PURCHASE_FCGI")/.libs/$(basename "$PURCHASE_FCGI")
if [ "$(head -c 2 "$PURCHASE_FCGI")" != "#!" ] || [ ! -x "$real" ]; then
	echo "1..0 # SKIP $PURCHASE_FCGI is not a libtool build's wrapper"
	exit 0
fi

# The private build tree: what the servers would otherwise load from it.
priv=$H_DIR/private/build
mkdir -p "$priv/cgi-bin/.libs" "$priv/lib/.libs"
cp "$PURCHASE_FCGI" "$priv/cgi-bin/purchase.fcgi"
cp "$real" "$priv/cgi-bin/.libs/purchase.fcgi"
cp -P "$abs_top_builddir"/lib/.libs/libpurchase.so* "$priv/lib/.libs/"
chmod 700 "$H_DIR/private"
runuser -u "$user" -- sh -c 'test -r "$1" || test -r "$2"' _ \
	"$priv/lib/.libs/libpurchase.so.0" "$priv/cgi-bin/.libs/purchase.fcgi"
ok "$([ $? -ne 0 ]; echo $?)" "$user cannot read the build tree (${priv#$H_DIR/})"

for s in apache-fcgid apache-proxy-fcgi apache-cgi apache-htaccess-fcgid; do
	missing=$(h_server_missing "$s")
	if [ -n "$missing" ]; then
		H_TESTNO=$((H_TESTNO + 1))
		echo "ok $H_TESTNO - [$s] # SKIP not installed:$missing"
		continue
	fi
	h_subrun "$s" deploy-checks.sh abs_top_builddir="$priv" PURCHASE_FCGI="$priv/cgi-bin/purchase.fcgi" \
		PURCHASECTL="$PURCHASECTL" SANDBOX_FCGI="$SANDBOX_FCGI"
done

plan "$H_TESTNO"
h_done
