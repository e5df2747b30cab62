#!/bin/bash
# race.sh -- TAP integration test of concurrent buyers (DESIGN §3, claim:
# "the database decides, not a pre-check"): 20 parallel purchases of one
# number from two accounts that were both offered it, against 4 FastCGI
# processes. Exactly one 201, nineteen 400 "already in use", no 5xx; the
# sandbox's ledger shows one subscription, one paid invoice and one owned
# number for it, each effect once; our database has one number and one
# live purchase; only the winner made any provider call (the claim comes
# first). RACE_ROUNDS rounds (default 8) of RACE_PER_ACCOUNT x 2 buyers
# (default 50), each round on a new number and checked. Then a same-key
# storm: 20 parallel identical requests with one Idempotency-Key make one
# purchase; every finished reply is the same bytes, the others 409.

: "${abs_top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${abs_top_builddir:=$(pwd)}"
. "$abs_top_srcdir/tests/harness.sh"

for tool in curl jq sqlite3; do
	command -v "$tool" >/dev/null 2>&1 || { echo "1..0 # SKIP $tool not installed"; exit 0; }
done

ROUNDS=${RACE_ROUNDS:-8}
PER_ACCOUNT=${RACE_PER_ACCOUNT:-25}

E_IN_USE='{"error":"This phone number is already in use.","message":"This phone number is already in use.","code":"number_in_use"}'
AREAS=(512 213 206 415 212 312 617 305)

