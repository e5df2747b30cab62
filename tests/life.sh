#!/bin/bash
# life.sh -- a number's life from purchase to release on the sandbox's
# clock (issue 10), through lighttpd, with the sandbox delivering signed
# webhooks as things happen:
#
#   buy -> renew twice -> the renewal's payment fails -> past_due -> the
#   customer's card is changed (the new card is charged next) -> release
#   scheduled -> restored -> scheduled again -> the period's end nears ->
#   released at the carrier before the margin -> the subscription ends at
#   Stripe -> reconcile finds no difference, and the carrier was paid for
#   exactly the months the customer paid for.
#
# The sandbox's clock moves with /_sandbox/clock; the service's clock stays
# real (webhook signatures carry real time, as Stripe's test clocks do),
# except for the recovery run that plays the last hour before the period's
# end (PURCHASE_TEST_CLOCK_OFFSET, fault-injection builds).
: "${abs_top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
. "$abs_top_srcdir/tests/harness.sh"

if ! grep -q '^#define PURCHASE_FAULT_INJECTION 1' "$abs_top_builddir/autoconfig.h" 2>/dev/null; then
	echo "1..0 # SKIP needs a build configured with --enable-fault-injection"
	exit 0
fi

N=/api/user/phone-numbers
DAY=86400
MONTH=$((30 * DAY))	# the sandbox's month

h_start 2 || { echo "Bail out! cannot start the stack"; exit 1; }
h_webhooks auto || { echo "Bail out! cannot configure webhooks"; exit 1; }
cus=$(h_customer pm_card_visa) || { echo "Bail out! no customer"; exit 1; }
acct=$("$PURCHASECTL" account create --name life --stripe-customer "$cus")
key=$("$PURCHASECTL" key create --account "$acct")

sub() { h_ledger | jq -c --arg s "$(h_sql "select subscription_id from numbers where id=$NID")" '.subscriptions[] | select(.id == $s)'; }
row() { h_sql "select status || ' ' || cancel_at_period_end || ' ' || coalesce(period_end, 0) from numbers where id=$NID"; }
paid_invoices() { h_ledger | jq --arg s "$(sub | jq -r .id)" '[.invoices[] | select(.subscription == $s and .paid)] | length'; }
attach() {	# attach PM -- a card on the customer, made its default (customer.updated)
	local pm
	pm=$(curl -sf -H "$H_SK" -d customer="$cus" "$SANDBOX/v1/payment_methods/$1/attach" | jq -r .id)
	curl -sf -H "$H_SK" -d "invoice_settings[default_payment_method]=$pm" "$SANDBOX/v1/customers/$cus" >/dev/null
	echo "$pm"
}

# --- bought ----------------------------------------------------------------
h_bought "$key" || { echo "Bail out! cannot buy"; exit 1; }
end0=$(sub | jq -r .current_period_end)
is "$(row)" "active 0 $end0" "bought: active until Stripe's period end"
is "$(paid_invoices)" 1 "bought: the first invoice paid"

# --- renewed twice -----------------------------------------------------------
h_advance $MONTH
h_wait_sql "select period_end from numbers where id=$NID" $((end0 + MONTH))
is "$(row)" "active 0 $((end0 + MONTH))" "renewal 1: invoice.paid -> the next period (webhook, subscription fetched again)"
h_advance $MONTH
h_wait_sql "select period_end from numbers where id=$NID" $((end0 + 2 * MONTH))
is "$(row)" "active 0 $((end0 + 2 * MONTH))" "renewal 2: the period after"
is "$(paid_invoices)" 3 "renewals: three invoices paid"

# --- the card starts declining: the next renewal fails -> past_due ------------------
bad=$(attach pm_card_chargeCustomerFail)
h_wait_sql "select payment_method from purchases where id=$NID" "$bad"
is "$(sub | jq -r .default_payment_method)" "$bad" \
	"customer.updated: the customer's new default is set on the number's subscription"
h_advance $MONTH
h_wait_sql "select status from numbers where id=$NID" past_due
is "$(row)" "past_due 0 $((end0 + 3 * MONTH))" "renewal 3 declined: past_due (the number keeps working)"
h_req GET "$N/$NID" "$key"
is "$(echo "$H_BODY" | jq -c '.data | [.status, .has_active_subscription]')" '["past_due",true]' \
	"past_due: the API shows it, still an active subscription"
