#!/bin/bash
# purchase-table.sh -- every row of the table in DESIGN §2.1, and the
# request-level errors under it, through a real lighttpd with curl: exact
# status and exact body. Compensations (carrier refusal, decline, provider
# failure then recovery) are checked in the sandbox's ledger.
: "${abs_top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
. "$abs_top_srcdir/tests/harness.sh"

IN_USE='{"error":"This phone number is already in use.","message":"This phone number is already in use.","code":"number_in_use"}'
NOT_AVAIL='{"error":"This phone number is not available for purchase. Please search for available numbers first.","message":"This phone number is not available for purchase. Please search for available numbers first.","code":"number_not_available"}'
NO_PM='{"error":"No payment method found. Please add a payment method to your account.","message":"No payment method found. Please add a payment method to your account.","code":"no_payment_method"}'
DECLINED='{"error":"Payment failed. Please update your payment method.","message":"Payment failed. Please update your payment method.","code":"payment_failed"}'
BAD_E164='{"error":"Unable to parse phone number. Please provide a valid E.164 format number.","message":"Unable to parse phone number. Please provide a valid E.164 format number.","code":"invalid_phone_number"}'
MISSING='{"error":"Unable to parse phone number. Please provide a valid E.164 format number.","message":"Unable to parse phone number. Please provide a valid E.164 format number.","code":"phone_number_required"}'
PROVIDER='{"error":"Failed to purchase phone number from provider. Please contact support.","message":"Failed to purchase phone number from provider. Please contact support.","code":"provider_error"}'
BAD_BODY='{"error":"Request body must be a JSON object with only the documented fields.","message":"Request body must be a JSON object with only the documented fields.","code":"invalid_body"}'
UNAUTH='{"error":"Unauthenticated.","message":"Unauthenticated.","code":"unauthenticated"}'
BUY=/api/user/phone-numbers/purchase



H_BUSY_TIMEOUT_MS=300 h_start 2 || { echo "Bail out! cannot start the stack"; exit 1; }
read -r A_ID A_KEY < <(h_account pm_card_visa)
read -r B_ID B_KEY < <(h_account pm_card_visa)
read -r N_ID N_KEY < <(h_account none)
read -r D_ID D_KEY < <(h_account pm_card_chargeCustomerFail)
read -r C_ID C_KEY < <(h_account pm_card_visa)	# never searches

# offer KEY INDEX [QUERY] -- searches and prints the INDEX-th number.
offer() {
	h_search "$1" "${3:-limit=10}"
	echo "$H_BODY" | jq -r ".data[$2].phone_number"
}
calls() { h_ledger | jq -c .calls; }
sub_of() {	# the sandbox subscription of our purchase of NUMBER
	local pid
	pid=$(h_sql "select id from purchases where phone_number='$1' order by id desc limit 1")
	h_ledger | jq -c --arg p "$pid" '[.subscriptions[] | select(.metadata.purchase_id == $p)]'
}
owned() { h_ledger | jq --arg n "$1" '[.numbers[] | select(.phone_number == $n and .status == "owned")] | length'; }
invoice_status_of() {	# the status of the first invoice of NUMBER's subscription
	local inv
	inv=$(sub_of "$1" | jq -r '.[0].latest_invoice // ""')
	h_ledger | jq -r --arg i "$inv" '.invoices[] | select(.id == $i) | .status'
}
paid_invoices_of() {
	local sub
	sub=$(sub_of "$1" | jq -r '.[0].id // ""')
	h_ledger | jq --arg s "$sub" '[.invoices[] | select(.subscription == $s and .paid)] | length'
}

