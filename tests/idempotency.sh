#!/bin/bash
# idempotency.sh -- TAP integration test of Idempotency-Key on
# POST /api/user/phone-numbers/purchase (DESIGN §2.1, §3): a finished
# request replayed with its key gets the stored status and body byte for
# byte and calls no provider; the same key with another number is 422;
# malformed keys are 400; a key still in progress is 409 and, once done,
# replays the reply its first request got; a declined purchase replays its
# 402 without paying again; keys belong to one account.

: "${abs_top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${abs_top_builddir:=$(pwd)}"
. "$abs_top_srcdir/tests/harness.sh"

for tool in curl jq sqlite3 cmp; do
	command -v "$tool" >/dev/null 2>&1 || { echo "1..0 # SKIP $tool not installed"; exit 0; }
done


E_IN_USE='{"error":"This phone number is already in use.","message":"This phone number is already in use.","code":"number_in_use"}'
E_KEY='{"error":"Idempotency-Key must be 1 to 255 printable ASCII characters.","message":"Idempotency-Key must be 1 to 255 printable ASCII characters.","code":"invalid_idempotency_key"}'
E_BUSY='{"error":"A request with this Idempotency-Key is still in progress.","message":"A request with this Idempotency-Key is still in progress.","code":"idempotency_key_in_progress"}'
E_REUSED='{"error":"This Idempotency-Key was used with a different request.","message":"This Idempotency-Key was used with a different request.","code":"idempotency_key_reused"}'
E_DECLINED='{"error":"Payment failed. Please update your payment method.","message":"Payment failed. Please update your payment method.","code":"payment_failed"}'

# The in-progress purchase below waits 2 s in invoice_pay: the service's
# provider timeout must be well above that.
H_PROVIDER_TIMEOUT_MS=${H_PROVIDER_TIMEOUT_MS:-10000}

