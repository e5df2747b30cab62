#!/bin/bash
# numbers.sh -- every row of the tables of DESIGN §2.3 through a real
# lighttpd with curl: the lists (all, paged, the legacy one), one number,
# its nickname, the release at the end of the billing period and its
# undoing -- exact status and exact body, and the sandbox's ledger after
# each (the subscription's cancel_at_period_end, the numbers owned, the
# calls made). Another account's number is always 404.
: "${abs_top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
. "$abs_top_srcdir/tests/harness.sh"

N=/api/user/phone-numbers
E() { printf '{"error":"%s","message":"%s","code":"%s"}' "$1" "$1" "$2"; }
NOT_FOUND=$(E "Phone number not found." not_found)
SCHEDULED=$(E "Phone number is already scheduled for release." release_already_scheduled)
NOT_SCHEDULED=$(E "Phone number is not scheduled for release." release_not_scheduled)
RELEASED=$(E "Phone number has already been released." number_released)
RELEASE_FAILED=$(E "Failed to release phone number. Please try again or contact support." release_failed)
RESTORE_FAILED=$(E "Failed to restore phone number. Please try again or contact support." restore_failed)
TOO_LONG=$(E "The nickname may not be greater than 50 characters." nickname_too_long)
NOT_STRING=$(E "The nickname must be a string." invalid_nickname)
BAD_PAGE=$(E "The page and per_page parameters must be whole numbers (per_page 1 to 100)." invalid_pagination)
BAD_BODY=$(E "Request body must be a JSON object with only the documented fields." invalid_body)
RELEASED_OK='{"message":"Phone number released successfully. It will be removed at the end of the billing period."}'

h_start 2 || { echo "Bail out! cannot start the stack"; exit 1; }
read -r A_ID A_KEY < <(h_account pm_card_visa)
read -r B_ID B_KEY < <(h_account pm_card_visa)

calls() { h_ledger | jq -c .calls; }
sub_of_id() { h_ledger | jq -c --arg s "$(h_sql "select subscription_id from numbers where id=$1")" '.subscriptions[] | select(.id == $s)'; }
cape_of() { sub_of_id "$1" | jq -r .cancel_at_period_end; }
# number_json ID -- the number as DESIGN §2.3 shows it, from our row.
number_json() {
	h_sql_json "select * from numbers where id=$1" | jq -c '.[0] |
		{id, phone_number, country_code, type,
		 type_label: (if .type == "toll_free" then "Toll-Free Number" elif .type == "mobile" then "Mobile Number" else "Dedicated Number" end),
		 sms_capable: (.sms_capable == 1), region, has_active_subscription: (.status != "released"),
		 created_at: (.created_at | strftime("%Y-%m-%dT%H:%M:%S.000000Z")), nickname, status,
		 price: (.price_cents / 100),
		 current_period_end: (if .period_end then (.period_end | strftime("%Y-%m-%dT%H:%M:%S.000000Z")) else null end),
		 cancel_at_period_end: (.cancel_at_period_end == 1)}'
}
# body_is DESC -- H_BODY equals the JSON given on stdin (as values: the
# price's text is compared too).
same_json() {
	local a b
	a=$(printf '%s' "$1" | jq -cS .) b=$(printf '%s' "$2" | jq -cS .)
	[ "$a" = "$b" ] && return 0
	diag "got:  $a"
	diag "want: $b"
	return 1
}

# --- lists before anything is bought --------------------------------------
h_req GET "$N/all" "$A_KEY"
is "$H_STATUS $H_BODY" '200 {"data":[]}' "all: none yet"
h_req GET "$N/all?page=1" "$A_KEY"
is "$H_STATUS $H_BODY" '200 {"data":[],"current_page":1,"last_page":1,"per_page":25,"total":0}' \
	"all, paged: none yet"
h_req GET "$N" "$A_KEY"
is "$H_STATUS $H_BODY" '200 {"data":[]}' "legacy list: none yet"

# --- three numbers for A, one for B -----------------------------------------
h_bought "$A_KEY" || { echo "Bail out! cannot buy"; exit 1; }
A1=$NID A1N=$NUM
h_bought "$A_KEY"; A2=$NID
h_bought "$A_KEY"; A3=$NID
h_bought "$B_KEY"; B1=$NID

