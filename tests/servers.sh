#!/bin/bash
# servers.sh -- the integration suite of the purchase endpoints
# (purchase-table.sh: exact statuses and bodies, ledger checks) and the
# deployment checks (deploy-checks.sh: configuration, Authorization, log
# lines, graceful stop) through every way the service is deployed, each
# started from its shipped configuration in apache-conf/ (tests/harness.sh,
# H_SERVER): lighttpd + mod_fastcgi, Apache + mod_fcgid, Apache +
# mod_proxy_fcgi to a Unix socket (spawn-fcgi), Apache plain CGI through the
# shipped .htaccess. Every sub-result is re-emitted with the server's name,
# and the purchase suite must give the same results on all of them. A server
# is skipped only when its packages are not installed.
: "${abs_top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
. "$abs_top_srcdir/tests/harness.sh"

SERVERS=${SERVERS:-lighttpd apache-fcgid apache-proxy-fcgi apache-cgi}
baseline=""

# run SERVER SCRIPT -- runs SCRIPT through SERVER, re-emits its results;
# leaves "ok|not ok - description" lines in $H_DIR/SERVER.SCRIPT.res.
run() {
	local server=$1 script=$2 out=$H_DIR/$1.$2 line rc
	H_SERVER=$server bash "$abs_top_srcdir/tests/$script" >"$out.tap" 2>"$out.err"
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
	[ $rc -eq 0 ] || sed -n '1,40p' "$out.err" | sed 's/^/#   /' >&2
}

for s in $SERVERS; do
	missing=$(h_server_missing "$s")
	if [ -n "$missing" ]; then
		H_TESTNO=$((H_TESTNO + 1))
		echo "ok $H_TESTNO - [$s] # SKIP not installed:$missing"
		continue
	fi
	run "$s" purchase-table.sh
	run "$s" deploy-checks.sh
	if [ -z "$baseline" ]; then
		baseline=$s
	else
		diff "$H_DIR/$baseline.purchase-table.sh.res" "$H_DIR/$s.purchase-table.sh.res" \
			| sed 's/^/#   /' >&2
		is "$(cat "$H_DIR/$s.purchase-table.sh.res")" "$(cat "$H_DIR/$baseline.purchase-table.sh.res")" \
			"[$s] the same results as $baseline"
	fi
done

plan "$H_TESTNO"
h_done
