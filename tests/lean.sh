#!/bin/bash
# lean.sh -- what the request path is allowed to cost (issue 4), proved on
# the real binary run as plain CGI, one process per request, traced with
# strace (a child of the test, so no privilege is needed):
#
#  - a purchase fsyncs exactly once (issue 11), of the WAL: the commit of
#    "provisioned", before the payment, which makes durable the claim and
#    everything the 201 is made of; none fewer (durability), none more
#    (speed). Not
#    counted: the WAL cycle -- a checkpoint syncs the WAL and the database
#    file, and the first commit after the WAL starts over syncs its new
#    header (a 32-byte write at offset 0, traced too);
#  - a WAL checkpoint (syncs of the database file) happens only after the
#    answer has left: stdout is closed before the first sync of the
#    database file; and a plain-CGI process leaves the WAL empty;
#  - a search fsyncs nothing of its own;
#  - libcurl is not linked, and is loaded only by a request that calls a
#    provider: health does not load it, a search does.
: "${abs_top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
. "$abs_top_srcdir/tests/harness.sh"

if ! command -v strace >/dev/null || ! strace -o /dev/null true 2>/dev/null; then
	echo "1..0 # SKIP strace is missing or cannot trace here"
	exit 0
fi

BUY=/api/user/phone-numbers/purchase
SYNCS=' (fsync|fdatasync)\('	# strace -f -o: "PID call(...)"

h_start 1 || { echo "Bail out! cannot start the stack"; exit 1; }
read -r A_ID A_KEY < <(h_account pm_card_visa)

# traced -- counts in $H_DIR/trace (strace -y): syncs of the WAL and of
# the database file, WAL header writes; sets OWN, the request's own syncs
# (WAL syncs less one per checkpoint and one per WAL restart), DB_SYNCS
traced() {
	local wal restarts
	wal=$(grep -cE "$SYNCS[0-9]+<[^>]*\\.db-wal>" "$H_DIR/trace" || true)
	DB_SYNCS=$(grep -cE "$SYNCS[0-9]+<[^>]*\\.db>" "$H_DIR/trace" || true)
	restarts=$(grep -cE ' pwrite64\([0-9]+<[^>]*\.db-wal>, .*, 32, 0\) = 32' "$H_DIR/trace" || true)
	OWN=$((wal - DB_SYNCS - restarts))
	WAL_WRITES=$(grep -cE ' pwrite64\([0-9]+<[^>]*\.db-wal>' "$H_DIR/trace" || true)
}
# (LeakSanitizer cannot run under ptrace: off for the traced processes of
# a sanitizer build; the rest of the suite checks leaks.)
TRACE=(ASAN_OPTIONS=detect_leaks=0 strace -f -y -e trace=fsync,fdatasync,close,pwrite64 -o "$H_DIR/trace")

# fresh -- NUM: a number offered to A_KEY by a search run as plain CGI (so
# that every write, and so every checkpoint, is made by a CGI process: the
# FastCGI worker of the stack stays idle).
USED=" "
fresh() {
	local x
	NUM=""
	h_cgi GET "/api/user/phone-numbers/search?limit=50" "$A_KEY" ""
	for x in $(echo "$H_BODY" | jq -r '.data[].phone_number' 2>/dev/null); do
		case "$USED" in *" $x "*) continue ;; esac
		USED="$USED$x "
		NUM=$x
		return
	done
}

# Purchases, until one of them has checkpointed after its reply (a
# checkpoint comes every ~1000 WAL pages, a few dozen purchases).
ckpt=0 n=0 exact=0 walw=0
while [ $n -lt 80 ]; do
	fresh
	[ -n "$NUM" ] || { diag "no number offered"; break; }
	h_cgi POST $BUY "$A_KEY" "{\"phone_number\":\"$NUM\"}" "${TRACE[@]}"
	[ "$H_STATUS" = 201 ] || { diag "purchase $n: $H_STATUS $H_BODY"; break; }
	n=$((n + 1))
	traced
	[ "$OWN" -eq 1 ] && exact=$((exact + 1))
	walw=$((walw + WAL_WRITES))
	if [ "$DB_SYNCS" -gt 0 ] && [ $ckpt -eq 0 ]; then
		ckpt=$n
		first_db=$(grep -nE "$SYNCS[0-9]+<[^>]*\\.db>" "$H_DIR/trace" | head -1 | cut -d: -f1)
		closed=$(grep -nE ' close\(1<' "$H_DIR/trace" | head -1 | cut -d: -f1)
		ok "$([ -n "$closed" ] && [ -n "$first_db" ] && [ "$closed" -lt "$first_db" ]; echo $?)" \
			"the checkpoint (purchase $n) came after stdout was closed, not before the reply"
		is "$(stat -c %s "$H_DIR/purchase.db-wal")" 0 \
			"a plain-CGI process leaves the WAL empty (truncated): the next one has nothing to reread"
		is "$(h_sql "select state from purchases where phone_number = '$NUM'")" complete \
			"that purchase is complete"
		[ $n -ge 5 ] && break
	fi
	[ $ckpt -gt 0 ] && [ $n -ge 5 ] && break
done
ok "$([ $n -ge 5 ]; echo $?)" "purchases as plain CGI under strace: $n of them, all 201"
is "$exact" "$n" "each purchase synced the WAL exactly once in its request (provisioned, before the payment)"
ok "$([ $ckpt -gt 0 ]; echo $?)" "a WAL checkpoint happened within $n purchases (at purchase $ckpt)"
# Three write transactions, each written to the WAL as one write
# (lib/store-vfs.c); a WAL restart adds its header.
ok "$([ "$walw" -le $((3 * n + 2)) ]; echo $?)" \
	"WAL writes: $walw in $n purchases, one per transaction (at most $((3 * n + 2)))"

# A search: offers are worth no fsync.
h_cgi GET "/api/user/phone-numbers/search?limit=5" "$A_KEY" "" "${TRACE[@]}"
is "$H_STATUS" 200 "search as plain CGI: 200"
traced
is "$OWN" 0 "a search syncs nothing of its own"

# libcurl: not linked; loaded by the first provider call only.
bin=$PURCHASE_FCGI
[ -x "$(dirname "$bin")/.libs/$(basename "$bin")" ] && bin=$(dirname "$bin")/.libs/$(basename "$bin")
ok "$(! LD_LIBRARY_PATH="$abs_top_builddir/lib/.libs" ldd "$bin" | grep -q libcurl; echo $?)" \
	"purchase.fcgi is not linked with libcurl"
h_cgi GET /api/health "" "" LD_DEBUG=libs LD_DEBUG_OUTPUT="$H_DIR/ld-health"
is "$H_STATUS" 200 "health as plain CGI: 200"
ok "$(! cat "$H_DIR"/ld-health.* | grep -q 'calling init: .*libcurl'; echo $?)" \
	"health does not load libcurl"
h_cgi GET "/api/user/phone-numbers/search?limit=5" "$A_KEY" "" LD_DEBUG=libs LD_DEBUG_OUTPUT="$H_DIR/ld-search"
is "$H_STATUS" 200 "search as plain CGI: 200"
ok "$(cat "$H_DIR"/ld-search.* | grep -q 'calling init: .*libcurl'; echo $?)" \
	"a search (a provider call) loads libcurl"

plan "$H_TESTNO"
h_done
