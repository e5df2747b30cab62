# harness.sh -- sourced by the integration tests: TAP helpers, and a real
# stack on loopback: lighttpd + sandbox.fcgi (Stripe/Twilio stand-in, its
# own SQLite file) and purchase.fcgi (the service, its own SQLite file)
# behind ${H_SERVER:-lighttpd} (lighttpd, apache-fcgid, apache-proxy-fcgi,
# apache-cgi: see h_serve), on free 127.0.0.1 ports, stopped by PID when the
# test exits, whatever way it exits.
#
# Needs: lighttpd, curl, jq; apache2, libapache2-mod-fcgid and spawn-fcgi
# for the Apache servers. Finds the build through $abs_top_builddir
# (set by make check) or the current directory.
#
# When a test fails (a "not ok" point or a non-zero exit), the servers' logs
# under $H_DIR (error logs, responder logs, start-up output) are copied to
# $H_KEEP_LOGS -- make check sets H_LOGDIR, which makes it
# tests/NAME.sh.logs/ beside the test's tests/NAME.sh.log -- and their last
# lines are printed to stderr (the test's log); H_KEEP=1 keeps all of $H_DIR.

set -u
# The web server's user (www-data, when the test runs as root) reads what
# the test writes: the user's umask must not close it.
umask 022

: "${abs_top_builddir:=$(pwd)}"
: "${abs_top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
PURCHASE_FCGI=${PURCHASE_FCGI:-$abs_top_builddir/cgi-bin/purchase.fcgi}
PURCHASECTL=${PURCHASECTL:-$abs_top_builddir/tools/purchasectl}
SANDBOX_FCGI=${SANDBOX_FCGI:-$abs_top_builddir/sandbox/sandbox.fcgi}
LIGHTTPD=${LIGHTTPD:-$(command -v lighttpd || echo /usr/sbin/lighttpd)}

