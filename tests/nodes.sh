#!/bin/bash
# nodes.sh -- several web nodes, one PostgreSQL (issue 14): three lighttpd
# instances, each with its own FastCGI workers on its own port, against one
# PostgreSQL server of the test's own. First the race suite through them
# (RACE_ROUNDS rounds of 50 buyers of one number, spread over the three:
# exactly one 201 a round, no 5xx, one sale at the providers). Then a node
# is SIGKILLed -- its web server and every worker -- while a purchase of its
# waits on the carrier; the recovery run from another node finishes it,
# reconcile finds no difference. Then six purchases left behind by killed
# workers, and `purchasectl recover` on three nodes at the same instant: no
# purchase is driven twice (each effect once at the providers), all end.
: "${abs_top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
. "$abs_top_srcdir/tests/harness.sh"

if ! grep -q '^#define PURCHASE_FAULT_INJECTION 1' "$abs_top_builddir/autoconfig.h" 2>/dev/null; then
	echo "1..0 # SKIP needs a build configured with --enable-fault-injection"
	exit 0
fi

[ "${NODES_RACE:-1}" = 1 ] && h_subrun lighttpd race.sh H_DB=pg H_NODES=3 RACE_PROCS=2

BUY=/api/user/phone-numbers/purchase
LATER=PURCHASE_TEST_CLOCK_OFFSET=600	# past any lease
H_DB=pg H_NODES=3 h_start 2 || { echo "Bail out! cannot start three nodes"; exit 1; }
is "${#H_BASES[@]}" 3 "three nodes, one database"
read -r A_ID A_KEY < <(h_account pm_card_visa)

# --- a node dies mid-purchase ------------------------------------------------
h_fresh_number "$A_KEY"
num=$NUM
h_fault number_buy delay 1 1500	# (within provider_timeout_ms)
curl -s -m 30 -o "$H_DIR/dying.body" -w '%{http_code}' -X POST -H "Authorization: Bearer $A_KEY" \
	-H 'Content-Type: application/json' -H 'Idempotency-Key: dying-node' \
	--data-binary "{\"phone_number\":\"$num\"}" "${H_BASES[1]}$BUY" >"$H_DIR/dying.status" 2>/dev/null &
client=$!
for _ in $(seq 50); do
	[ "$(h_sql "select count(*) from purchases where phone_number='$num'")" = 1 ] && break
	sleep 0.1
done
sleep 0.5	# (in the carrier's 1.5 s)
node=${H_NODE_PIDS[1]}
workers=$(pgrep -P "$node" | tr '\n' ' ')
kill -9 "$node" $workers 2>/dev/null
wait "$node" "$client" 2>/dev/null
alive() { local p; for p in "$@"; do ps -o stat= -p "$p" 2>/dev/null | grep -qv Z && return 0; done; return 1; }
for _ in $(seq 20); do alive $workers || break; sleep 0.1; done
alive "$node" $workers
ok $((! $?)) "node 2 SIGKILLed mid-purchase: its web server and its workers (${workers% }) are gone"
is "$(cat "$H_DIR/dying.status")" 000 "its client got no answer"
is "$(h_sql "select count(*) from purchases where phone_number='$num' and open = 1")" 1 \
	"its purchase is left unfinished"
sleep 3	# (the carrier carries out the buy it was sent)
# Node 3 serves on meanwhile.
h_req GET /api/user/phone-numbers "$A_KEY"
is "$H_STATUS" 200 "node 1 answers meanwhile" # (BASE is node 1)
BASE=${H_BASES[2]} h_search "$A_KEY" "limit=1"
is "$H_STATUS" 200 "node 3 answers meanwhile"
env $LATER "$PURCHASECTL" recover 2>>"$H_DIR/recover.err"
ok $? "recovery (run from another node) finishes it"
is "$(h_sql "select state || ' ' || outcome from purchases where phone_number='$num'")" \
	"failed provider" "the dead node's purchase is at rest: undone, as nothing was paid"
h_reconcile
ok $? "reconcile: no difference after the dead node"
h_check_effects "$num" "dead node"
curl -s -o "$H_DIR/again.body" -w '%{http_code}' -X POST -H "Authorization: Bearer $A_KEY" \
	-H 'Content-Type: application/json' -H 'Idempotency-Key: dying-node' \
	--data-binary "{\"phone_number\":\"$num\"}" "${H_BASES[2]}$BUY" >"$H_DIR/again.status"
is "$(cat "$H_DIR/again.status") $(jq -r .code "$H_DIR/again.body")" "500 provider_error" \
	"the client's retry on node 3: the answer recovery stored for its key"

# --- recovery on every node at once -----------------------------------------
points=(after_claim after_subscribe after_buy after_provision before_pay after_pay)
nums=()
for point in "${points[@]}"; do
	h_fresh_number "$A_KEY"
	nums+=("$NUM")
	h_cgi POST $BUY "$A_KEY" "{\"phone_number\":\"$NUM\"}" PURCHASE_CRASH_AT="$point"
done
is "$(h_sql "select count(*) from purchases where open = 1")" ${#points[@]} \
	"${#points[@]} purchases left behind by killed workers"
pids=()
for n in 1 2 3; do
	env $LATER "$PURCHASECTL" recover >"$H_DIR/recover.$n.out" 2>"$H_DIR/recover.$n.err" &
	pids+=($!)
done
rc=0
for p in "${pids[@]}"; do
	wait "$p"
	case $? in 0 | 3) ;; *) rc=1 ;; esac # (3: some were another's)
done
ok $rc "purchasectl recover on three nodes at the same instant: no error"
is "$(cat "$H_DIR"/recover.*.err | sed -n 's/^purchasectl: recover: \([0-9]*\) finished.*/\1/p' |
	awk '{ n += $1 } END { print n }')" ${#points[@]} \
	"between them they finished ${#points[@]}: none twice"
is "$(cat "$H_DIR"/recover.*.err | grep -o 'purchase=[0-9]* taken' | sort | uniq -d | wc -l)" 0 \
	"no purchase was taken by two of them"
is "$(h_sql "select count(*) from purchases where open = 1")" 0 "every one of them finished"
for i in "${!points[@]}"; do
	h_check_effects "${nums[$i]}" "recovered from ${points[$i]}"
done
h_reconcile
ok $? "reconcile: no difference after three recoveries at once"

plan "$H_TESTNO"
h_done