# keep NAME -- copy the last reply's exact body bytes to $H_DIR/NAME.
keep() { cp "$H_DIR/body" "$H_DIR/$1"; }
# same_bytes NAME -- the last reply's body is byte-identical to NAME's.
same_bytes() { cmp -s "$H_DIR/body" "$H_DIR/$1"; }
calls() { h_ledger | jq -cS .calls; }
effects() { h_ledger | jq -cS .effects; }
# bg_buy NAME KEY NUMBER IDEM-KEY -- a purchase with its own reply files
# ($H_DIR/NAME.status, $H_DIR/NAME.body), meant to run in the background.
bg_buy() {
	curl -s -o "$H_DIR/$1.body" -w '%{http_code}' -X POST \
		-H "Authorization: Bearer $2" -H 'Content-Type: application/json' \
		-H "Idempotency-Key: $4" --data-binary "{\"phone_number\":\"$3\"}" \
		"$BASE/api/user/phone-numbers/purchase" >"$H_DIR/$1.status"
}
# cgi_buy KEY NUMBER IDEM-KEY -- the purchase through purchase.fcgi run as
# plain CGI (one request, then exit); sets H_STATUS and H_BODY.
cgi_buy() {
	local body="{\"phone_number\":\"$2\"}" out
	out=$(printf '%s' "$body" | env -i PATH="$PATH" PURCHASE_CONFIG="$PURCHASE_CONFIG" \
		GATEWAY_INTERFACE=CGI/1.1 SERVER_PROTOCOL=HTTP/1.1 REQUEST_METHOD=POST \
		REQUEST_URI=/api/user/phone-numbers/purchase SCRIPT_NAME=/purchase.fcgi \
		CONTENT_TYPE=application/json CONTENT_LENGTH=${#body} \
		HTTP_AUTHORIZATION="Bearer $1" HTTP_IDEMPOTENCY_KEY="$3" \
		"$PURCHASE_FCGI" 2>>"$H_DIR/cgi.log" | tr -d '\r')
	H_STATUS=$(printf '%s\n' "$out" | sed -n 's/^Status: \([0-9]*\).*/\1/p' | head -n 1)
	H_BODY=$(printf '%s\n' "$out" | sed '1,/^$/d')
}
# wait_for SECONDS COMMAND... -- polls every 50 ms until COMMAND succeeds.
wait_for() {
	local deadline=$(($(date +%s) + $1))
	shift
	until "$@"; do
		[ "$(date +%s)" -ge "$deadline" ] && return 1
		sleep 0.05
	done
}

h_start 2 || { echo "Bail out! stack did not start"; exit 1; }

read -r acct key < <(h_account pm_card_visa)
[ -n "${key:-}" ] || { echo "Bail out! no account"; exit 1; }
h_search "$key" "area_code=617&limit=10"
[ "$H_STATUS" = 200 ] || { echo "Bail out! search failed: $H_STATUS $H_BODY"; exit 1; }
mapfile -t N < <(printf '%s' "$H_BODY" | jq -r '.data[].phone_number')

# --- a finished purchase replayed ---------------------------------------
h_buy "$key" "${N[0]}" -H "Idempotency-Key: k1"
is "$H_STATUS" 201 "first request with k1: 201"
is "$(printf '%s' "$H_BODY" | jq -r .data.phone_number)" "${N[0]}" "first request: bought ${N[0]}"
keep first
calls0=$(calls) effects0=$(effects)
h_buy "$key" "${N[0]}" -H "Idempotency-Key: k1"
is "$H_STATUS" 201 "replay with k1: same status 201"
same_bytes first
ok $? "replay with k1: byte-identical body"
is "$(calls)" "$calls0" "replay with k1: no provider call (ledger calls unchanged)"
is "$(effects)" "$effects0" "replay with k1: no provider effect"
h_req POST /api/user/phone-numbers/purchase "$key" "{ \"phone_number\" : \"${N[0]}\" }" \
	-H "Idempotency-Key: k1"
is "$H_STATUS" 201 "replay with k1, JSON spelled otherwise: 201"
same_bytes first
ok $? "replay with k1, JSON spelled otherwise: byte-identical body"
is "$(calls)" "$calls0" "replays: still no provider call"
is "$(h_sql "select count(*) from purchases where phone_number='${N[0]}'") $(h_sql "select count(*) from numbers where phone_number='${N[0]}'")" \
	"1 1" "replays made no second purchase or number"

# --- the same key for another request ------------------------------------
h_buy "$key" "${N[1]}" -H "Idempotency-Key: k1"
is "$H_STATUS $H_BODY" "422 $E_REUSED" "k1 with another number: 422 idempotency_key_reused"
is "$(calls)" "$calls0" "k1 with another number: no provider call"
is "$(h_sql "select count(*) from purchases where phone_number='${N[1]}'")" 0 \
	"k1 with another number: nothing claimed"

# --- malformed keys -------------------------------------------------------
long=$(printf 'k%.0s' $(seq 1 256))
h_buy "$key" "${N[1]}" -H "Idempotency-Key: $long"
is "$H_STATUS $H_BODY" "400 $E_KEY" "a 256-character key: 400 invalid_idempotency_key"
h_buy "$key" "${N[1]}" -H $'Idempotency-Key: k\tab'
is "$H_STATUS $H_BODY" "400 $E_KEY" "a key with a control character (TAB): 400"
h_buy "$key" "${N[1]}" -H 'Idempotency-Key: kéy'
is "$H_STATUS $H_BODY" "400 $E_KEY" "a key with non-ASCII bytes: 400"
# lighttpd answers a header holding DEL with its own 400: ask the same
# binary as plain CGI.
cgi_buy "$key" "${N[1]}" $'k\x7f'
is "$H_STATUS $H_BODY" "400 $E_KEY" "a key with DEL (plain CGI): 400"
# lighttpd drops an empty header before the responder sees it, so an empty
# key is no key on every server (one answer wherever the service runs):
# through lighttpd and as plain CGI, the answer of a request without a key.
h_buy "$key" "+14155557777"
nokey="$H_STATUS $H_BODY"
h_buy "$key" "+14155557777" -H 'Idempotency-Key;'
is "$H_STATUS $H_BODY" "$nokey" "an empty key through lighttpd: as without a key ($H_STATUS)"
cgi_buy "$key" "+14155557777" ""
is "$H_STATUS $H_BODY" "$nokey" "an empty key as plain CGI: the same answer"
is "$(h_sql "select count(*) from idempotency where key = ''")" 0 "an empty key: never recorded"
is "$(calls)" "$calls0" "malformed keys: no provider call"
is "$(h_sql "select count(*) from purchases where phone_number='${N[1]}'")" 0 \
	"malformed keys: nothing claimed"
h_buy "$key" "${N[1]}" -H "Idempotency-Key: ${long:1}"
is "$H_STATUS" 201 "a 255-character key is accepted: 201"
keep long255
h_buy "$key" "${N[1]}" -H "Idempotency-Key: ${long:1}"
same_bytes long255
ok $? "the 255-character key replays byte for byte"

# --- a new key for a number already owned --------------------------------
h_buy "$key" "${N[0]}" -H "Idempotency-Key: k-other"
is "$H_STATUS $H_BODY" "400 $E_IN_USE" "another key for the owned number: 400 in use"
h_buy "$key" "${N[0]}"
is "$H_STATUS $H_BODY" "400 $E_IN_USE" "no key for the owned number: 400 in use"

# --- 409 while in progress, then the finished reply ----------------------
h_fault invoice_pay delay 1 2000 || diag "could not arm the delay fault"
bg_buy bg "$key" "${N[2]}" k2 &
bgpid=$!
claimed() { [ "$(h_sql "select count(*) from purchases where phone_number='$1'")" = 1 ]; }
wait_for 10 claimed "${N[2]}"
ok $? "k2: the purchase row exists while its payment is delayed"
h_buy "$key" "${N[2]}" -H "Idempotency-Key: k2"
is "$H_STATUS $H_BODY" "409 $E_BUSY" "same key while in progress: 409 idempotency_key_in_progress"
is "$(h_sql "select count(*) from purchases where phone_number='${N[2]}'")" 1 \
	"the 409 started no second purchase"
h_buy "$key" "${N[2]}" -H "Idempotency-Key: k2-other"
is "$H_STATUS $H_BODY" "400 $E_IN_USE" "another key while in progress: 400 in use"
wait "$bgpid"
is "$(cat "$H_DIR/bg.status")" 201 "the delayed purchase finished: 201"
is "$(jq -r .data.phone_number "$H_DIR/bg.body" 2>/dev/null)" "${N[2]}" \
	"the delayed purchase bought ${N[2]}"
calls1=$(calls)
h_buy "$key" "${N[2]}" -H "Idempotency-Key: k2"
is "$H_STATUS" 201 "k2 after it finished: 201"
same_bytes bg.body
ok $? "k2 after it finished: byte-identical to the first request's reply"
is "$(calls)" "$calls1" "k2 after it finished: no provider call"
is "$(h_ledger | jq '[.subscriptions[] | select(.metadata.purchase_id ==
	"'"$(h_sql "select id from purchases where phone_number='${N[2]}'")"'")] | length')" 1 \
	"k2: one subscription for the purchase"

