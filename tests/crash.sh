#!/bin/bash
# crash.sh -- the crash matrix of issue 3: purchase.fcgi (built with
# --enable-fault-injection) is killed with SIGKILL at every named crash
# point of the purchase flow, several times each, and at random moments;
# then either `purchasectl recover` or the client's retry with the same
# Idempotency-Key finishes the purchase. After each run the invariant
# checker (`purchasectl reconcile`: our rows vs the sandbox's Stripe and
# Twilio) must find no difference, and the sandbox must show at most one
# subscription, one payment and one bought number per purchase.
#
# The process runs as plain CGI so that each request is its own process to
# kill; the lease a dead process held is skipped over with the test clock
# (PURCHASE_TEST_CLOCK_OFFSET, honoured only by fault-injection builds).
: "${abs_top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
. "$abs_top_srcdir/tests/harness.sh"

if ! grep -q '^#define PURCHASE_FAULT_INJECTION 1' "$abs_top_builddir/autoconfig.h" 2>/dev/null; then
	echo "1..0 # SKIP needs a build configured with --enable-fault-injection"
	exit 0
fi

BUY=/api/user/phone-numbers/purchase
LATER=PURCHASE_TEST_CLOCK_OFFSET=600	# past any lease
RUNS=${CRASH_RUNS:-2}

h_start 2 || { echo "Bail out! cannot start the stack"; exit 1; }
read -r A_ID A_KEY < <(h_account pm_card_visa)
read -r D_ID D_KEY < <(h_account pm_card_chargeCustomerFail)



# One crash: buy with KEY under PURCHASE_CRASH_AT=POINT, then finish with
# HOW (recover | retry); check the process died, the outcome, the ledgers.
crash_run() {	# crash_run KEY POINT HOW WANT-STATUS
	local key=$1 point=$2 how=$3 want=$4 num idem first
	h_fresh_number "$key"
	num=$NUM
	idem="crash-$point-$how-$RANDOM$RANDOM"
	h_cgi POST $BUY "$key" "{\"phone_number\":\"$num\"}" \
		HTTP_IDEMPOTENCY_KEY="$idem" PURCHASE_CRASH_AT="$point"
	is "$H_STATUS" killed "$point/$how: the process died at the crash point"
	if [ "$how" = recover ]; then
		env $LATER "$PURCHASECTL" recover 2>/dev/null
	fi
	h_cgi POST $BUY "$key" "{\"phone_number\":\"$num\"}" HTTP_IDEMPOTENCY_KEY="$idem" $LATER
	first=$H_BODY
	is "$H_STATUS" "$want" "$point/$how: the client's retry answers $want"
	h_cgi POST $BUY "$key" "{\"phone_number\":\"$num\"}" HTTP_IDEMPOTENCY_KEY="$idem" $LATER
	is "$H_STATUS $H_BODY" "$want $first" "$point/$how: and replays it byte for byte"
	h_reconcile
	ok $? "$point/$how: reconcile finds no difference"
	h_check_effects "$num" "$point/$how"
}

# Forward points (a card that pays). Recovery compensates what was not
# paid (500 stored for the key) and completes what was (201); a retry with
# the key resumes and completes.
for point in after_claim after_subscribe before_buy after_buy after_provision before_pay; do
	for run in $(seq 1 "$RUNS"); do
		crash_run "$A_KEY" "$point" recover 500
		crash_run "$A_KEY" "$point" retry 201
	done
done
for point in after_pay after_paid after_finish; do
	for run in $(seq 1 "$RUNS"); do
		crash_run "$A_KEY" "$point" recover 201
		crash_run "$A_KEY" "$point" retry 201
	done
done
# The way back (a card that declines): the decision is stored before the
# compensation starts, so every path answers 402.
for point in after_decide after_release; do
	for run in $(seq 1 "$RUNS"); do
		crash_run "$D_KEY" "$point" recover 402
		crash_run "$D_KEY" "$point" retry 402
	done
done