# --- GET {id} ------------------------------------------------------------------
before=$(calls)
h_req GET "$N/$A1" "$A_KEY"
is "$H_STATUS" 200 "get: 200"
ok "$(same_json "$H_BODY" "{\"data\":$(number_json "$A1")}"; echo $?)" "get: every field of DESIGN §2.3"
is "$(echo "$H_BODY" | jq -r '.data | keys_unsorted | join(",")')" \
	"id,phone_number,country_code,type,type_label,sms_capable,region,has_active_subscription,created_at,nickname,status,price,current_period_end,cancel_at_period_end" \
	"get: the fields in DESIGN's order"
is "$(echo "$H_BODY" | jq -r '.data | "\(.type) \(.type_label) \(.status) \(.has_active_subscription) \(.price) \(.nickname)"')" \
	"normal Dedicated Number active true 1.15 null" "get: type, label, status, price, nickname"
ok "$(echo "$H_BODY" | jq -e '.data.created_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.000000Z$")' >/dev/null; echo $?)" \
	"get: created_at in the platform's form"
ok "$(echo "$H_BODY" | jq -e '.data.current_period_end | test("Z$")' >/dev/null; echo $?)" \
	"get: current_period_end from Stripe's subscription"
is "$(calls)" "$before" "get: no provider call"
for bad in "$B1" 999999 0 "0$A1" abc -1 "$A1.0" "1e3"; do
	h_req GET "$N/$bad" "$A_KEY"
	is "$H_STATUS $H_BODY" "404 $NOT_FOUND" "get '$bad': 404 (another account's, unknown, not a positive integer)"
done
h_req GET "$N/$A1" ""
is "$H_STATUS" 401 "get without a key: 401"

# --- lists ---------------------------------------------------------------------
before=$(calls)
h_req GET "$N/all" "$A_KEY"
is "$H_STATUS $(echo "$H_BODY" | jq -c '[.data[].id]')" "200 [$A3,$A2,$A1]" "all: every number, newest first"
is "$(echo "$H_BODY" | jq -c 'keys')" '["data"]' "all: without page/per_page, just data"
ok "$(same_json "$(echo "$H_BODY" | jq -c '.data[2]')" "$(number_json "$A1")"; echo $?)" "all: items as GET shows them"
h_req GET "$N/all?per_page=2" "$A_KEY"
is "$H_STATUS $(echo "$H_BODY" | jq -c '[[.data[].id], .current_page, .last_page, .per_page, .total]')" \
	"200 [[$A3,$A2],1,2,2,3]" "all?per_page=2: page 1 of 2"
h_req GET "$N/all?per_page=2&page=2" "$A_KEY"
is "$H_STATUS $(echo "$H_BODY" | jq -c '[[.data[].id], .current_page, .last_page, .per_page, .total]')" \
	"200 [[$A1],2,2,2,3]" "all?per_page=2&page=2: the last one"
h_req GET "$N/all?page=3&per_page=2" "$A_KEY"
is "$H_STATUS $(echo "$H_BODY" | jq -c '[[.data[].id], .current_page, .last_page]')" \
	"200 [[],3,2]" "all, past the last page: empty"
for q in "page=0" "page=-1" "page=x" "per_page=0" "per_page=101" "per_page=2&per_page=3" "sort=id" "page=1.5"; do
	h_req GET "$N/all?$q" "$A_KEY"
	is "$H_STATUS $H_BODY" "422 $BAD_PAGE" "all?$q: 422"
done
h_req GET "$N" "$A_KEY"
is "$H_STATUS $(echo "$H_BODY" | jq -c '[.data[].id]')" "200 [$A3,$A2,$A1]" "legacy: the SMS-capable, unreleased ones"
is "$(calls)" "$before" "lists: no provider call"
h_req POST "$N/all" "$A_KEY" "" -H "Content-Length: 0"
is "$H_STATUS $(h_header Allow)" "405 GET" "POST all: 405, Allow: GET"

# --- PUT {id}: the nickname ---------------------------------------------------
h_req PUT "$N/$A1" "$A_KEY" '{"nickname":"Support line"}'
is "$H_STATUS $H_BODY" "200 {\"message\":\"Phone number updated successfully.\",\"data\":{\"id\":$A1,\"phone_number\":\"$A1N\",\"nickname\":\"Support line\",\"country_code\":\"US\",\"type\":\"normal\"}}" \
	"put: 200, the short data"