is "$(h_ledger | jq --arg n "$NUM" '[.numbers[] | select(.phone_number == $n and .status == "owned")] | length')" 1 \
	"past_due: the number is still ours at the carrier"

# --- the customer changes the card: the retry charges the new one ------------------
good=$(attach pm_card_visa)
h_wait_sql "select payment_method from purchases where id=$NID" "$good"
is "$(sub | jq -r .default_payment_method)" "$good" "card updated: set on the subscription"
h_advance $((3 * DAY + 60))
h_wait_sql "select status from numbers where id=$NID" active
is "$(row)" "active 0 $((end0 + 3 * MONTH))" "the retry paid: active again"
is "$(h_ledger | jq -r --arg s "$(sub | jq -r .id)" '[.invoices[] | select(.subscription == $s and .paid)] | last | .charged_with')" \
	"$good" "the retry charged the new card"

# --- release scheduled, restored, scheduled again -------------------------------------
h_req DELETE "$N/$NID" "$key"
is "$H_STATUS" 200 "DELETE: 200"
is "$(row) $(sub | jq -r .cancel_at_period_end)" "release_scheduled 1 $((end0 + 3 * MONTH)) true" \
	"release scheduled, at Stripe too"
h_req POST "$N/$NID/restore" "$key" "" -H 'Content-Length: 0'
is "$H_STATUS $(echo "$H_BODY" | jq -r .data.status)" "200 active" "restore: 200, active"
is "$(row) $(sub | jq -r .cancel_at_period_end)" "active 0 $((end0 + 3 * MONTH)) false" "restored, at Stripe too"
h_req DELETE "$N/$NID" "$key"
is "$H_STATUS $(row)" "200 release_scheduled 1 $((end0 + 3 * MONTH))" "scheduled again"
# The webhooks of all this (customer.subscription.updated) change nothing.
sleep 1
is "$(row)" "release_scheduled 1 $((end0 + 3 * MONTH))" "the updates' webhooks agree"

# --- the period's end nears: released at the carrier before the margin -----------------
end=$(h_sql "select period_end from numbers where id=$NID")
snow=$(h_sandbox_now)
# A recovery run more than the margin (3600 s) before the end does nothing ...
env PURCHASE_TEST_CLOCK_OFFSET=$((end - $(date +%s) - 7200)) "$PURCHASECTL" recover 2>/dev/null
is "$(h_sql "select status from numbers where id=$NID")" release_scheduled "two hours before the end: not yet"
# ... the first run within it (recovery runs every minute: here 30 s into
# the last hour, both clocks there) releases -- no later than the margin
# before the end, before Twilio's anniversary bills the next month.
h_advance $((end - snow - 3600 + 30))
env PURCHASE_TEST_CLOCK_OFFSET=$((end - $(date +%s) - 3600 + 30)) "$PURCHASECTL" recover 2>/dev/null
is "$(h_sql "select status || ' ' || release_reason from numbers where id=$NID")" "released released" \
	"the first recovery run within the margin: released"
rel=$(h_ledger | jq -c --arg n "$NUM" '[.numbers[] | select(.phone_number == $n)][-1]')
is "$(echo "$rel" | jq -r .status)" released "the carrier has it back"
ok "$([ "$(echo "$rel" | jq -r .released_at)" -le $((end - 3600 + 60)) ]; echo $?)" \
	"released at the carrier within a minute of the margin ($(( end - $(echo "$rel" | jq -r .released_at) )) s before the period's end)"

# --- the period ends at Stripe: the subscription ends; the number stays released ---------
h_advance 3700
h_wait_sql "select count(*) from stripe_events where type = 'customer.subscription.deleted' and done_at is not null" 1
is "$(sub | jq -r .status)" canceled "the subscription ended at the period's end"
is "$(h_sql "select status from numbers where id=$NID")" released "customer.subscription.deleted: still released"
h_req GET "$N/$NID" "$key"
is "$(echo "$H_BODY" | jq -c '.data | [.status, .has_active_subscription]')" '["released",false]' "the API shows it released"

# --- what was paid, both ways --------------------------------------------------------------
is "$(paid_invoices)" 4 "the customer paid four months"
is "$(echo "$rel" | jq -r .carrier_charges)" 4 "the carrier was paid for four months, not a fifth"
h_reconcile
ok $? "reconcile finds no difference"

plan "$H_TESTNO"
h_done
