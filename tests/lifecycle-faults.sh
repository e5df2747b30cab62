#!/bin/bash
# lifecycle-faults.sh -- the crash matrix and the fault matrix of the
# number's life (issue 10), as crash.sh and faults.sh are for the purchase:
#
#   crash points: after_schedule, after_restore (Stripe told, our row not
#   yet written), before_release_number, after_release_number (the release
#   at the carrier), after_record (a webhook recorded, not answered),
#   after_event_work (its work done, not marked done) -- each killed with
#   SIGKILL, then finished by recovery and by the client's (or Stripe's)
#   retry;
#   faults: {subscription_update, subscription_get, number_release,
#   customer_get, event_list} x {timeout_before, timeout_after, 500, 429,
#   malformed} x {once, until cleared}.
#
# After each: reconcile finds no difference (our rows, Stripe's
# subscriptions and flags, Twilio's numbers), and the number is where
# Stripe says it is. The service runs as plain CGI where a process must be
# killed; leases are skipped over with the test clock.
: "${abs_top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
. "$abs_top_srcdir/tests/harness.sh"

if ! grep -q '^#define PURCHASE_FAULT_INJECTION 1' "$abs_top_builddir/autoconfig.h" 2>/dev/null; then
	echo "1..0 # SKIP needs a build configured with --enable-fault-injection"
	exit 0
fi

N=/api/user/phone-numbers
LATER=PURCHASE_TEST_CLOCK_OFFSET=600
H_PROVIDER_TIMEOUT_MS=500 h_start 2 || { echo "Bail out! cannot start the stack"; exit 1; }
h_webhooks manual
cus=$(h_customer pm_card_visa) || { echo "Bail out! no customer"; exit 1; }
acct=$("$PURCHASECTL" account create --name faults --stripe-customer "$cus")
key=$("$PURCHASECTL" key create --account "$acct")

sub_id() { h_sql "select subscription_id from numbers where id=$1"; }
cape() { h_ledger | jq -r --arg s "$(sub_id "$1")" '.subscriptions[] | select(.id == $s) | .cancel_at_period_end'; }
status() { h_sql "select status from numbers where id=$1"; }
clear_faults() { curl -sf -X DELETE "$SANDBOX/_sandbox/faults" >/dev/null; }
# settle DESC -- faults cleared, the events delivered, recovery past every
# lease; then the invariants.
settle() {
	clear_faults
	h_deliver >/dev/null
	env $LATER "$PURCHASECTL" recover 2>/dev/null
	h_reconcile
	ok $? "$1: reconcile finds no difference"
	is "$(h_sql "select count(*) from stripe_events where done_at is null")" 0 "$1: every event worked on"
}
# near ID -- a clock offset putting the service 30 minutes before the
# number's period end (inside the release margin).
near() { echo $(( $(h_sql "select period_end from numbers where id=$1") - $(date +%s) - 1800 )); }
webhook_cgi() {	# webhook_cgi BODY [VAR=VALUE...] -- POST the webhook as plain CGI
	local body=$1
	shift
	h_cgi POST /api/webhooks/stripe "" "$body" HTTP_STRIPE_SIGNATURE="$(h_sign "$body")" "$@"
}
pending_payload() {
	curl -sf "$SANDBOX/_sandbox/webhooks/pending" | jq -r --arg t "$1" '[.data[] | select(.type == $t)] | last | .payload'
}