H_DIR=$(mktemp -d "${TMPDIR:-/tmp}/purchase-test.XXXXXX")
H_PIDS=()
H_TESTNO=0
H_FAILED=0
H_SK="Authorization: Bearer sk_test_sandbox"
H_KEEP_LOGS=${H_KEEP_LOGS-${H_LOGDIR:+$H_LOGDIR/$(basename "$0").logs}}
# (no stale logs from an earlier run beside this one's)
case $H_KEEP_LOGS in *.logs | *.logs/*) rm -rf "$H_KEEP_LOGS" ;; esac

# h_keep_logs -- on failure: the logs under $H_DIR to $H_KEEP_LOGS, and the
# last lines of the servers' own logs to stderr.
h_keep_logs() {
	local f rel n=0
	if [ -n "$H_KEEP_LOGS" ]; then
		mkdir -p "$H_KEEP_LOGS"
		(cd "$H_DIR" && find . -path ./destdir -prune -o -type f \( -name '*.log' -o -name '*.err' \
			-o -name '*.tap' -o -name '*.conf' -o -name .htaccess \) -print |
			while IFS= read -r rel; do
				mkdir -p "$H_KEEP_LOGS/$(dirname "$rel")"
				cp "$rel" "$H_KEEP_LOGS/$rel"
			done)
		echo "# the logs of this run are kept in $H_KEEP_LOGS" >&2
	fi
	for f in "$H_DIR"/*/error.log "$H_DIR"/*/startup.log "$H_DIR"/*/spawn.log "$H_DIR"/*/responder.log; do
		[ -s "$f" ] || continue
		n=$((n + 1))
		[ $n -le 12 ] || break
		echo "# --- ${f#$H_DIR/}, last lines:" >&2
		tail -n 8 "$f" | cut -c1-300 | sed 's/^/#   /' >&2
	done
}

h_cleanup() {
	local rc=$? pid
	# PostgreSQL's fast shutdown (SIGINT): its clients may be ours too
	# (SIGTERM would wait for them).
	[ -n "${H_PG_PID:-}" ] && kill -INT "$H_PG_PID" 2>/dev/null
	for pid in "${H_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${H_PIDS[@]}"; do
		for _ in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null
	done
	# lighttpd's FastCGI children leave with their parent; anything still
	# holding our sockets is ours alone (started under $H_DIR).
	if [ "$rc" -ne 0 ] || [ "$H_FAILED" -ne 0 ]; then
		h_keep_logs
	fi
	if [ -n "${H_KEEP:-}" ]; then
		echo "# kept $H_DIR ${H_PG:-}" >&2
	else
		rm -rf "$H_DIR" ${H_PG:+"$H_PG"}
	fi
}
trap h_cleanup EXIT
trap 'exit 130' INT TERM

# --- TAP ------------------------------------------------------------------

plan() { echo "1..$1"; }
ok() {	# ok COND-EXIT-STATUS DESCRIPTION
	H_TESTNO=$((H_TESTNO + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $H_TESTNO - $2"
	else
		echo "not ok $H_TESTNO - $2"
		H_FAILED=$((H_FAILED + 1))
	fi
}
is() {	# is GOT WANT DESCRIPTION
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		echo "#   got:  '$1'" >&2
		echo "#   want: '$2'" >&2
	fi
}
diag() { echo "# $*" >&2; }
h_done() {
	[ "$H_FAILED" -eq 0 ]
}

# h_subrun SERVER SCRIPT [VAR=VALUE...] -- runs the integration test SCRIPT
# (tests/SCRIPT) through SERVER with that environment and re-emits each of
# its results as one of ours, "[SERVER] SCRIPT: ...", then one point for its
# complete run; leaves its "ok|not ok - description" lines in
# $H_DIR/SERVER.SCRIPT.res. Its logs, when it fails, are kept in a
# sub-directory of ours ($H_KEEP_LOGS/SERVER.SCRIPT).
h_subrun() {
	local server=$1 script=$2 out=$H_DIR/$1.$2 line rc
	shift 2
	# (each its own database: H_DB=pg starts it a server of its own)
	env -u H_PG_URI H_KEEP_LOGS="${H_KEEP_LOGS:+$H_KEEP_LOGS/$server.$script}" H_SERVER="$server" "$@" \
		bash "$abs_top_srcdir/tests/$script" >"$out.tap" 2>"$out.err"
	rc=$?
	: >"$out.res"
	while IFS= read -r line; do
		case $line in
		"ok "*|"not ok "*)
			local st=${line%% [0-9]*} rest=${line#* [0-9]* }
			[ "$st" = "$line" ] && st=ok
			H_TESTNO=$((H_TESTNO + 1))
			echo "$st $H_TESTNO - [$server] $script: ${rest#- }"
			[ "$st" = "not ok" ] && H_FAILED=$((H_FAILED + 1))
			# (descriptions may quote a random key prefix)
			echo "$st - ${rest#- }" | sed -E 's/pur_[0-9a-f]+/pur_X/g' >>"$out.res" ;;
		"Bail out!"*)
			echo "# [$server] $script: $line" >&2 ;;
		esac
	done <"$out.tap"
	grep -q '^1\.\.[0-9]' "$out.tap" && [ $rc -eq 0 ]
	ok $? "[$server] $script: complete run, exit 0"
	[ $rc -eq 0 ] || {
		# its diagnostics: the first (got/want) and the last (log tails)
		local n
		n=$(wc -l <"$out.err")
		if [ "$n" -le 80 ]; then
			cat "$out.err"
		else
			head -n 40 "$out.err"
			echo "# ... ($((n - 80)) lines)"
			tail -n 40 "$out.err"
		fi | sed 's/^/#   /' >&2
	}
}

h_freeport() {
	local f=$H_DIR/freeport
	[ -x "$f" ] || cc -o "$f" "$abs_top_srcdir/tests/freeport.c" || return 1
	"$f"
}

# h_lighttpd NAME PORT FCGI-BIN PROCS ENV-PAIRS... -- starts lighttpd serving
# FCGI-BIN for every path, with "KEY" => "VALUE" environment pairs.
h_lighttpd() {
	local name=$1 port=$2 bin=$3 procs=$4
	shift 4
	local env="" kv
	for kv in "$@"; do
		env="$env \"${kv%%=*}\" => \"${kv#*=}\","
	done
	mkdir -p "$H_DIR/$name/www"
	cat >"$H_DIR/$name/lighttpd.conf" <<EOF
server.modules = ("mod_fastcgi")
server.bind = "127.0.0.1"
server.port = $port
server.document-root = "$H_DIR/$name/www"
server.errorlog = "$H_DIR/$name/error.log"
server.pid-file = "$H_DIR/$name/lighttpd.pid"
server.max-connections = 1024
server.max-request-size = 64
fastcgi.server = ( "/" => ((
	"bin-path" => "$bin",
	"socket" => "$H_DIR/$name/fcgi.sock",
	"max-procs" => $procs,
	"check-local" => "disable",
	"bin-environment" => ( $env ),
)))
EOF
	"$LIGHTTPD" -D -f "$H_DIR/$name/lighttpd.conf" 2>>"$H_DIR/$name/error.log" &
	H_PIDS+=($!)
	local i
	for i in $(seq 1 100); do
		curl -s -o /dev/null "http://127.0.0.1:$port/" && return 0
		sleep 0.05
	done
	echo "# lighttpd $name did not start:" >&2
	sed 's/^/#   /' "$H_DIR/$name/error.log" >&2
	return 1
}

# --- the service behind each web server -------------------------------------
#
# h_start serves purchase.fcgi through ${H_SERVER:-lighttpd}, always from the
# SHIPPED configuration in apache-conf/ (templates filled in with this test's
# paths by h_subst; a snippet is included from a minimal server config that
# only sets ports, paths, logs and modules):
#   lighttpd           lighttpd + mod_fastcgi   apache-conf/lighttpd-purchase.conf.in
#   apache-fcgid       Apache + mod_fcgid       apache-conf/purchase-fcgid.conf.in
#   apache-proxy-fcgi  Apache + mod_proxy_fcgi  apache-conf/purchase-proxy-fcgi.conf.in,
#                      responder on a Unix socket by apache-conf/purchase-spawn-fcgi.in
#   apache-cgi         Apache + mod_cgi, shared-hosting style: the binary and
#                      apache-conf/htaccess-cgi.in as .htaccess in a
#                      sub-directory of a document root with exactly the
#                      AllowOverride the file documents
#   apache-htaccess-fcgid  the same .htaccess and directory with mod_fcgid
#                      loaded (the shared host that has it: FastCGI)
# Apache's side reads only copies under $H_DIR (h_stage). Sets H_ERRLOG
# (where the responder's stderr lines land), and H_DOCROOT (the directory of
# the binary and the .htaccess) for the two .htaccess servers.
H_SERVER=${H_SERVER:-lighttpd}
H_CONFDIR=${H_CONFDIR:-$abs_top_srcdir/apache-conf}
APACHE2=${APACHE2:-$(command -v apache2 || echo /usr/sbin/apache2)}
APACHE_MODULES=${APACHE_MODULES:-/usr/lib/apache2/modules}
SPAWN_FCGI=${SPAWN_FCGI:-$(command -v spawn-fcgi || echo /usr/bin/spawn-fcgi)}
H_STARTS=0

# h_server_missing SERVER -- prints what SERVER needs that is not installed
# (nothing when it can run).
h_server_missing() {
	local m=""
	case $1 in
	lighttpd) [ -x "$LIGHTTPD" ] || m="lighttpd" ;;
	apache-*)
		[ -x "$APACHE2" ] || m="apache2"
		[ -f "$APACHE_MODULES/mod_mpm_prefork.so" ] || m="$m apache2 modules"
		case $1 in
		apache-fcgid) [ -f "$APACHE_MODULES/mod_fcgid.so" ] || m="$m mod_fcgid" ;;
		apache-proxy-fcgi)
			[ -f "$APACHE_MODULES/mod_proxy_fcgi.so" ] || m="$m mod_proxy_fcgi"
			[ -x "$SPAWN_FCGI" ] || m="$m spawn-fcgi" ;;
		apache-cgi) [ -f "$APACHE_MODULES/mod_cgi.so" ] || m="$m mod_cgi" ;;
		apache-htaccess-fcgid) [ -f "$APACHE_MODULES/mod_fcgid.so" ] || m="$m mod_fcgid" ;;
		esac
		case $1 in
		apache-cgi | apache-htaccess-fcgid)
			[ -f "$APACHE_MODULES/mod_rewrite.so" ] || m="$m mod_rewrite" ;;
		esac ;;
	*) m="unknown server $1" ;;
	esac
	echo "$m"
}

# h_subst TEMPLATE OUT CGIBINDIR RUNSTATEDIR -- fills in a shipped template
# with this test's paths (the configuration file is $H_DIR/purchase.conf).
h_subst() {
	sed -e "s|@cgibindir@|$3|g" -e "s|@sysconfdir@|$H_DIR|g" \
		-e "s|@runstatedir@|$4|g" -e "s|@localstatedir@|$H_DIR/var|g" \
		-e "s|@pkgdatadir@|$abs_top_srcdir/sql|g" -e "s|@sbindir@|$abs_top_builddir/tools|g" \
		-e "s|@PACKAGE_VERSION@|test|g" "$1" >"$2"
}

# h_stage -- what the web server's user must read, copied into $H_DIR/stage:
# the real executable behind PURCHASE_FCGI (in a build tree PURCHASE_FCGI is
# a libtool wrapper script, which that user may not be able to run: it may
# relink into .libs) as H_FCGI_REAL, and the libpurchase it loads in
# H_FCGI_LIBPATH. When the test runs as root, Apache's workers, mod_fcgid's
# and spawn-fcgi's processes run as www-data, and the build tree may sit
# where www-data cannot go (a clone in root's home, mode 0700): they load
# nothing from it. (The sandbox and lighttpd run as the test's own user.)
h_stage() {
	local dir=$H_DIR/stage real libpath so
	H_FCGI_REAL=$dir/purchase.fcgi
	H_FCGI_LIBPATH=$dir/lib
	if [ -x "$H_FCGI_REAL" ]; then
		# (a static responder, as the bundle's, has no library to find)
		[ -n "$(ls -A "$dir/lib" 2>/dev/null)" ] || H_FCGI_LIBPATH=""
		return 0
	fi
	real=$(dirname "$PURCHASE_FCGI")/.libs/$(basename "$PURCHASE_FCGI")
	if [ "$(head -c 2 "$PURCHASE_FCGI")" = "#!" ] && [ -x "$real" ]; then
		libpath=$abs_top_builddir/lib/.libs
	else
		real=$PURCHASE_FCGI
		libpath=${LD_LIBRARY_PATH:-}
	fi
	mkdir -p "$dir/lib" || return 1
	cp "$real" "$H_FCGI_REAL" || return 1
	# The library as the dynamic loader finds it, under its soname (none
	# to copy for a static build).
	so=$(LD_LIBRARY_PATH=$libpath ldd "$real" | awk '$1 ~ /^libpurchase\.so/ { print $1, $3 }')
	if [ -n "$so" ]; then
		[ -f "${so#* }" ] || { echo "# $real: ${so% *} not found" >&2; return 1; }
		cp -L "${so#* }" "$dir/lib/${so% *}" || return 1
	else
		H_FCGI_LIBPATH=""
	fi
	chmod -R a+rX "$dir"
}

h_wait_http() {	# h_wait_http PORT LOG... -- until the server answers
	local port=$1 i
	shift
	for i in $(seq 1 200); do
		curl -s -o /dev/null "http://127.0.0.1:$port/" && return 0
		sleep 0.05
	done
	echo "# server on $port did not start:" >&2
	cat "$@" 2>/dev/null | sed 's/^/#   /' >&2
	return 1
}

# h_serve_lighttpd DIR PORT PROCS
h_serve_lighttpd() {
	local dir=$1 port=$2 procs=$3
	mkdir -p "$dir/www" "$dir/cgi-bin" "$dir/run/purchase"
	ln -sf "$PURCHASE_FCGI" "$dir/cgi-bin/purchase.fcgi"
	h_subst "$H_CONFDIR/lighttpd-purchase.conf.in" "$dir/purchase.conf.tmp" "$dir/cgi-bin" "$dir/run"
	# ... and the process count this test asks for (and the threads per
	# process, H_THREADS, PURCHASE_SLOTS H_SLOTS, when it asks).
	local threads=${H_THREADS:-$(sed -n 's/.*"PURCHASE_THREADS" => "\([0-9]*\)".*/\1/p' "$dir/purchase.conf.tmp")}
	sed -e "s|\"max-procs\" *=> *[0-9]*|\"max-procs\"       => $procs|" \
		-e "s|\"PURCHASE_THREADS\" => \"[0-9]*\"|\"PURCHASE_THREADS\" => \"$threads\"${H_SLOTS:+, \"PURCHASE_SLOTS\" => \"$H_SLOTS\"}|" \
		"$dir/purchase.conf.tmp" >"$dir/lighttpd-purchase.conf"
	cat >"$dir/lighttpd.conf" <<EOF2