# Kills at random moments: the providers answer slowly so that the kill
# lands anywhere in the flow -- often while a request of the dead worker is
# still being worked on at the sandbox, which carries it out after its
# client is gone (as a real provider may). Recovery runs twice: first just
# past the dead worker's lease, when what it sent may still land (it must
# void what can be voided and conclude nothing from a number not yet
# there); then, once the sandbox has finished what it was sent, well past
# it. Then the invariants.
h_fault subscription_create delay -1 60
h_fault number_buy delay -1 60
h_fault invoice_pay delay -1 60
sandbox_idle() {	# until the sandbox has answered everything it was sent
	local before after
	for _ in $(seq 1 50); do
		before=$(h_ledger | jq -c "[.calls, .effects, .numbers]")
		sleep 0.2
		after=$(h_ledger | jq -c "[.calls, .effects, .numbers]")
		[ "$before" = "$after" ] && return 0
	done
}
for run in $(seq 1 "${RANDOM_KILLS:-$((RUNS * 4))}"); do
	h_fresh_number "$A_KEY"
	num=$NUM
	body="{\"phone_number\":\"$num\"}"
	printf '%s' "$body" >"$H_DIR/kill.body"
	env -i PATH="$PATH" PURCHASE_CONFIG="$PURCHASE_CONFIG" REQUEST_METHOD=POST \
		REQUEST_URI=$BUY CONTENT_TYPE=application/json CONTENT_LENGTH=${#body} \
		HTTP_AUTHORIZATION="Bearer $A_KEY" "$PURCHASE_FCGI" \
		<"$H_DIR/kill.body" >/dev/null 2>>"$H_DIR/cgi.err" &
	victim=$!
	sleep "0.$((RANDOM % 25))"
	kill -9 "$victim" 2>/dev/null
	wait "$victim" 2>/dev/null
	env PURCHASE_TEST_CLOCK_OFFSET=61 "$PURCHASECTL" recover 2>/dev/null
	sandbox_idle
	env $LATER "$PURCHASECTL" recover 2>/dev/null
	h_reconcile
	ok $? "random kill $run: reconcile finds no difference"
	h_check_effects "$num" "random kill $run"
	is "$(h_sql "select count(*) from purchases where phone_number='$num' and state not in ('complete','failed')")" \
		0 "random kill $run: the purchase ended"
done
curl -sf -X DELETE "$SANDBOX/_sandbox/faults" >/dev/null

# Storage faults: the disk fills up (a file-size limit on the process, with
# SIGXFSZ ignored so that writes fail with EFBIG as on a full disk) at
# every point of the purchase in turn. Whatever the client is told, a 201
# always has its number row; after recovery the ledgers agree.
# (The service's own storage: on PostgreSQL it is the server's.)
h_fault subscription_create delay -1 0
curl -sf -X DELETE "$SANDBOX/_sandbox/faults" >/dev/null
[ -n "${H_PG_URI:-}" ] && diag "PostgreSQL: no disk-full points (the server's disk)"
for extra in ${H_PG_URI:+none} 0 8 16 24 32 48 64 96 128 192 256; do
	[ "$extra" = none ] && break
	h_fresh_number "$A_KEY"
	num=$NUM
	body="{\"phone_number\":\"$num\"}"
	printf '%s' "$body" >"$H_DIR/full.body"
	wal=$(( $(stat -c %s "$H_DIR/purchase.db-wal" 2>/dev/null || echo 0) / 1024 ))
	H_ERRF=$H_DIR/cgi.err bash -c 'trap "" XFSZ; ulimit -f "$1"; shift; exec "$@" 2>>"$H_ERRF"' _ \
		$((wal + extra)) env -i PATH="$PATH" PURCHASE_CONFIG="$PURCHASE_CONFIG" \
		REQUEST_METHOD=POST REQUEST_URI=/api/user/phone-numbers/purchase \
		CONTENT_TYPE=application/json CONTENT_LENGTH=${#body} \
		HTTP_AUTHORIZATION="Bearer $A_KEY" "$PURCHASE_FCGI" \
		<"$H_DIR/full.body" >"$H_DIR/full.out"
	rc=$?
	st=$(sed -n 's/^Status: \([0-9]*\).*/\1/p' "$H_DIR/full.out" | tr -d '\r' | head -1)
	diag "disk full after +${extra} KiB: exit $rc, status ${st:-none}"
	if [ "$st" = 201 ]; then
		is "$(h_sql "select count(*) from numbers where phone_number='$num'")" 1 \
			"disk full +${extra}K: the 201 has its number row"
	else
		ok "$([ "$rc" -eq 0 ] && case "$st" in 500|503) true ;; *) false ;; esac; echo $?)" \
			"disk full +${extra}K: a clean error ($st), no crash"
	fi
	env $LATER "$PURCHASECTL" recover 2>/dev/null
	h_reconcile
	ok $? "disk full +${extra}K: after recovery reconcile finds no difference"
done

plan "$H_TESTNO"
h_done