# --- crash points ------------------------------------------------------------------
for how in recover retry; do
	# Stripe told to cancel at the period's end; our row not written.
	h_bought "$key" || { echo "Bail out! cannot buy"; exit 1; }
	h_cgi DELETE "$N/$NID" "$key" "" PURCHASE_CRASH_AT=after_schedule
	is "$H_STATUS" killed "after_schedule/$how: killed"
	is "$(cape "$NID") $(status "$NID")" "true active" "after_schedule/$how: Stripe knows, we do not yet"
	if [ $how = retry ]; then
		h_cgi DELETE "$N/$NID" "$key" "" $LATER
		is "$H_STATUS" 200 "after_schedule/retry: the client's retry answers 200"
	fi
	settle "after_schedule/$how"
	is "$(status "$NID")" release_scheduled "after_schedule/$how: release_scheduled, as Stripe says"

	# ... and undone: Stripe told, our row not written.
	h_cgi POST "$N/$NID/restore" "$key" "" PURCHASE_CRASH_AT=after_restore $LATER
	is "$H_STATUS" killed "after_restore/$how: killed"
	if [ $how = retry ]; then
		h_cgi POST "$N/$NID/restore" "$key" "" PURCHASE_TEST_CLOCK_OFFSET=1200
		is "$H_STATUS" 200 "after_restore/retry: the client's retry answers 200"
	fi
	clear_faults
	h_deliver >/dev/null
	env PURCHASE_TEST_CLOCK_OFFSET=1200 "$PURCHASECTL" recover 2>/dev/null
	h_reconcile
	ok $? "after_restore/$how: reconcile finds no difference"
	is "$(status "$NID") $(cape "$NID")" "active false" "after_restore/$how: active, at Stripe too"

	# The release at the carrier, killed before and after Twilio's DELETE.
	for point in before_release_number after_release_number; do
		h_bought "$key"
		h_req DELETE "$N/$NID" "$key"
		off=$(near "$NID")
		# (through an inner shell, so that the kill is not announced)
		bash -c '"$@" 2>/dev/null; exit $?' _ env PURCHASE_CRASH_AT=$point \
			PURCHASE_TEST_CLOCK_OFFSET=$off "$PURCHASECTL" recover 2>/dev/null
		is "$?" 137 "$point/$how: recovery killed there"
		# retry: a second run while the lease runs finishes nothing; past it, it does.
		if [ $how = retry ]; then
			env PURCHASE_TEST_CLOCK_OFFSET=$off "$PURCHASECTL" recover 2>/dev/null
			is "$(status "$NID")" release_scheduled "$point/retry: the dead run's lease holds"
		fi
		env PURCHASE_TEST_CLOCK_OFFSET=$((off + 600)) "$PURCHASECTL" recover 2>/dev/null
		is "$(status "$NID")" released "$point/$how: released"
		h_reconcile
		ok $? "$point/$how: reconcile finds no difference"
	done

	# A webhook recorded, then the process dies before answering.
	h_bought "$key"
	curl -sf -H "$H_SK" -d cancel_at_period_end=true "$SANDBOX/v1/subscriptions/$(sub_id "$NID")" >/dev/null
	body=$(pending_payload customer.subscription.updated)
	webhook_cgi "$body" PURCHASE_CRASH_AT=after_record
	is "$H_STATUS" killed "after_record/$how: killed before the 200"
	is "$(h_sql "select count(*) from stripe_events where id = '$(echo "$body" | jq -r .id)'")" 1 \
		"after_record/$how: recorded"
	if [ $how = retry ]; then
		# Stripe retries (no 200 came): a duplicate whose work is to do.
		h_webhook "$body" "$(h_sign "$body")"
		is "$H_STATUS" 200 "after_record/retry: Stripe's retry: 200"
		h_wait_sql "select status from numbers where id=$NID" release_scheduled
		is "$(status "$NID")" release_scheduled "after_record/retry: the retry did the work"
	fi
	settle "after_record/$how"
	is "$(status "$NID")" release_scheduled "after_record/$how: applied"

	# Its work done, the process dies before marking it done.
	curl -sf -H "$H_SK" -d cancel_at_period_end=false "$SANDBOX/v1/subscriptions/$(sub_id "$NID")" >/dev/null
	body=$(pending_payload customer.subscription.updated)
	webhook_cgi "$body" PURCHASE_CRASH_AT=after_event_work
	is "$H_STATUS" killed "after_event_work/$how: killed after the work"
	if [ $how = retry ]; then
		h_webhook "$body" "$(h_sign "$body")"
		is "$H_STATUS" 200 "after_event_work/retry: Stripe's retry: 200"
	fi
	settle "after_event_work/$how"
	is "$(status "$NID")" active "after_event_work/$how: applied once, as Stripe says"