server.bind = "127.0.0.1"
server.port = $port
server.document-root = "$dir/www"
server.errorlog = "$dir/error.log"
server.pid-file = "$dir/lighttpd.pid"
server.max-connections = 1024
server.max-request-size = 64
include "$dir/lighttpd-purchase.conf"
EOF2
	H_ERRLOG=$dir/error.log
	"$LIGHTTPD" -D -f "$dir/lighttpd.conf" 2>>"$dir/error.log" &
	H_PIDS+=($!)
	h_wait_http "$port" "$dir/error.log"
}

# h_apache DIR PORT SNIPPET MODE [PROCS] -- Apache in the foreground (its own
# PidFile, ErrorLog, runtime dir and mutexes under DIR), prefork MPM, on
# 127.0.0.1:PORT, including SNIPPET (a shipped file, filled in). MODE: fcgid,
# proxy-fcgi, cgi or htaccess-fcgid (which modules, and the document root's
# AllowOverride). The responders find libpurchase in H_FCGI_LIBPATH. Also
# used by tests/install.sh with an installed snippet.
h_apache() {
	local dir=$1 port=$2 snippet=$3 mode=$4 procs=${5:-2} m user="" mods
	mkdir -p "$dir/www" "$dir/run" "$dir/logs"
	mods="mpm_prefork authz_core authz_host alias mime env setenvif"
	case $mode in
	fcgid) mods="$mods fcgid" ;;
	proxy-fcgi) mods="$mods proxy proxy_fcgi" ;;
	cgi) mods="$mods cgi rewrite" ;;
	htaccess-fcgid) mods="$mods fcgid rewrite" ;;
	esac
	{
		echo "# written by tests/harness.sh: ports, paths, logs, modules; the service's"
		echo "# configuration is the included shipped file."
		echo "ServerRoot \"$dir\""
		echo "ServerName 127.0.0.1"
		echo "Listen 127.0.0.1:$port"
		echo "PidFile \"$dir/run/httpd.pid\""
		echo "DefaultRuntimeDir \"$dir/run\""
		echo "Mutex file:$dir/run default"
		echo "ErrorLog \"$dir/error.log\""
		echo "LogLevel warn"
		for m in $mods; do
			echo "LoadModule ${m}_module \"$APACHE_MODULES/mod_$m.so\""
		done
		[ -f /etc/mime.types ] && echo "TypesConfig /etc/mime.types" || echo "TypesConfig /dev/null"
		echo "StartServers 2"
		echo "MinSpareServers 2"
		echo "MaxSpareServers 8"
		echo "MaxRequestWorkers 64"
		echo "Timeout 120"
		if [ "$(id -u)" -eq 0 ]; then
			user=$(id -un www-data 2>/dev/null || echo nobody)
			echo "User $user"
			echo "Group $(id -gn "$user")"
		fi
		echo "DocumentRoot \"$dir/www\""
		echo "<Directory />"
		echo "    AllowOverride None"
		echo "    Options None"
		echo "    Require all denied"
		echo "</Directory>"
		echo "<Directory \"$dir/www\">"
		case $mode in
		cgi | htaccess-fcgid)
			# exactly what apache-conf/htaccess-cgi.in documents
			echo "    AllowOverride FileInfo AuthConfig Options=ExecCGI,SymLinksIfOwnerMatch" ;;
		esac
		echo "    Require all granted"
		echo "</Directory>"
		case $mode in
		fcgid | htaccess-fcgid)
			mkdir -p "$dir/fcgid"
			echo "FcgidIPCDir \"$dir/fcgid\""
			echo "FcgidProcessTableFile \"$dir/fcgid/shm\""
			[ -n "$H_FCGI_LIBPATH" ] && echo "FcgidInitialEnv LD_LIBRARY_PATH \"$H_FCGI_LIBPATH\""
			echo "FcgidMaxProcesses 64"
			;;
		cgi)	[ -n "$H_FCGI_LIBPATH" ] && echo "SetEnv LD_LIBRARY_PATH \"$H_FCGI_LIBPATH\"" ;;
		esac
		echo "Include \"$snippet\""
		} >"$dir/httpd.conf"
	h_apache_own "$dir" || return 1
	h_readable "$H_DIR/purchase.conf" "$dir/www" $(echo "$H_FCGI_LIBPATH" | tr ':' ' ') || return 1
	H_ERRLOG=$dir/error.log
	# Its own session: on shutdown Apache signals its whole process group,
	# which would otherwise be this test (and make).
	setsid "$APACHE2" -f "$dir/httpd.conf" -DFOREGROUND >>"$dir/startup.log" 2>&1 &
	H_PIDS+=($!)
	h_wait_http "$port" "$dir/startup.log" "$dir/error.log"
}

