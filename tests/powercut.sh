#!/bin/bash
# powercut.sh -- a power cut in the middle of a purchase (issue 11): only
# what was synced survives, and what the providers hold is repaired.
#
# A purchase syncs the WAL once, at the commit before its payment
# ("provisioned"); the claim before it and the finish after it are not
# synced. The purchase runs as plain CGI (no server holds the database
# open) under tests/powercut.c, which logs the WAL's size at each of its
# syncs, and is killed at a crash point; the cut then drops the WAL's tail
# past the last synced size and the shared-memory index, as losing power
# would. Two cuts:
#
#   after_buy: subscription created, number bought, nothing synced -- the
#     purchase is gone from our rows; reconcile finds the incomplete
#     subscription and the number (tagged with the lost nonce), and
#     `reconcile --repair` (once they are an hour old, on the test clock)
#     cancels the one and releases the other; a number that is not ours
#     (no tag) is reported and left alone; the client's retry then buys.
#   after_finish: the 201 stored (not synced) -- the purchase is back at
#     "provisioned"; recovery finishes it with the same payment (its
#     Idempotency-Key), and the client's retry gets the same 201.
: "${abs_top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
. "$abs_top_srcdir/tests/harness.sh"

if [ "$H_FI" != 1 ]; then
	echo "1..0 # SKIP needs a build configured with --enable-fault-injection"
	exit 0
fi
if ! command -v cc >/dev/null; then
	echo "1..0 # SKIP needs a C compiler for the LD_PRELOAD shim"
	exit 0
fi

BUY=/api/user/phone-numbers/purchase
LATER=PURCHASE_TEST_CLOCK_OFFSET=600
HOUR_LATER=PURCHASE_TEST_CLOCK_OFFSET=4000
SHIM=$H_DIR/powercut.so
PCLOG=$H_DIR/powercut.log
DB=$H_DIR/purchase.db
cc -shared -fPIC -o "$SHIM" "$abs_top_srcdir/tests/powercut.c" -ldl ||
	{ echo "Bail out! cannot build the shim"; exit 1; }

# The stack without the service's server: every request is a CGI process.
h_sandbox || { echo "Bail out! cannot start the sandbox"; exit 1; }
h_config
"$PURCHASECTL" init && "$PURCHASECTL" prices load "$abs_top_srcdir/sql/prices.sql" ||
	{ echo "Bail out! cannot create the database"; exit 1; }
read -r A_ID A_KEY < <(h_account pm_card_visa)

# pc_number -- sets NUM to a number a search (CGI) offers to A.
pc_number() {
	h_cgi GET /api/user/phone-numbers/search "$A_KEY" "" QUERY_STRING="limit=50"
	NUM=$(echo "$H_BODY" | jq -r --arg used "$H_USED" \
		'[.data[].phone_number | select(. as $n | $used | contains(" " + $n + " ") | not)][0]')
	H_USED="$H_USED$NUM "
}

# pc_buy_killed POINT IDEM -- the purchase of NUM killed at POINT, the WAL
# emptied first (so that it only grows while the purchase runs) and the
# shim logging its syncs.
pc_buy_killed() {
	h_sql "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
	: >"$PCLOG"
	DB_SUM=$(cksum <"$DB")
	h_cgi POST $BUY "$A_KEY" "{\"phone_number\":\"$NUM\"}" HTTP_IDEMPOTENCY_KEY="$2" \
		PURCHASE_CRASH_AT="$1" LD_PRELOAD="$SHIM" POWERCUT_LOG="$PCLOG" \
		ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0
	is "$H_STATUS" killed "$1: the purchase died at the crash point"
}

# pc_cut -- the power cut: the WAL past its last synced size and the
# shared-memory index are lost. (The database file itself is only written
# by checkpoints, which synced before they ran; none ran meanwhile.)
pc_cut() {
	local synced
	synced=$(tail -n 1 "$PCLOG")
	is "$(cksum <"$DB")" "$DB_SUM" "no checkpoint wrote the database file meanwhile"
	diag "WAL: $(stat -c %s "$DB-wal") bytes written, ${synced:-0} synced"
	truncate -s "${synced:-0}" "$DB-wal"
	rm -f "$DB-shm"
}

ledger_sub() {	# ledger_sub NONCE -- status of the subscription of that nonce
	h_ledger | jq -r --arg n "$1" '[.subscriptions[] | select(.metadata.purchase_nonce == $n)][0].status'
}
ledger_number() {	# ledger_number NUMBER -- status of its latest buy
	h_ledger | jq -r --arg n "$1" '[.numbers[] | select(.phone_number == $n)][-1].status'
}

# --- 1. cut after the buy: nothing synced ----------------------------------
pc_number
pc_buy_killed after_buy "cut-1"
nonce=$(h_ledger | jq -r --arg n "$NUM" \
	'[.subscriptions[] | select(.metadata.purchase_nonce != null)][-1].metadata.purchase_nonce')