# --- 201 ---------------------------------------------------------------------
n1=$(offer "$A_KEY" 0)
h_buy "$A_KEY" "$n1"
id=$(echo "$H_BODY" | jq -r .data.id)
is "$H_STATUS" 201 "201: bought"
is "$H_BODY" "{\"message\":\"Phone number purchased successfully.\",\"data\":{\"id\":$id,\"phone_number\":\"$n1\",\"country_code\":\"US\",\"type\":\"normal\",\"sms_capable\":true}}" "201: exact body"
is "$(h_header Content-Type)" "application/json" "201: JSON content type"
is "$(h_header Cache-Control)" "no-store" "201: no-store"
ok "$([ -n "$(h_header X-Request-Id)" ]; echo $?)" "201: X-Request-Id"
is "$(owned "$n1")" 1 "201: the number is owned at the carrier"
is "$(paid_invoices_of "$n1")" 1 "201: the subscription's invoice is paid"
is "$(sub_of "$n1" | jq -r '.[0].status')" active "201: the subscription is active"
is "$(h_sql "select status from numbers where phone_number='$n1'")" active "201: our number row"

# --- 400 in use ---------------------------------------------------------------
h_buy "$A_KEY" "$n1"
is "$H_STATUS $H_BODY" "400 $IN_USE" "400 in use: owned by this account"
h_buy "$B_KEY" "$n1"
is "$H_STATUS $H_BODY" "400 $IN_USE" "400 in use: owned by another account"

n2=$(offer "$A_KEY" 0)
[ "$(offer "$B_KEY" 0)" = "$n2" ] || diag "B was offered another first number"
pays=$(calls | jq '.invoice_pay // 0')
h_fault invoice_pay delay 1 1500	# (under the 2 s provider timeout)
h_buy "$A_KEY" "$n2" >/dev/null &
bg=$!
# Until the first buyer's payment has reached the sandbox (which holds its
# answer): every call of that purchase is made, so that what is counted
# next is the loser's alone. (Its row alone left its payment still to come.)
for _ in $(seq 1 100); do
	[ "$(calls | jq '.invoice_pay // 0')" -gt "$pays" ] && break
	sleep 0.05
done
before=$(calls)
h_buy "$B_KEY" "$n2"
is "$H_STATUS $H_BODY" "400 $IN_USE" "400 in use: being bought right now by another account"
is "$(calls)" "$before" "400 in use: the loser made no provider call"
wait $bg
is "$(owned "$n2")" 1 "the first buyer still got it"

# --- 400 not available --------------------------------------------------------
before=$(calls)
h_buy "$A_KEY" "+14155557777"
is "$H_STATUS $H_BODY" "400 $NOT_AVAIL" "400 not available: never offered"
is "$(calls)" "$before" "400 not available: no provider call"

n3=$(offer "$A_KEY" 0)
h_buy "$C_KEY" "$n3"
is "$H_STATUS $H_BODY" "400 $NOT_AVAIL" "400 not available: offered to another account only"
h_sql "update offers set expires_at = $(($(date +%s) - 1)) where phone_number='$n3'"
h_buy "$A_KEY" "$n3"
is "$H_STATUS $H_BODY" "400 $NOT_AVAIL" "400 not available: offer expired"

n4=$(offer "$A_KEY" 1)
curl -sf -H 'Content-Type: application/json' -d "{\"phone_number\":\"$n4\"}" \
	"$SANDBOX/_sandbox/numbers/taken" >/dev/null
h_buy "$A_KEY" "$n4"
is "$H_STATUS $H_BODY" "400 $NOT_AVAIL" "400 not available: the carrier says it is gone"
# (the way back voids the invoice first, so that no payment can land while
# the rest is undone; an incomplete subscription whose first invoice is
# void has ended: incomplete_expired, as at Stripe)
is "$(sub_of "$n4" | jq -r '.[0].status')" incomplete_expired "carrier refusal: subscription ended"
is "$(invoice_status_of "$n4")" void "carrier refusal: its invoice was voided"
is "$(paid_invoices_of "$n4")" 0 "carrier refusal: nothing paid"
is "$(owned "$n4")" 0 "carrier refusal: no number owned"
is "$(h_sql "select state || ' ' || outcome from purchases where phone_number='$n4' order by id desc limit 1")" \
	"failed not_available" "carrier refusal: purchase failed"