# h_serve SERVER PORT PROCS -- the service through SERVER.
h_serve() {
	local server=$1 port=$2 procs=$3 dir missing
	H_STARTS=$((H_STARTS + 1))
	dir=$H_DIR/service$H_STARTS
	missing=$(h_server_missing "$server")
	if [ -n "$missing" ]; then
		echo "# $server: missing:$missing" >&2
		return 1
	fi
	h_stage || return 1
	mkdir -p "$dir"
	case $server in
	lighttpd)
		h_serve_lighttpd "$dir" "$port" "$procs" ;;
	apache-fcgid)
		mkdir -p "$dir/cgi-bin"
		cp "$H_FCGI_REAL" "$dir/cgi-bin/purchase.fcgi"
		h_subst "$H_CONFDIR/purchase-fcgid.conf.in" "$dir/purchase-fcgid.conf" "$dir/cgi-bin" "$dir/run"
		h_apache "$dir" "$port" "$dir/purchase-fcgid.conf" fcgid "$procs" ;;
	apache-proxy-fcgi)
		mkdir -p "$dir/cgi-bin" "$dir/run/purchase"
		cp "$H_FCGI_REAL" "$dir/cgi-bin/purchase.fcgi"
		h_subst "$H_CONFDIR/purchase-proxy-fcgi.conf.in" "$dir/purchase-proxy-fcgi.conf" "$dir/cgi-bin" "$dir/run"
		h_subst "$H_CONFDIR/purchase-spawn-fcgi.in" "$dir/purchase-spawn-fcgi" "$dir/cgi-bin" "$dir/run"
		h_apache_own "$dir"
		h_readable "$H_DIR/purchase.conf" "$dir/cgi-bin" "$H_FCGI_LIBPATH" || return 1
		local user=""
		[ "$(id -u)" -eq 0 ] && user=$(id -un www-data 2>/dev/null || echo nobody)
		: >"$dir/responder.log"
		[ -n "$user" ] && chown "$user" "$dir/responder.log"
		# The configuration reaches the responder only per request (the
		# snippet's SetEnv): the one in its environment does not exist. The
		# responder is the copy (a PURCHASE_FCGI of the caller's environment
		# would win over the script's default).
		PURCHASE_CONFIG=$dir/no-such.conf LD_LIBRARY_PATH="$H_FCGI_LIBPATH" \
			PURCHASE_FCGI="$dir/cgi-bin/purchase.fcgi" \
			PURCHASE_CHILDREN="$procs" PURCHASE_THREADS="${H_THREADS:-}" PURCHASE_LOG="$dir/responder.log" \
			PURCHASE_USER="$user" PURCHASE_GROUP="$([ -n "$user" ] && id -gn "$user")" \
			PURCHASE_SOCKET_GROUP="$([ -n "$user" ] && id -gn "$user")" SPAWN_FCGI="$SPAWN_FCGI" \
			sh "$dir/purchase-spawn-fcgi" >>"$dir/spawn.log" 2>&1 || {
			sed 's/^/#   /' "$dir/spawn.log" >&2
			return 1
		}
		local pid
		for pid in $(cat "$dir/run/purchase/purchase.pid"); do
			H_PIDS+=("$pid")
		done
		h_apache "$dir" "$port" "$dir/purchase-proxy-fcgi.conf" proxy-fcgi "$procs" || return 1
		# spawn-fcgi's processes write their log lines to its stderr.
		H_ERRLOG=$dir/responder.log ;;
	apache-cgi | apache-htaccess-fcgid)
		mkdir -p "$dir/www/shop"
		cp "$H_FCGI_REAL" "$dir/www/shop/purchase.fcgi"
		H_DOCROOT=$dir/www/shop
		# (H_HTACCESS: another template, as the bundle's own .htaccess)
		h_subst "${H_HTACCESS:-$H_CONFDIR/htaccess-cgi.in}" "$dir/www/shop/.htaccess" \
			"$dir/www/shop" "$dir/run"
		: >"$dir/none.conf"
		if [ "$server" = apache-cgi ]; then
			h_apache "$dir" "$port" "$dir/none.conf" cgi || return 1
		else
			h_apache "$dir" "$port" "$dir/none.conf" htaccess-fcgid "$procs" || return 1
		fi
		# A sub-directory of the web space, as on shared hosting.
		BASE=$BASE/shop ;;
	esac
}