h_req GET "$N/$A1" "$A_KEY"
is "$(echo "$H_BODY" | jq -r .data.nickname)" "Support line" "put: the nickname shows"
fifty=$(printf 'é%.0s' $(seq 1 50))
h_req PUT "$N/$A1" "$A_KEY" "{\"nickname\":\"$fifty\"}"
is "$H_STATUS" 200 "put: 50 characters (100 bytes of é) fit"
h_req PUT "$N/$A1" "$A_KEY" "{\"nickname\":\"${fifty}x\"}"
is "$H_STATUS $H_BODY" "422 $TOO_LONG" "put: 51 characters: 422"
for v in 5 true '["a"]' '{"a":1}'; do
	h_req PUT "$N/$A1" "$A_KEY" "{\"nickname\":$v}"
	is "$H_STATUS $H_BODY" "422 $NOT_STRING" "put nickname $v: 422"
done
h_req PUT "$N/$A1" "$A_KEY" '{"nickname":null}'
is "$H_STATUS $(echo "$H_BODY" | jq -c .data.nickname)" "200 null" "put null: cleared"
h_req PUT "$N/$A1" "$A_KEY" '{"nickname":"x"}'
h_req PUT "$N/$A1" "$A_KEY" '{"nickname":""}'
is "$H_STATUS $(echo "$H_BODY" | jq -c .data.nickname)" "200 null" "put \"\": cleared"
for body in '[]' '{"nickname":"a","nickname":"b"}' '{"name":"x"}' 'nope'; do
	h_req PUT "$N/$A1" "$A_KEY" "$body"
	is "$H_STATUS $H_BODY" "400 $BAD_BODY" "put $body: 400"
done
h_req PUT "$N/$B1" "$A_KEY" '{"nickname":"mine"}'
is "$H_STATUS $H_BODY" "404 $NOT_FOUND" "put on another account's number: 404"
is "$(h_sql "select coalesce(nickname, '') from numbers where id=$B1")" "" "put on another's: nothing changed"
h_req PUT "$N/$A1" "$A_KEY" '' --data-binary '{"nickname":"x"}' -H 'Content-Type: text/plain'
is "$H_STATUS" 415 "put text/plain: 415"

# --- DELETE {id}: release at the end of the period ---------------------------------
owned_before=$(h_ledger | jq '[.numbers[] | select(.status == "owned")] | length')
h_req DELETE "$N/$A2" "$A_KEY"
is "$H_STATUS $H_BODY" "200 $RELEASED_OK" "delete: 200, the message"
is "$(cape_of "$A2")" true "delete: Stripe's cancel_at_period_end is set"
is "$(h_sql "select status || ' ' || cancel_at_period_end from numbers where id=$A2")" \
	"release_scheduled 1" "delete: release_scheduled"
is "$(h_ledger | jq '[.numbers[] | select(.status == "owned")] | length')" "$owned_before" \
	"delete: the number works until the period ends (still owned)"
h_req GET "$N/$A2" "$A_KEY"
is "$(echo "$H_BODY" | jq -c '.data | [.status, .has_active_subscription, .cancel_at_period_end]')" \
	'["release_scheduled",true,true]' "delete: GET shows it"
h_req DELETE "$N/$A2" "$A_KEY"
is "$H_STATUS $H_BODY" "400 $SCHEDULED" "delete again: 400 already scheduled"
h_req DELETE "$N/$B1" "$A_KEY"
is "$H_STATUS $H_BODY" "404 $NOT_FOUND" "delete another account's: 404"
is "$(cape_of "$B1")" false "delete another account's: its subscription untouched"
h_req DELETE "$N/abc" "$A_KEY"
is "$H_STATUS $H_BODY" "404 $NOT_FOUND" "delete 'abc': 404"
# Stripe cannot be told: 500, nothing changed.
h_fault subscription_update 500 -1
h_req DELETE "$N/$A3" "$A_KEY"
is "$H_STATUS $H_BODY" "500 $RELEASE_FAILED" "delete while Stripe fails: 500"
curl -sf -X DELETE "$SANDBOX/_sandbox/faults" >/dev/null
is "$(h_sql "select status from numbers where id=$A3") $(cape_of "$A3")" "active false" \
	"delete while Stripe fails: nothing changed"
# Bodies real clients send with DELETE: none; JSON without a length; length 0.
h_req DELETE "$N/$A3" "$A_KEY" '' -H 'Content-Type: application/json'
is "$H_STATUS $H_BODY" "200 $RELEASED_OK" "delete with Content-Type json and no length: 200"
h_req POST "$N/$A3/restore" "$A_KEY" '' -H 'Content-Type: application/json' -H 'Content-Length: 0'
is "$H_STATUS" 200 "restore with Content-Length: 0: 200"
h_req DELETE "$N/$A3" "$A_KEY" '' -H 'Content-Length: 0'
is "$H_STATUS $H_BODY" "200 $RELEASED_OK" "delete with Content-Length: 0: 200"