# --- 402 ------------------------------------------------------------------------
n5=$(offer "$N_KEY" 0)
before=$(h_ledger | jq '.subscriptions | length')
h_buy "$N_KEY" "$n5"
is "$H_STATUS $H_BODY" "402 $NO_PM" "402 no payment method"
is "$(h_ledger | jq '.subscriptions | length')" "$before" "402 no payment method: no subscription"
is "$(h_sql "select count(*) from purchases where phone_number='$n5' and state <> 'failed'")" 0 \
	"402 no payment method: nothing left claimed"
is "$(h_sql "select count(*) from idempotency i join purchases p on p.id = i.purchase_id where p.phone_number='$n5'")" \
	0 "402 no payment method: no key remembered"
is "$(h_sql "select count(*) from purchases where phone_number='$n5'")" 0 \
	"402 no payment method: no row written at all (DESIGN §3: a check writes nothing)"

# A customer whose only card is the legacy default_source: Stripe bills it
# when there is no invoice_settings.default_payment_method, so do we.
cus=$(curl -sf -H "$H_SK" -d name=legacy "$SANDBOX/v1/customers" | jq -r .id)
curl -sf -H "$H_SK" -d source=tok_visa "$SANDBOX/v1/customers/$cus/sources" >/dev/null
S_ID=$("$PURCHASECTL" account create --name legacy --stripe-customer "$cus")
S_KEY=$("$PURCHASECTL" key create --account "$S_ID")
n5s=$(offer "$S_KEY" 0)
h_buy "$S_KEY" "$n5s"
is "$H_STATUS" 201 "default_source only: 201"
is "$(sub_of "$n5s" | jq -r '.[0].default_source // "" | startswith("card_")')" true \
	"default_source only: the subscription is pinned to the card"
is "$(paid_invoices_of "$n5s")" 1 "default_source only: the card was charged"

n6=$(offer "$D_KEY" 0)
h_buy "$D_KEY" "$n6"
is "$H_STATUS $H_BODY" "402 $DECLINED" "402 payment failed (declined)"
is "$(sub_of "$n6" | jq -r '.[0].status')" incomplete_expired "decline: subscription ended"
is "$(invoice_status_of "$n6")" void "decline: its invoice was voided (no payment can land)"
is "$(paid_invoices_of "$n6")" 0 "decline: nothing paid"
is "$(owned "$n6")" 0 "decline: the number was released at the carrier"
is "$(h_ledger | jq --arg n "$n6" '[.numbers[] | select(.phone_number == $n and .status == "released")] | length')" \
	1 "decline: the ledger shows the release"
is "$(h_sql "select state || ' ' || outcome from purchases where phone_number='$n6' order by id desc limit 1")" \
	"failed declined" "decline: purchase failed"
h_search "$A_KEY" "limit=50"
ok "$(echo "$H_BODY" | jq -e --arg n "$n6" '[.data[].phone_number] | index($n) != null' >/dev/null; echo $?)" \
	"decline: the number is offered again"
h_buy "$A_KEY" "$n6"
is "$H_STATUS" 201 "decline: another account can buy it afterwards"

# --- 422 ------------------------------------------------------------------------
for bad in '4155551234' '+1 415 555 1234' '+1-415-555-1234' '' '+0123456789' '+14155551234567890' '+1415555123x'; do
	h_buy "$A_KEY" "$bad"
	is "$H_STATUS $H_BODY" "422 $BAD_E164" "422 not E.164: '$bad'"
done
h_req POST $BUY "$A_KEY" '{}'
is "$H_STATUS $H_BODY" "422 $MISSING" "422 phone_number missing"
h_req POST $BUY "$A_KEY" '{"phone_number":14155551234}'
is "$H_STATUS $H_BODY" "422 $MISSING" "422 phone_number not a string"
h_req POST $BUY "$A_KEY" '{"phone_number":null}'
is "$H_STATUS $H_BODY" "422 $MISSING" "422 phone_number null"

# --- 400 body ---------------------------------------------------------------------
for body in '[]' '"+14155551234"' 'not json' '{"phone_number":"+14155551234"} x' \
	'{"phone_number":"+14155551234","phone_number":"+14155551235"}' \
	'{"phone_number":"+14155551234","extra":1}'; do
	h_req POST $BUY "$A_KEY" "$body"
	is "$H_STATUS $H_BODY" "400 $BAD_BODY" "400 body: $body"