# h_apache_own DIR -- when root, Apache's workers (and the responders they
# start) run as www-data: they must reach the test directory and write the
# database beside its -wal/-shm files (SQLite run as root, as purchasectl and
# the sqlite3 shell are here, hands the files it creates to the database
# file's owner).
h_apache_own() {
	local user
	[ "$(id -u)" -eq 0 ] || return 0
	user=$(id -un www-data 2>/dev/null || echo nobody)
	chmod 755 "$H_DIR" "$1"
	chown "$user" "$H_DIR" "$H_DIR"/purchase.db* 2>/dev/null
	[ -d "$1/fcgid" ] && chown "$user" "$1/fcgid"
	return 0
}

# h_readable PATH... -- when root: Apache's user can read each PATH (a
# directory: enter and list it; its files: read them). Says what it cannot
# (a private TMPDIR, say) instead of letting every request fail.
h_readable() {
	local user p
	[ "$(id -u)" -eq 0 ] && command -v runuser >/dev/null || return 0
	user=$(id -un www-data 2>/dev/null || echo nobody)
	for p in "$@"; do
		[ -e "$p" ] || continue
		runuser -u "$user" -- sh -c 'if [ -d "$1" ]; then
				[ -x "$1" ] && [ -r "$1" ] || exit 1
				for f in "$1"/*; do [ ! -f "$f" ] || [ -r "$f" ] || exit 1; done
			else [ -r "$1" ]; fi' _ "$p" && continue
		echo "# $user (the web server's user) cannot read $p" >&2
		return 1
	done
}

# h_sandbox -- the sandbox, priced from our list; sets SANDBOX.
h_sandbox() {
	local sport
	sport=$(h_freeport) || return 1
	SANDBOX=http://127.0.0.1:$sport
	h_lighttpd sandbox "$sport" "$SANDBOX_FCGI" "${SANDBOX_PROCS:-4}" \
		"SANDBOX_DB=$H_DIR/sandbox.db" "SANDBOX_STRIPE_KEY=sk_test_sandbox" \
		"SANDBOX_TWILIO_SID=AC00000000000000000000000000000000" \
		"SANDBOX_TWILIO_TOKEN=sandbox_token" || return 1
	# The sandbox bills what our price list says (as in the quick start).
	sh "$abs_top_srcdir/scripts/sandbox-prices.sh" "$SANDBOX" "$abs_top_srcdir/sql/prices.sql"
}

# h_pg_start -- a PostgreSQL server of the test's own (Debian's
# postgresql-15): initdb in a directory of its own as an unprivileged user
# (postgres when the test runs as root), listening on a Unix socket in that
# directory only (no TCP port), stopped when the test exits. Sets H_PG (the
# directory), H_PG_PID, H_PG_URI (the service's database) and H_PG_PORT.
# The cluster is made once per build (a template in $TMPDIR named after the build, under a
# lock) and
# copied for each test.
h_pg_start() {
	local bin tmpl run=()
	bin=${PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
	if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
		echo "# no PostgreSQL server found (Debian: postgresql)" >&2
		return 1
	fi
	H_PG=$(mktemp -d "${TMPDIR:-/tmp}/purchase-pg.XXXXXX") || return 1
	chmod 755 "$H_PG"
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres "$H_PG"
		run=(runuser -u postgres --)
	fi
	# (beside H_PG, not in the build tree: the server's user must reach it
	# even when the checkout is in a directory only root can enter)
	tmpl=${TMPDIR:-/tmp}/purchase-pg-template.$(id -u).$(printf '%s' "$abs_top_builddir" | md5sum | cut -c1-12)
	(
		flock 9
		[ -f "$tmpl/PG_VERSION" ] && exit 0
		rm -rf "$tmpl.new" && mkdir -p "$tmpl.new" && chmod 700 "$tmpl.new" &&
			{ [ "$(id -u)" -ne 0 ] || chown postgres "$tmpl.new"; } &&
			"${run[@]}" "$bin/initdb" -D "$tmpl.new" -U purchase --auth=trust -E UTF8 \
				--locale=C -N >"$H_DIR/initdb.log" 2>&1 && mv "$tmpl.new" "$tmpl"
	) 9>"$abs_top_builddir/tests/pg-template.lock" || {
		echo "# initdb failed:" >&2
		tail -n 5 "$H_DIR/initdb.log" | sed 's/^/#   /' >&2
		return 1
	}
	cp -a "$tmpl" "$H_PG/data" || return 1
	H_PG_PORT=$(h_freeport) || return 1
	if ! "${run[@]}" "$bin/pg_ctl" -D "$H_PG/data" -l "$H_PG/server.log" -w -t 30 \
		-o "-k $H_PG -p $H_PG_PORT -c listen_addresses= -c max_connections=${H_PG_MAX_CONN:-200} ${H_PG_OPTS:-}" \
		start >/dev/null; then
		echo "# PostgreSQL did not start:" >&2
		tail -n 5 "$H_PG/server.log" | sed 's/^/#   /' >&2
		return 1
	fi
	H_PG_PID=$(head -n 1 "$H_PG/data/postmaster.pid")
	H_PIDS+=("$H_PG_PID")
	"$bin/createdb" -h "$H_PG" -p "$H_PG_PORT" -U purchase purchase || return 1
	H_PG_URI="postgresql:///purchase?host=$H_PG&port=$H_PG_PORT&user=purchase"
	export H_PG_URI
}

# h_config -- writes $H_DIR/purchase.conf for the sandbox; sets and exports
# PURCHASE_CONFIG.
h_config() {
	PURCHASE_CONFIG=$H_DIR/purchase.conf
	export PURCHASE_CONFIG
	cat >"$PURCHASE_CONFIG" <<EOF
# written by tests/harness.sh
database = ${H_PG_URI:-$H_DIR/purchase.db}
stripe_api_base = $SANDBOX
stripe_secret_key = sk_test_sandbox
stripe_webhook_secret = ${H_WEBHOOK_SECRET:-whsec_test}
release_margin_seconds = ${H_RELEASE_MARGIN:-3600}
twilio_api_base = $SANDBOX
twilio_account_sid = AC00000000000000000000000000000000
twilio_auth_token = sandbox_token
offer_ttl_seconds = ${H_OFFER_TTL:-3600}
provider_timeout_ms = ${H_PROVIDER_TIMEOUT_MS:-2000}
provider_connect_timeout_ms = 1000
purchase_rate_per_minute = ${H_PURCHASE_RATE:-0}
busy_timeout_ms = ${H_BUSY_TIMEOUT_MS:-2000}
search_rate_per_minute = ${H_SEARCH_RATE:-0}
EOF
}

# h_start [PROCS] -- sandbox and service (through $H_SERVER); sets SANDBOX,
# BASE, PURCHASE_CONFIG, H_ERRLOG. H_NODES=N (N > 1): N web servers, each
# with PROCS processes of its own, on their own ports and one database
# (H_DB=pg: several machines' worth); H_BASES their URLs (BASE the first),
# H_NODE_PIDS their web servers' PIDs.
h_start() {
	local procs=${1:-2} pport
	if [ "${H_DB:-sqlite}" = pg ] && [ -z "${H_PG_URI:-}" ]; then
		h_pg_start || return 1
	fi
	h_sandbox || return 1
	pport=$(h_freeport) || return 1
	BASE=http://127.0.0.1:$pport
	h_config
	"$PURCHASECTL" init || return 1
	"$PURCHASECTL" prices load "$abs_top_srcdir/sql/prices.sql" || return 1
	h_serve "$H_SERVER" "$pport" "$procs" || return 1
	H_BASES=("$BASE")
	H_NODE_PIDS=("${H_PIDS[-1]}")
	local n first=$BASE
	for n in $(seq 2 "${H_NODES:-1}"); do
		pport=$(h_freeport) || return 1
		BASE=http://127.0.0.1:$pport
		h_serve "$H_SERVER" "$pport" "$procs" || return 1
		H_BASES+=("$BASE")
		H_NODE_PIDS+=("${H_PIDS[-1]}")
	done
	BASE=$first
}

# h_customer PM -- a Stripe customer in the sandbox whose default payment
# method is PM attached (pm_card_visa, pm_card_chargeCustomerFail), or none
# when PM is "none". Prints the cus_ id.
h_customer() {
	local pm=$1 cus pmid
	cus=$(curl -sf -H "$H_SK" -d name=test "$SANDBOX/v1/customers" | jq -r .id) || return 1
	if [ "$pm" != none ]; then
		pmid=$(curl -sf -H "$H_SK" -d customer="$cus" \
			"$SANDBOX/v1/payment_methods/$pm/attach" | jq -r .id) || return 1
		curl -sf -H "$H_SK" -d "invoice_settings[default_payment_method]=$pmid" \
			"$SANDBOX/v1/customers/$cus" >/dev/null || return 1
	fi
	echo "$cus"
}

# h_account PM -- an account with a key; prints "ID KEY".
h_account() {
	local cus id key
	cus=$(h_customer "$1") || return 1
	id=$("$PURCHASECTL" account create --name "test $1" --stripe-customer "$cus") || return 1
	key=$("$PURCHASECTL" key create --account "$id") || return 1
	echo "$id $key"
}

# h_req METHOD PATH KEY [BODY] [extra curl args...] -- sets H_STATUS and
# H_BODY (the exact body bytes).
h_req() {
	local method=$1 path=$2 key=$3 body=${4-}
	shift 3
	[ $# -gt 0 ] && shift
	local args=(-s -X "$method" -o "$H_DIR/body" -w '%{http_code}' -D "$H_DIR/headers")
	[ -n "$key" ] && args+=(-H "Authorization: Bearer $key")
	if [ -n "$body" ]; then
		args+=(-H 'Content-Type: application/json' --data-binary "$body")
	fi
	H_STATUS=$(curl "${args[@]}" "$@" "$BASE$path")
	H_BODY=$(cat "$H_DIR/body")
}

h_header() {	# h_header NAME -- value of a header of the last reply
	tr -d '\r' <"$H_DIR/headers" | awk -v n="$(echo "$1" | tr 'A-Z' 'a-z')" \
		'BEGIN{FS=": "} tolower($1)==n {print substr($0, length($1)+3)}'
}

h_search() {	# h_search KEY QUERY -- sets H_STATUS/H_BODY
	h_req GET "/api/user/phone-numbers/search?$2" "$1"
}

h_buy() {	# h_buy KEY NUMBER [curl args] -- sets H_STATUS/H_BODY
	local key=$1 num=$2
	shift 2
	h_req POST /api/user/phone-numbers/purchase "$key" "{\"phone_number\":\"$num\"}" "$@"
}

h_ledger() { curl -sf "$SANDBOX/_sandbox/ledger"; }

h_fault() {	# h_fault OP KIND [COUNT] [DELAY_MS]
	local delay=""
	[ -n "${4:-}" ] && delay=",\"delay_ms\":$4"
	curl -sf -X POST -H 'Content-Type: application/json' \
		-d "{\"op\":\"$1\",\"fault\":\"$2\",\"count\":${3:-1}$delay}" \
		"$SANDBOX/_sandbox/faults" >/dev/null
}

# (with a busy timeout: a reader of a WAL database is refused for a moment
# while a plain-CGI process truncates the WAL on its way out)
# h_sql_json SQL -- the rows as a JSON array of objects (sqlite3 -json;
# json_agg on PostgreSQL).
h_sql_json() {
	if [ -n "${H_PG_URI:-}" ]; then
		h_sql "select coalesce(json_agg(t), '[]') from ($1) t"
	else
		h_sql -json "$1"
	fi
}

# h_lock_db SECONDS -- holds the database's write lock that long, in the
# background (its PID in $!): SQLite's BEGIN IMMEDIATE in the sqlite3 shell;
# on PostgreSQL, EXCLUSIVE locks (reads pass, writes wait) on every table.
h_lock_db() {
	if [ -n "${H_PG_URI:-}" ]; then
		psql -X -q "$H_PG_URI" -c "BEGIN; LOCK TABLE accounts, api_keys, prices, offers, \
search_rate, purchases, numbers, idempotency, stripe_events IN EXCLUSIVE MODE; \
SELECT pg_sleep($1); COMMIT;" >/dev/null &
	else
		(echo "BEGIN IMMEDIATE;"; sleep "$1"; echo "COMMIT;") | sqlite3 "$H_DIR/purchase.db" &
	fi
}

# h_sql SQL -- rows of the service's database, "|" between columns (the
# sqlite3 shell's output, and psql's unaligned one on PostgreSQL: H_DB=pg).
h_sql() {
	if [ -n "${H_PG_URI:-}" ]; then
		psql -X -A -t -q -v ON_ERROR_STOP=1 "$H_PG_URI" -c "$1"
	else
		sqlite3 -cmd ".timeout 5000" "$H_DIR/purchase.db" "$@"
	fi
}

# H_FI is 1 in a build configured with --enable-fault-injection: crash
# points and the test clock (PURCHASE_TEST_CLOCK_OFFSET) work only there.
H_FI=0
grep -q '^#define PURCHASE_FAULT_INJECTION 1' "$abs_top_builddir/autoconfig.h" 2>/dev/null && H_FI=1

# h_wait_due -- where the test clock cannot skip time (H_FI=0), waits (at
# most 15 s) until no unfinished purchase holds a lease or has a provider
# request still settling, so that recovery may take it over now.
h_wait_due() {
	local due i
	[ "$H_FI" = 1 ] && return 0
	for i in $(seq 150); do
		due=$(h_sql "select count(*) from purchases where open = 1 and
			(lease_until > $(date +%s) or settle_at > $(date +%s))")
		[ "$due" = 0 ] && return 0
		sleep 0.1
	done
	return 1
}

# h_bundle_possible -- whether this build can make the shared-hosting
# bundle (configure found the static archives; no sanitizers).
h_bundle_possible() {
	grep -q '^BUNDLE_LIBS = .*libsqlite3\.a' "$abs_top_builddir/Makefile" 2>/dev/null
}

# h_bundle -- make cgi-bundle, then the tarball (BUNDLE_TARBALL) unpacked in
# $H_DIR/unpacked, its top directory in BUNDLE. 1 when make failed, 2 when
# it left no tarball. Under a lock on the build tree: bundle.sh and
# minbase.sh run it at once under make -j, and two makes linking
# bundle/purchase.fcgi at once would clobber each other (the make is a
# child of make check's, but not one of its jobs: no MAKEFLAGS).
h_bundle() {
	local rc
	exec 8>"$abs_top_builddir/.cgi-bundle.lock" && flock 8 || return 1
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL "${MAKE:-make}" -s -C "$abs_top_builddir" \
		cgi-bundle >"$H_DIR/make.out" 2>&1
	rc=$?
	if [ $rc -ne 0 ]; then
		sed 's/^/# make: /' "$H_DIR/make.out" >&2
		exec 8>&-
		return 1
	fi
	BUNDLE_TARBALL=$(ls "$abs_top_builddir"/purchase-*-cgi-*.tar.gz 2>/dev/null | head -1)
	mkdir -p "$H_DIR/unpacked" && [ -f "$BUNDLE_TARBALL" ] &&
		tar -C "$H_DIR/unpacked" -xzf "$BUNDLE_TARBALL"
	rc=$?
	exec 8>&-
	[ $rc -eq 0 ] || return 2
	BUNDLE=$(ls -d "$H_DIR"/unpacked/purchase-*-cgi-* | head -1)
}

# h_debroot NAME [PACKAGES] -- prints the directory of a Debian 12 root
# (debootstrap --variant=minbase bookworm, with PACKAGES, comma-separated),
# built once and cached in $PURCHASE_TEST_CACHE (default
# ~/.cache/purchase-tests), from $DEBOOTSTRAP_MIRROR (default
# deb.debian.org). Built atomically: a half-built root is never used. Its
# log is $H_DIR/debootstrap-NAME.log.
h_debroot() {
	local cache=${PURCHASE_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/purchase-tests}
	local dir tmp
	dir=$cache/$1
	if [ ! -x "$dir/bin/sh" ]; then
		mkdir -p "$cache" || return 1
		tmp=$(mktemp -d "$cache/.build.XXXXXX") || return 1
		if ! debootstrap --variant=minbase ${2:+--include="$2"} bookworm "$tmp" \
			"${DEBOOTSTRAP_MIRROR:-http://deb.debian.org/debian}" >"$H_DIR/debootstrap-$1.log" 2>&1; then
			rm -rf "$tmp"
			return 1
		fi
		rm -rf "$dir" && mv "$tmp" "$dir" || return 1
	fi
	# mktemp made it 0700; as the root of a chroot it must be 0755, or no
	# user but root can reach /dev/null or /var in it.
	chmod 755 "$dir" || return 1
	echo "$dir"
}

# h_skip N REASON -- N test points skipped.
h_skip() {
	local i
	for i in $(seq "$1"); do
		H_TESTNO=$((H_TESTNO + 1))
		echo "ok $H_TESTNO # SKIP $2"
	done
}

# h_cgi METHOD PATH KEY BODY [VAR=VALUE...] -- runs purchase.fcgi as plain
# CGI (one request, then exit), as shared hosting would, with extra
# environment (PURCHASE_CRASH_AT, PURCHASE_TEST_CLOCK_OFFSET,
# HTTP_IDEMPOTENCY_KEY...). Sets H_STATUS (from the Status header, or
# "killed" when the process died), H_BODY and H_RC.
h_cgi() {
	local method=$1 path=$2 key=$3 body=$4
	shift 4
	printf '%s' "$body" >"$H_DIR/cgi.in"
	# Through an inner shell whose own stderr is dropped, so that a child
	# killed on purpose is not announced ("Killed") in the TAP stream.
	H_ERRF=$H_DIR/cgi.err bash -c '"$@" 2>>"$H_ERRF"; exit $?' _ \
		env -i PATH="$PATH" PURCHASE_CONFIG="$PURCHASE_CONFIG" \
		GATEWAY_INTERFACE=CGI/1.1 SERVER_PROTOCOL=HTTP/1.1 REQUEST_METHOD="$method" \
		REQUEST_URI="$path" SCRIPT_NAME=/purchase.fcgi CONTENT_TYPE=application/json \
		CONTENT_LENGTH="${#body}" HTTP_AUTHORIZATION="Bearer $key" "$@" \
		"$PURCHASE_FCGI" <"$H_DIR/cgi.in" >"$H_DIR/cgi.out" 2>/dev/null
	H_RC=$?
	if [ "$H_RC" -ne 0 ]; then
		H_STATUS=killed
		H_BODY=""
		return
	fi
	H_STATUS=$(sed -n 's/^Status: \([0-9]*\).*/\1/p' "$H_DIR/cgi.out" | tr -d '\r' | head -1)
	H_BODY=$(sed '1,/^\r\{0,1\}$/d' "$H_DIR/cgi.out")
}