# --- a declined purchase replayed ----------------------------------------
read -r dacct dkey < <(h_account pm_card_chargeCustomerFail)
h_search "$dkey" "area_code=206&limit=3"
dnum=$(printf '%s' "$H_BODY" | jq -r '.data[0].phone_number')
h_buy "$dkey" "$dnum" -H "Idempotency-Key: k3"
is "$H_STATUS $H_BODY" "402 $E_DECLINED" "declined card with k3: 402 payment_failed"
keep declined
pays=$(h_ledger | jq '.calls.invoice_pay // 0')
calls2=$(calls)
h_buy "$dkey" "$dnum" -H "Idempotency-Key: k3"
is "$H_STATUS" 402 "k3 replayed: 402"
same_bytes declined
ok $? "k3 replayed: byte-identical body"
is "$(h_ledger | jq '.calls.invoice_pay // 0')" "$pays" "k3 replayed: no further invoice_pay call"
is "$(calls)" "$calls2" "k3 replayed: no provider call at all"
is "$(h_sql "select count(*) from purchases where phone_number='$dnum'") $(h_sql "select state from purchases where phone_number='$dnum'")" \
	"1 failed" "k3: one purchase, failed"
is "$(h_ledger | jq -r --arg n "$dnum" '[.numbers[] | select(.phone_number == $n and .status == "owned")] | length')" \
	0 "k3: the declined purchase owns no number at the carrier"

# --- keys belong to one account ------------------------------------------
read -r cacct ckey < <(h_account pm_card_visa)
h_search "$ckey" "area_code=305&limit=3"
cnum=$(printf '%s' "$H_BODY" | jq -r '.data[0].phone_number')
h_buy "$ckey" "$cnum" -H "Idempotency-Key: k1"
is "$H_STATUS" 201 "another account's k1 is its own key: 201"
is "$(printf '%s' "$H_BODY" | jq -r .data.phone_number)" "$cnum" "another account's k1 bought its number"

plan "$H_TESTNO"
h_done