done

# --- faults ----------------------------------------------------------------------------
for kind in timeout_before timeout_after 500 429 malformed; do
	delay=""
	case "$kind" in timeout_*) delay=800 ;; esac
	for count in 1 -1; do
		cell="($kind, $count)"
		# subscription_update: DELETE's call to Stripe.
		h_bought "$key"
		h_fault subscription_update "$kind" "$count" $delay
		h_req DELETE "$N/$NID" "$key"
		case "$H_STATUS" in 200|500|503) ok 0 "subscription_update $cell: DELETE answered $H_STATUS" ;;
		*) ok 1 "subscription_update $cell: DELETE answered $H_STATUS $H_BODY" ;; esac
		settle "subscription_update $cell"
		is "$(status "$NID") $(cape "$NID")" \
			"$([ "$(cape "$NID")" = true ] && echo release_scheduled || echo active) $(cape "$NID")" \
			"subscription_update $cell: our status follows Stripe's flag"

		# subscription_get: the webhook's work fetches the subscription.
		curl -sf -H "$H_SK" -d "cancel_at_period_end=$([ "$(cape "$NID")" = true ] && echo false || echo true)" \
			"$SANDBOX/v1/subscriptions/$(sub_id "$NID")" >/dev/null
		h_fault subscription_get "$kind" "$count" $delay
		h_deliver >/dev/null
		settle "subscription_get $cell"
		is "$(status "$NID") $(cape "$NID")" \
			"$([ "$(cape "$NID")" = true ] && echo release_scheduled || echo active) $(cape "$NID")" \
			"subscription_get $cell: applied once the fault is gone"

		# number_release: the release at the carrier.
		[ "$(cape "$NID")" = true ] || h_req DELETE "$N/$NID" "$key"
		h_fault number_release "$kind" "$count" $delay
		off=$(near "$NID")
		env PURCHASE_TEST_CLOCK_OFFSET=$off "$PURCHASECTL" recover 2>/dev/null
		rc=$?
		if [ "$count" = -1 ] && [ "$kind" != malformed ]; then
			is "$rc" 3 "number_release $cell: recover exits 3 while the carrier fails"
		fi
		clear_faults
		env PURCHASE_TEST_CLOCK_OFFSET=$((off + 600)) "$PURCHASECTL" recover 2>/dev/null
		is "$(status "$NID")" released "number_release $cell: released once the fault is gone"
		settle "number_release $cell"

		# customer_get: customer.updated's work reads the customer.
		pm=$(curl -sf -H "$H_SK" -d customer="$cus" "$SANDBOX/v1/payment_methods/pm_card_visa/attach" | jq -r .id)
		curl -sf -H "$H_SK" -d "invoice_settings[default_payment_method]=$pm" "$SANDBOX/v1/customers/$cus" >/dev/null
		h_fault customer_get "$kind" "$count" $delay
		h_deliver >/dev/null
		settle "customer_get $cell"
		# (a released number's subscription runs to its period's end, and
		# is not renewed: it is not changed)
		is "$(h_ledger | jq -r --arg c "$cus" '[.subscriptions[] | select(.customer == $c and (.status == "active" or .status == "past_due") and (.cancel_at_period_end | not))] | map(.default_payment_method) | unique | join(",")')" \
			"$pm" "customer_get $cell: every live subscription that renews has the new default"

		# event_list: webhooks replay.
		h_fault event_list "$kind" "$count" $delay
		"$PURCHASECTL" webhooks replay 2>/dev/null
		clear_faults
		"$PURCHASECTL" webhooks replay 2>/dev/null
		is "$?" 0 "event_list $cell: the replay succeeds once the fault is gone"
		settle "event_list $cell"
	done
done

plan "$H_TESTNO"
h_done
