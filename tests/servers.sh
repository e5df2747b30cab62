#!/bin/bash
# servers.sh -- the integration suite of the purchase endpoints
# (purchase-table.sh: exact statuses and bodies, ledger checks) and the
# deployment checks (deploy-checks.sh: configuration, Authorization, log
# lines, graceful stop) through every way the service is deployed, each
# started from its shipped configuration in apache-conf/ (tests/harness.sh,
# H_SERVER): lighttpd + mod_fastcgi, Apache + mod_fcgid, Apache +
# mod_proxy_fcgi to a Unix socket (spawn-fcgi), Apache plain CGI through the
# shipped .htaccess, and Apache + mod_fcgid through the same .htaccess (a
# shared host with mod_fcgid). Every sub-result is re-emitted with the
# server's name (h_subrun), and the purchase suite must give the same
# results on all of them. A server is skipped only when its packages are
# not installed.
: "${abs_top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
. "$abs_top_srcdir/tests/harness.sh"

SERVERS=${SERVERS:-lighttpd apache-fcgid apache-proxy-fcgi apache-cgi apache-htaccess-fcgid}
baseline=""

for s in $SERVERS; do
	missing=$(h_server_missing "$s")
	if [ -n "$missing" ]; then
		H_TESTNO=$((H_TESTNO + 1))
		echo "ok $H_TESTNO - [$s] # SKIP not installed:$missing"
		continue
	fi
	h_subrun "$s" purchase-table.sh
	h_subrun "$s" deploy-checks.sh
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