is "$(ledger_sub "$nonce") $(ledger_number "$NUM")" "incomplete owned" \
	"after_buy: Stripe holds an incomplete subscription, Twilio the number"
is "$(h_ledger | jq -r --arg n "$NUM" '[.numbers[] | select(.phone_number == $n)][-1].sid' |
	xargs -I{} curl -s -u AC00000000000000000000000000000000:sandbox_token \
	"$SANDBOX/2010-04-01/Accounts/AC00000000000000000000000000000000/IncomingPhoneNumbers.json?PhoneNumber=$(printf %s "$NUM" | jq -sRr @uri)" |
	jq -r '.incoming_phone_numbers[0].friendly_name' | cut -d: -f1,2)" "purchase:$nonce" \
	"after_buy: the number is tagged with the purchase's nonce"
pc_cut
is "$(h_sql "select count(*) from purchases where nonce = '$nonce'")" 0 \
	"after_buy: the cut took the claim (it was never synced)"
is "$(h_sql "pragma integrity_check")" ok "after_buy: the database is sound after the cut"

# A number at the carrier that is not ours (no tag): never touched.
lost=$NUM
pc_number
foreign=$NUM
NUM=$lost
curl -sf -u AC00000000000000000000000000000000:sandbox_token --data-urlencode PhoneNumber="$foreign" \
	"$SANDBOX/2010-04-01/Accounts/AC00000000000000000000000000000000/IncomingPhoneNumbers.json" >/dev/null

out=$("$PURCHASECTL" reconcile 2>&1)
is "$?" 1 "after the cut: reconcile finds differences"
echo "$out" | grep -q "^orphan_subscription.*$nonce"
ok $? "reconcile: the incomplete subscription of the lost purchase"
echo "$out" | grep -q "^orphan_number.*$NUM.*$nonce"
ok $? "reconcile: the number bought by the lost purchase"
out=$("$PURCHASECTL" reconcile --repair 2>&1)
is "$(echo "$out" | grep -c '^repaired')" 0 "reconcile --repair: nothing younger than an hour"
is "$(ledger_sub "$nonce") $(ledger_number "$NUM")" "incomplete owned" \
	"reconcile --repair: both still there"
out=$(env $HOUR_LATER "$PURCHASECTL" reconcile --repair 2>&1)
rc=$?
echo "$out" | sed 's/^/#   /' >&2
is "$(echo "$out" | grep -c '^repaired')" 2 "an hour later, reconcile --repair: two repairs"
is "$(ledger_sub "$nonce") $(ledger_number "$NUM")" "canceled released" \
	"the subscription cancelled, the number released"
echo "$out" | grep -q "^orphan_number.*$foreign.*left alone"
ok $? "the untagged number is reported and left alone"
is "$(ledger_number "$foreign")" owned "the untagged number is still held"
is "$rc" 1 "reconcile --repair exits 1: the untagged number is still a difference"
is "$(h_ledger | jq '[.invoices[] | select(.paid)] | length')" 0 "no money moved"

# The client, who never had an answer, retries with the same key: a new
# purchase (the old one never existed for it), which completes.
h_cgi POST $BUY "$A_KEY" "{\"phone_number\":\"$NUM\"}" HTTP_IDEMPOTENCY_KEY="cut-1"
is "$H_STATUS" 201 "after the repair, the client's retry buys the number"
curl -sf -u AC00000000000000000000000000000000:sandbox_token -X DELETE \
	"$SANDBOX/2010-04-01/Accounts/AC00000000000000000000000000000000/IncomingPhoneNumbers/$(h_ledger |
	jq -r --arg n "$foreign" '[.numbers[] | select(.phone_number == $n)][-1].sid').json" >/dev/null
h_reconcile
ok $? "reconcile finds no difference"

# --- 2. cut after the finish: the 201 was sent, the finish not synced -------
pc_number
pc_buy_killed after_finish "cut-2"
pc_cut
is "$(h_sql "select state from purchases where phone_number = '$NUM'")" provisioned \
	"after_finish: the cut took the finish, the synced provisioned state is there"
env $LATER "$PURCHASECTL" recover 2>/dev/null
is "$(h_sql "select state from purchases where phone_number = '$NUM'")" complete \
	"recovery finishes it"
h_cgi POST $BUY "$A_KEY" "{\"phone_number\":\"$NUM\"}" HTTP_IDEMPOTENCY_KEY="cut-2"
is "$H_STATUS $(echo "$H_BODY" | jq -r .data.phone_number)" "201 $NUM" \
	"the client's retry gets its 201"
pid=$(h_sql "select id from purchases where phone_number = '$NUM'")
is "$(h_ledger | jq --arg p "$pid" '[.subscriptions[] | select(.metadata.purchase_id == $p)] as $s |
	[.invoices[] | select(.paid) | select(.subscription as $i | $s | map(.id) | index($i))] | length')" 1 \
	"one payment: recovery's pay had the same Idempotency-Key"
h_reconcile
ok $? "reconcile finds no difference"

plan "$H_TESTNO"
h_done