done

# --- 401 ----------------------------------------------------------------------------
bodies=""
# The key with its last digit changed (to 0, or to 1 when it is a 0).
WRONG_KEY=${A_KEY%?}0
[ "$WRONG_KEY" = "$A_KEY" ] && WRONG_KEY=${A_KEY%?}1
for auth in "" "Bearer" "Bearer nope" "Basic $A_KEY" "Bearer $WRONG_KEY" "Bearer pur_000000000000_000000000000000000000000000000000000000000000000"; do
	if [ -n "$auth" ]; then
		h_req POST $BUY "" '{"phone_number":"+14155551234"}' -H "Authorization: $auth"
	else
		h_req POST $BUY "" '{"phone_number":"+14155551234"}'
	fi
	is "$H_STATUS $H_BODY" "401 $UNAUTH" "401: '${auth:0:12}...'"
done
"$PURCHASECTL" key revoke "$B_KEY"
h_buy "$B_KEY" "+14155551234"
is "$H_STATUS $H_BODY" "401 $UNAUTH" "401: revoked key"

# --- 405, 411, 413, 415 ----------------------------------------------------------------
h_req GET $BUY "$A_KEY"
is "$H_STATUS" 405 "405: GET on purchase"
is "$(h_header Allow)" POST "405: Allow: POST"
h_req POST $BUY "$A_KEY" '' -H 'Content-Type: application/json'
is "$H_STATUS" 411 "411: no Content-Length"
h_req POST $BUY "$A_KEY" "{\"phone_number\":\"$(head -c 5000 /dev/zero | tr '\0' 1)\"}"
is "$H_STATUS" 413 "413: body over 4 KiB"
h_req POST $BUY "$A_KEY" '' --data-binary '{"phone_number":"+14155551234"}' -H 'Content-Type: text/plain'
is "$H_STATUS" 415 "415: text/plain"
h_req POST $BUY "$A_KEY" '' --data-binary '{"phone_number":"+14155551234"}' -H 'Content-Type: application/json; charset=utf-8'
is "$H_STATUS $H_BODY" "400 $NOT_AVAIL" "application/json with charset is accepted"

# --- 500 and recovery --------------------------------------------------------------------
n7=$(offer "$A_KEY" 2)
h_fault subscription_create 500 -1
h_buy "$A_KEY" "$n7"
is "$H_STATUS $H_BODY" "500 $PROVIDER" "500: billing failure"
curl -sf -X DELETE "$SANDBOX/_sandbox/faults" >/dev/null
"$PURCHASECTL" recover 2>/dev/null
is "$?" 0 "recover finishes the interrupted purchase"
is "$(h_sql "select state from purchases where phone_number='$n7' order by id desc limit 1")" failed "500: purchase failed after recovery"
is "$(paid_invoices_of "$n7")" 0 "500: nothing paid"
is "$(owned "$n7")" 0 "500: no number owned"
h_buy "$A_KEY" "$n7"
is "$H_STATUS" 201 "500: the number can be bought afterwards"

# --- 503 --------------------------------------------------------------------------------------
n8=$(offer "$A_KEY" 3)
h_lock_db 2
lock=$!
sleep 0.3
before=$(calls)
h_buy "$A_KEY" "$n8"
is "$H_STATUS" 503 "503: database locked past busy_timeout"
is "$(h_header Retry-After)" 1 "503: Retry-After"
is "$(calls)" "$before" "503: no provider call"
wait $lock
h_buy "$A_KEY" "$n8"
is "$H_STATUS" 201 "after the lock is gone the purchase goes through"

# --- purchasectl status ----------------------------------------------------
out=$("$PURCHASECTL" status)
is "$(printf '%s\n' "$out" | awk -F'\t' '$1 == "numbers" && $2 == "active" {print $3}')" \
	"$(h_sql "select count(*) from numbers where status = 'active'")" "purchasectl status counts active numbers"
ok "$(printf '%s\n' "$out" | grep -q "^purchases	failed	"; echo $?)" "purchasectl status counts failed purchases"

plan "$H_TESTNO"
h_done