# h_reconcile -- purchasectl reconcile; prints differences as TAP comments.
# Returns its exit status (0: none).
h_reconcile() {
	local out rc
	out=$("$PURCHASECTL" reconcile 2>&1)
	rc=$?
	[ $rc -ne 0 ] && printf "%s\n" "$out" | sed "s/^/#   /"
	return $rc
}

# h_fresh_number KEY -- sets NUM to a number offered to KEY that this test
# has not tried before (released numbers come back in searches).
H_USED=" "
h_fresh_number() {
	local n
	h_search "$1" "limit=50"
	for n in $(echo "$H_BODY" | jq -r '.data[].phone_number'); do
		case "$H_USED" in *" $n "*) continue ;; esac
		H_USED="$H_USED$n "
		NUM=$n
		return 0
	done
	return 1
}

# h_check_effects NUMBER DESC -- one TAP point: the latest purchase of
# NUMBER made at most one subscription and one payment, and the number was
# bought at most once, according to the sandbox's ledger.
h_check_effects() {
	local pid led subs paid buys
	pid=$(h_sql "select id from purchases where phone_number='$1' order by id desc limit 1")
	led=$(h_ledger)
	subs=$(echo "$led" | jq --arg p "$pid" '[.subscriptions[] | select(.metadata.purchase_id == $p)] | length')
	paid=$(echo "$led" | jq --arg p "$pid" '[.subscriptions[] | select(.metadata.purchase_id == $p) | .latest_invoice] as $inv | [.invoices[] | select(.id as $i | $inv | index($i)) | select(.paid)] | length')
	buys=$(echo "$led" | jq --arg n "$1" '[.numbers[] | select(.phone_number == $n)] | length')
	ok "$([ "$subs" -le 1 ] && [ "$paid" -le 1 ] && [ "$buys" -le 1 ]; echo $?)" \
		"$2: at most one subscription ($subs), payment ($paid), buy ($buys)"
}

