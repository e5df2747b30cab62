#!/bin/bash
# deploy-checks.sh -- what a deployment must show beyond the API's answers,
# through ${H_SERVER:-lighttpd} started from its shipped configuration
# (tests/harness.sh): the configuration reaches the responder (health 200),
# Authorization reaches it (an authenticated search), its stderr lines land
# in the server's log with the request id, and a process manager's SIGTERM
# or SIGUSR1 lets the request in flight finish (a purchase is never cut in
# half); through the shipped .htaccess, nothing of its directory but the API
# is served. Run for every server by tests/servers.sh.
: "${abs_top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
. "$abs_top_srcdir/tests/harness.sh"

h_start 2 || { echo "Bail out! cannot start the stack through $H_SERVER"; exit 1; }
read -r A_ID A_KEY < <(h_account pm_card_visa)

h_req GET /api/health ""
is "$H_STATUS" 200 "health through $H_SERVER (configuration found)"

rid=deploy-$H_SERVER-$$
h_req GET "/api/user/phone-numbers/search?limit=3" "$A_KEY" "" -H "X-Request-Id: $rid"
is "$H_STATUS" 200 "authenticated search (Authorization passed through)"
is "$(h_header X-Request-Id)" "$rid" "the client's X-Request-Id is sent back"
for _ in $(seq 1 20); do
	grep -q "purchase\[[0-9]*\]: req=$rid GET /api/user/phone-numbers/search 200" "$H_ERRLOG" 2>/dev/null && break
	sleep 0.1
done
grep -q "purchase\[[0-9]*\]: req=$rid GET /api/user/phone-numbers/search 200" "$H_ERRLOG"
ok $? "the log line with the request id is in the server's log ($(basename "$H_ERRLOG"))"

# The responder processes this test started: descendants of the web server
# (lighttpd, Apache: mod_fcgid's process manager is an Apache child) or the
# spawn-fcgi children (in H_PIDS too).
descendants() {
	local p c
	for p in "$@"; do
		for c in $(pgrep -P "$p"); do
			echo "$c"
			descendants "$c"
		done
	done
}
responders() {
	local p
	for p in "${H_PIDS[@]}" $(descendants "${H_PIDS[@]}"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = purchase.fcgi ] && echo "$p"
	done | sort -u
}

graceful() {	# graceful SIGNAL -- a purchase in flight survives SIGNAL
	local sig=$1 n pids pid gone
	n=$(echo "$H_BODY" | jq -r '.data[0].phone_number')
	h_fault invoice_pay delay 1 1500
	{ h_buy "$A_KEY" "$n" -H "X-Request-Id: graceful-$sig-$$"; echo "$H_STATUS" >"$H_DIR/graceful.status"; } &
	local bg=$!
	for _ in $(seq 1 100); do
		[ "$(h_sql "select count(*) from purchases where phone_number='$n'")" = 1 ] && break
		sleep 0.05
	done
	sleep 0.2
	pids=$(responders)
	[ -n "$pids" ] || diag "no responder process found"
	kill -s "$sig" $pids 2>/dev/null
	wait $bg
	is "$(cat "$H_DIR/graceful.status") $(h_sql "select state from purchases where phone_number='$n'")" "201 complete" \
		"SIGNAL $sig during a purchase: the client got its 201, the purchase is complete"
	pid=$(sed -n "s/.*purchase\[\([0-9]*\)\]: req=graceful-$sig-$$ POST .* 201 .*/\1/p" "$H_ERRLOG" | head -1)
	ok "$([ -n "$pid" ]; echo $?)" "SIGNAL $sig: the 201 was logged with its request id"
	gone=1
	for _ in $(seq 1 50); do
		# gone, or a zombie its manager has not reaped yet
		case $(sed "s/.*) //" "/proc/$pid/stat" 2>/dev/null | cut -c1) in
		""|Z) gone=0; break ;;
		esac
		sleep 0.1
	done
	ok "$gone" "SIGNAL $sig: the process exited after its request"
}

if [ -n "${H_DOCROOT:-}" ]; then
	# The shipped .htaccess is an allow-list: beside the API, nothing of
	# its directory is served, whatever the name or its case -- the
	# database, the configuration, their backups and editor files,
	# dot-files, the binary by its own name. Each file holds a marker that
	# must not come back. The same files in a directory without that
	# .htaccess are served, so the 403s are its doing (not permissions).
	files="purchase.db purchase.db-wal purchase.db-shm purchase.db-journal purchase.conf
		prices.sql .htaccess purchase.conf~ purchase.conf.bak purchase.conf.orig
		purchase.conf.old purchase.conf.save purchase.conf.swp .purchase.conf.swp
		.purchase.conf.un~ #purchase.conf# purchase.conf.1 purchase.db.bak purchase.db~
		purchase.db.1 purchase.db.gz purchase.sqlite purchase.sqlite3 backup.tar.gz
		PURCHASE.CONF Purchase.Conf PURCHASE.DB Purchase.Db PURCHASE.DB.BAK .HTACCESS
		.env .htpasswd .git/config readme.txt index.html purchase.fcgi.bak purchase.fcgi~
		PURCHASE.FCGI sub/purchase.db sub/purchase.conf"
	plain=$(dirname "$H_DOCROOT")/plain
	url() { jq -rn --arg s "$1" '$s | split("/") | map(@uri) | join("/")'; }
	served=""
	for f in $files; do
		mkdir -p "$(dirname "$H_DOCROOT/$f")" "$(dirname "$plain/$f")"
		[ -e "$H_DOCROOT/$f" ] || echo "secret-$f" >"$H_DOCROOT/$f"
		case $f in
		.htaccess | .HTACCESS) ;;
		*)	echo "secret-$f" >"$plain/$f"
			[ "$(curl -s "${BASE%/*}/plain/$(url "$f")")" = "secret-$f" ] || served="$served $f" ;;
		esac
	done
	is "$served" "" "the same files are served from a directory without the .htaccess"
	for f in $files "" purchase.fcgi purchase.fcgi/api/health; do
		code=$(curl -s -o "$H_DIR/leak" -w '%{http_code}' "$BASE/$(url "$f")")
		is "$code $(grep -c secret "$H_DIR/leak")" "403 0" ".htaccess refuses '$f'"
	done
fi

case $H_SERVER in
apache-cgi)
	echo "ok $((H_TESTNO + 1)) - # SKIP plain CGI: one process per request, no process manager"
	H_TESTNO=$((H_TESTNO + 1)) ;;
*)
	h_search "$A_KEY" "limit=3"
	graceful TERM
	if [ "$H_SERVER" != apache-proxy-fcgi ]; then
		# The manager starts new processes; spawn-fcgi does not.
		h_search "$A_KEY" "limit=5"
		is "$H_STATUS" 200 "after SIGTERM the server serves again"
		H_BODY=$(echo "$H_BODY" | jq -c '{data: .data[3:]}')
		graceful USR1
	fi ;;
esac

plan "$H_TESTNO"
h_done