# fire NAME KEY NUMBER [N] -- one purchase (through node N % nodes: with
# H_NODES, the buyers are spread over them), started when $H_DIR/go.$round
# appears; reply in $H_DIR/NAME.status and $H_DIR/NAME.body.
fire() {
	local base=${H_BASES[$((${4:-0} % ${#H_BASES[@]}))]}
	while [ ! -e "$H_DIR/go.$round" ]; do sleep 0.01; done
	curl -s -m 60 -o "$H_DIR/$1.body" -w '%{http_code}' -X POST \
		-H "Authorization: Bearer $2" -H 'Content-Type: application/json' \
		--data-binary "{\"phone_number\":\"$3\"}" \
		"$base/api/user/phone-numbers/purchase" >"$H_DIR/$1.status"
}
# effect OP -- the sandbox's effect count for OP (0 when none yet).
effect() { h_ledger | jq --arg op "$1" '.effects[$op] // 0'; }

h_start "${RACE_PROCS:-4}" || { echo "Bail out! stack did not start"; exit 1; }

read -r acct_a key_a < <(h_account pm_card_visa)
read -r acct_b key_b < <(h_account pm_card_visa)
[ -n "${key_a:-}" ] && [ -n "${key_b:-}" ] || { echo "Bail out! no accounts"; exit 1; }

for round in $(seq 1 $ROUNDS); do
	area=${AREAS[$(((round - 1) % ${#AREAS[@]}))]}
	h_search "$key_a" "area_code=$area&limit=1"
	num_a=$(printf '%s' "$H_BODY" | jq -r '.data[0].phone_number // empty')
	h_search "$key_b" "area_code=$area&limit=1"
	num=$(printf '%s' "$H_BODY" | jq -r '.data[0].phone_number // empty')
	is "$num_a" "$num" "round $round: both accounts were offered $num"
	[ -n "$num" ] || { echo "Bail out! round $round: no number offered"; exit 1; }

	cg0=$(h_ledger | jq '.calls.customer_get // 0')
	nb0=$(effect number_buy) sc0=$(effect subscription_create) ip0=$(effect invoice_pay)
	pids=()
	for i in $(seq 1 $PER_ACCOUNT); do
		fire "r$round.a$i" "$key_a" "$num" $((2 * i)) &
		pids+=($!)
		fire "r$round.b$i" "$key_b" "$num" $((2 * i + 1)) &
		pids+=($!)
	done
	touch "$H_DIR/go.$round"
	wait "${pids[@]}"

	n201=0 nin_use=0 n5xx=0 other=0 winner=
	for f in "$H_DIR"/r$round.[ab]*.status; do
		name=${f%.status}
		st=$(cat "$f")
		body=$(cat "$name.body" 2>/dev/null)
		case $st in
		201) n201=$((n201 + 1)) winner=$name ;;
		5??) n5xx=$((n5xx + 1)) ;;
		esac
		if [ "$st $body" = "400 $E_IN_USE" ]; then
			nin_use=$((nin_use + 1))
		elif [ "$st" != 201 ]; then
			other=$((other + 1))
			diag "round $round: ${name##*/}: $st $body"
		fi
	done
	is "$((n201 + nin_use + other))" $((2 * PER_ACCOUNT)) "round $round: $((2 * PER_ACCOUNT)) replies"
	is "$n201" 1 "round $round: exactly one 201"
	is "$nin_use" $((2 * PER_ACCOUNT - 1)) "round $round: every other reply is 400 already in use"
	is "$n5xx" 0 "round $round: no 5xx"
	# The claim comes before any provider call: only the winner made one
	# (its customer lookup), every loser none.
	past=$(($(h_ledger | jq '.calls.customer_get // 0') - cg0))
	is "$past" 1 "round $round: only the winner called a provider"
	wbody=$(cat "$winner.body" 2>/dev/null)
	is "$(printf '%s' "$wbody" | jq -r .data.phone_number 2>/dev/null)" "$num" \
		"round $round: the 201 is for $num"
	case ${winner##*/} in
	r$round.a*) wacct=$acct_a ;;
	*) wacct=$acct_b ;;
	esac

	# The sandbox: one subscription, one paid invoice, one owned number.
	ids=$(h_sql "select id from purchases where phone_number='$num' order by id" | paste -sd, -)
	ledger=$(h_ledger)
	subs=$(printf '%s' "$ledger" | jq -c --arg ids "$ids" '
		($ids | split(",")) as $p | [.subscriptions[] | select(.metadata.purchase_id as $m | $p | index([$m]))]')
	is "$(printf '%s' "$subs" | jq -r '[.[] | .status] | join(",")')" active \
		"round $round: one subscription for the number, active"
	sub=$(printf '%s' "$subs" | jq -r '.[0].id // empty')
	is "$(printf '%s' "$ledger" | jq --arg s "$sub" '[.invoices[] | select(.subscription == $s and .paid)] | length')" \
		1 "round $round: one paid invoice for it"
	is "$(printf '%s' "$ledger" | jq --arg n "$num" '[.numbers[] | select(.phone_number == $n and .status == "owned")] | length')" \
		1 "round $round: the carrier shows the number owned once"
	is "$(($(effect number_buy) - nb0))" 1 "round $round: number_buy effects == 1"
	is "$(($(effect subscription_create) - sc0))" 1 "round $round: subscription_create effects == 1"
	is "$(($(effect invoice_pay) - ip0))" 1 "round $round: invoice_pay effects == 1"

	# Our database: one number, one live purchase, the winner's.
	is "$(h_sql "select count(*) from numbers where phone_number='$num'")" 1 \
		"round $round: one row in numbers"
	is "$(h_sql "select count(*) from purchases where phone_number='$num' and state <> 'failed'")" 1 \
		"round $round: one purchase not failed"
	is "$(h_sql "select account_id || ' ' || id || ' ' || subscription_id from numbers where phone_number='$num'")" \
		"$wacct $(printf '%s' "$wbody" | jq -r .data.id 2>/dev/null) $sub" \
		"round $round: the number row is the winner's, with the 201's id and the subscription"
done

# --- Same-key storm ----------------------------------------------------------
E_BUSY='{"error":"A request with this Idempotency-Key is still in progress.","message":"A request with this Idempotency-Key is still in progress.","code":"idempotency_key_in_progress"}'
h_search "$key_a" "area_code=415&limit=1"
num=$(printf '%s' "$H_BODY" | jq -r '.data[0].phone_number')
round=storm
h_fault invoice_pay delay 1 1500
pids=()
for i in $(seq 1 20); do
	(
		while [ ! -e "$H_DIR/go.storm" ]; do sleep 0.01; done
		[ "$i" -gt 1 ] && sleep "0.$((i * 4))"
		curl -s -m 60 -o "$H_DIR/storm$i.body" -w '%{http_code}' -X POST \
			-H "Authorization: Bearer $key_a" -H 'Content-Type: application/json' \
			-H 'Idempotency-Key: storm-1' --data-binary "{\"phone_number\":\"$num\"}" \
			"$BASE/api/user/phone-numbers/purchase" >"$H_DIR/storm$i.status"
	) &
	pids+=($!)
done
touch "$H_DIR/go.storm"
wait "${pids[@]}"
n201=0 n409=0 other=0 first=
for i in $(seq 1 20); do
	st=$(cat "$H_DIR/storm$i.status")
	body=$(cat "$H_DIR/storm$i.body")
	case $st in
	201)
		n201=$((n201 + 1))
		[ -z "$first" ] && first=$body
		[ "$body" = "$first" ] || other=$((other + 1))
		;;
	409) [ "$body" = "$E_BUSY" ] && n409=$((n409 + 1)) || other=$((other + 1)) ;;
	*) other=$((other + 1)); diag "storm $i: $st $body" ;;
	esac
done
is "$(h_sql "select count(*) from purchases where phone_number='$num'")" 1 "storm: one purchase"
ok "$([ "$n201" -ge 1 ] && [ "$n409" -ge 1 ]; echo $?)" "storm: finished replies ($n201) and 409s ($n409)"
is "$other" 0 "storm: every 201 the same bytes, every 409 the table's body"
h_req POST /api/user/phone-numbers/purchase "$key_a" "{\"phone_number\":\"$num\"}" -H 'Idempotency-Key: storm-1'
is "$H_STATUS $H_BODY" "201 $first" "storm: a later replay is the same 201"
is "$(h_ledger | jq --arg n "$num" '[.numbers[] | select(.phone_number == $n)] | length')" 1 \
	"storm: bought once"

plan "$H_TESTNO"
h_done