# --- POST {id}/restore ------------------------------------------------------------
# (lighttpd itself answers a POST without Content-Length 411, before any
# responder sees it -- its request.c; clients send Content-Length: 0. Apache
# passes it on, and the responder accepts it: tests/deploy-checks.sh.)
h_req POST "$N/$A2/restore" "$A_KEY"
is "$H_STATUS" 411 "restore, no Content-Length at all: lighttpd's own 411"
h_req POST "$N/$A2/restore" "$A_KEY" "" -H "Content-Length: 0"
is "$H_STATUS" 200 "restore: 200"
is "$(echo "$H_BODY" | jq -r .message)" "Phone number restored successfully." "restore: the message"
ok "$(same_json "$(echo "$H_BODY" | jq -c .data)" "$(number_json "$A2")"; echo $?)" "restore: the number as it is now"
is "$(echo "$H_BODY" | jq -c '.data | [.status, .cancel_at_period_end]')" '["active",false]' "restore: active again"
is "$(cape_of "$A2")" false "restore: Stripe's flag cleared"
h_req POST "$N/$A2/restore" "$A_KEY" "" -H "Content-Length: 0"
is "$H_STATUS $H_BODY" "400 $NOT_SCHEDULED" "restore an active number: 400 not scheduled"
h_req POST "$N/$B1/restore" "$A_KEY" "" -H "Content-Length: 0"
is "$H_STATUS $H_BODY" "404 $NOT_FOUND" "restore another account's: 404"
h_fault subscription_update 500 -1
h_req POST "$N/$A3/restore" "$A_KEY" "" -H "Content-Length: 0"
is "$H_STATUS $H_BODY" "500 $RESTORE_FAILED" "restore while Stripe fails: 500"
curl -sf -X DELETE "$SANDBOX/_sandbox/faults" >/dev/null
is "$(h_sql "select status from numbers where id=$A3") $(cape_of "$A3")" "release_scheduled true" \
	"restore while Stripe fails: nothing changed"
h_req GET "$N/$A2/restore" "$A_KEY"
is "$H_STATUS $(h_header Allow)" "405 POST" "GET restore: 405, Allow: POST"
h_req PATCH "$N/$A2" "$A_KEY"
is "$H_STATUS $(h_header Allow)" "405 GET, PUT, DELETE" "PATCH {id}: 405, Allow"

# --- released: the period ends (recovery, the service's clock past the margin) --------
# (the service's clock moves only in a fault-injection build)
if [ "$H_FI" = 1 ]; then
	end=$(h_sql "select period_end from numbers where id=$A3")
	env PURCHASE_TEST_CLOCK_OFFSET=$((end - $(date +%s) - 600)) "$PURCHASECTL" recover 2>/dev/null
	is "$(h_sql "select status || ' ' || release_reason from numbers where id=$A3")" "released released" \
		"a scheduled release within the margin of its period's end: released"
	is "$(h_ledger | jq -r --arg n "$(h_sql "select phone_number from numbers where id=$A3")" '[.numbers[] | select(.phone_number == $n)][-1].status')" \
		released "released: given back at the carrier"
	h_req GET "$N/$A3" "$A_KEY"
	is "$(echo "$H_BODY" | jq -c '.data | [.status, .has_active_subscription]')" '["released",false]' "released: GET shows it"
	h_req DELETE "$N/$A3" "$A_KEY"
	is "$H_STATUS $H_BODY" "400 $SCHEDULED" "delete a released number: 400 (as DESIGN says)"
	h_req POST "$N/$A3/restore" "$A_KEY" "" -H "Content-Length: 0"
	is "$H_STATUS $H_BODY" "400 $RELEASED" "restore a released number: 400 already released"
	h_req GET "$N" "$A_KEY"
	is "$(echo "$H_BODY" | jq -c '[.data[].id]')" "[$A2,$A1]" "legacy list: not the released one"
	h_req GET "$N/all" "$A_KEY"
	is "$(echo "$H_BODY" | jq -c '[.data[].id]')" "[$A3,$A2,$A1]" "all: the released one too"
else
	h_skip 7 "the test clock needs --enable-fault-injection"
fi

h_reconcile
ok $? "reconcile finds no difference"
plan "$H_TESTNO"
h_done