# --- the number's life (issue 10) ----------------------------------------

# h_webhooks MODE [SECRET...] -- the sandbox sends its events to our
# webhook (auto: as they happen; manual: on h_deliver), signed with each
# SECRET (default: the configured whsec_test).
h_webhooks() {
	local mode=$1 secrets
	shift
	[ $# -eq 0 ] && set -- whsec_test
	secrets=$(printf '%s\n' "$@" | jq -R . | jq -sc .)
	curl -sf -H 'Content-Type: application/json' \
		-d "{\"url\":\"$BASE/api/webhooks/stripe\",\"secrets\":$secrets,\"mode\":\"$mode\"}" \
		"$SANDBOX/_sandbox/webhooks" >/dev/null
}

# h_deliver [JSON] -- delivers the pending events now (manual mode); JSON
# as /_sandbox/webhooks/deliver takes ({"order":"reverse","duplicates":2}).
h_deliver() {
	curl -sf -H 'Content-Type: application/json' -d "${1:-{\}}" \
		"$SANDBOX/_sandbox/webhooks/deliver"
}

# h_advance SECONDS -- the sandbox's clock (and its billing run) forward.
h_advance() {
	curl -sf -H 'Content-Type: application/json' -d "{\"advance\":$1}" \
		"$SANDBOX/_sandbox/clock" >/dev/null
}

# h_sandbox_now -- the sandbox's clock (Unix time).
h_sandbox_now() { curl -sf "$SANDBOX/_sandbox/clock" | jq -r .now; }

# h_wait_sql QUERY WANT [SECONDS] -- polls the database until QUERY gives
# WANT (webhook work happens after the reply, in the service's workers).
h_wait_sql() {
	local i
	for i in $(seq 1 $((${3:-10} * 10))); do
		[ "$(h_sql "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# h_sign BODY [SECRET] [T] -- a Stripe-Signature header value for BODY.
h_sign() {
	local t=${3:-$(date +%s)} sig
	sig=$(printf '%s.%s' "$t" "$1" | openssl dgst -sha256 -hmac "${2:-whsec_test}" | sed 's/^.*= //')
	echo "t=$t,v1=$sig"
}

# h_webhook BODY SIGNATURE -- posts BODY to our webhook; sets H_STATUS/H_BODY.
h_webhook() {
	H_STATUS=$(curl -s -o "$H_DIR/body" -D "$H_DIR/headers" -w '%{http_code}' \
		-H 'Content-Type: application/json; charset=utf-8' -H "Stripe-Signature: $2" \
		--data-binary "$1" "$BASE/api/webhooks/stripe")
	H_BODY=$(cat "$H_DIR/body")
}

# h_iso UNIX -- a time as the API writes it.
h_iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%S.000000Z; }

# h_bought KEY -- buys a fresh number for KEY; sets NUM and NID (its id).
h_bought() {
	h_fresh_number "$1" || return 1
	h_buy "$1" "$NUM"
	[ "$H_STATUS" = 201 ] || return 1
	NID=$(echo "$H_BODY" | jq -r .data.id)
}
