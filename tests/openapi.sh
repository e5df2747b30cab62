#!/bin/bash
# openapi.sh -- docs/openapi.yaml against live answers: a stack
# (tests/harness.sh) is driven through the statuses of DESIGN §2 (200, 201,
# 400 x3, 401, 402 x2, 405, 409, 411, 413, 415, 422 x4, 503), and for each
# answer the document must list that status for that path and method, its
# schema must accept the body (types, required and undocumented properties,
# enums -- the error code among them), the exact error text must be written
# in the documented response, and the Content-Type must be the documented
# one. The YAML is read with tests/yaml2json.awk (no YAML parser on a fresh
# Debian).
: "${abs_top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
. "$abs_top_srcdir/tests/harness.sh"

doc=$H_DIR/openapi.json
awk -f "$abs_top_srcdir/tests/yaml2json.awk" "$abs_top_srcdir/docs/openapi.yaml" >"$doc"
ok "$(jq -e '.openapi and .paths' "$doc" >/dev/null; echo $?)" "docs/openapi.yaml reads as JSON"

H_BUSY_TIMEOUT_MS=300 h_start 2 || { echo "Bail out! cannot start the stack"; exit 1; }
read -r A_ID A_KEY < <(h_account pm_card_visa)
read -r N_ID N_KEY < <(h_account none)
read -r D_ID D_KEY < <(h_account pm_card_chargeCustomerFail)
BUY=/api/user/phone-numbers/purchase
SEARCH=/api/user/phone-numbers/search

# check METHOD PATH WANT-STATUS WHAT -- the last answer against the document
# (PATH as the document writes it: /api/user/phone-numbers/{id}).
check() {
	local method=$1 path=$2 want=$3 what=$4 errs
	printf '%s' "$H_BODY" >"$H_DIR/live.json"
	if [ "$H_STATUS" != "$want" ]; then
		ok 1 "$what: got $H_STATUS, the check wants $want"
		return
	fi
	errs=$(jq -r --arg p "$path" --arg m "$(echo "$method" | tr A-Z a-z)" --arg s "$H_STATUS" \
		--arg ct "$(h_header Content-Type)" --slurpfile live "$H_DIR/live.json" '
		def deref($doc): if type == "object" and has("$ref")
			then . as $x | $doc | getpath($x["$ref"] | ltrimstr("#/") | split("/")) | deref($doc)
			else . end;
		def errs($doc; $v; $at):
			deref($doc) as $s
			| (if $v == null and $s.nullable == true then []
			  elif $s.type == "object" then
				(if ($v | type) != "object" then ["\($at): not an object"]
				 else [($s.required // [])[] | select(. as $k | $v | has($k) | not) | "\($at).\(.): missing"]
					+ (if $s.additionalProperties == false
						then [$v | keys[] | select(. as $k | ($s.properties // {}) | has($k) | not) | "\($at).\(.): not documented"]
						else [] end)
					+ [($s.properties // {}) | to_entries[] | select(.key as $k | $v | has($k))
						| errs($doc; $v[.key]; "\($at).\(.key)")[]]
				 end)
			  elif $s.type == "array" then
				(if ($v | type) != "array" then ["\($at): not an array"]
				 else [range(0; $v | length) as $i | ($s.items | errs($doc; $v[$i]; "\($at)[\($i)]"))[]] end)
			  elif $s.type == "integer" then
				(if ($v | type) == "number" and ($v | floor) == $v then [] else ["\($at): not an integer"] end)
			  elif $s.type != null then
				(if ($v | type) == $s.type then [] else ["\($at): not a \($s.type)"] end)
			  else [] end)
			+ (if $s.enum != null and (any($s.enum[]; . == $v) | not)
				then ["\($at): \($v | tojson) not among \($s.enum | tojson)"] else [] end);
		. as $doc
		| ($live[0]) as $v
		# A wrong method has no operation of its own: its 405 is the one
		# the path'"'"'s operations document.
		| (.paths[$p][$m].responses[$s]
			// (if $s == "405" then [(.paths[$p] // {})[] | objects | .responses["405"] // empty][0] else null end)) as $r0
		| if $r0 == null then "status \($s) is not documented for \($m | ascii_upcase) \($p)"
		  else ($r0 | deref($doc)) as $r
		  | ($r.content // {}) as $c
		  | if ($c | has($ct) | not) then "Content-Type \($ct) is not documented"
		    else ($c[$ct].schema | errs($doc; $v; "body"))
			+ (if ($v | type) == "object" and ($v.error | type) == "string"
				and (($r | tostring) | contains($v.error) | not)
				then ["the text \($v.error | tojson) is not written in the documented response"]
				else [] end)
		    | join("; ")
		    end
		  end' "$doc" 2>&1)
	[ -z "$errs" ]
	ok $? "$what: $method $path $H_STATUS documented, body matches"
	[ -z "$errs" ] || diag "$errs -- body: $H_BODY"
}
offer() {	# offer KEY INDEX
	h_search "$1" "limit=10"
	echo "$H_BODY" | jq -r ".data[$2].phone_number"
}

h_req GET /api/health ""
check GET /api/health 200 "health"
h_req POST /api/health "" '{}'
check POST /api/health 405 "health, wrong method"

h_search "$A_KEY" "limit=5"
check GET $SEARCH 200 "search"
h_search "$A_KEY" "contains=abc"
check GET $SEARCH 422 "search, bad parameter"
h_search "$A_KEY" "country_code=ZZ"
check GET $SEARCH 422 "search, country without a price"
h_search "" "limit=1"
check GET $SEARCH 401 "search without a key"

n1=$(offer "$A_KEY" 0)
h_buy "$A_KEY" "$n1"
check POST $BUY 201 "purchase"
h_buy "$A_KEY" "$n1"
check POST $BUY 400 "purchase, in use"
h_buy "$A_KEY" "+14155557777"
check POST $BUY 400 "purchase, not available"
h_req POST $BUY "$A_KEY" '{"phone_number":"+14155551234","x":1}'
check POST $BUY 400 "purchase, undocumented field"
h_buy "$A_KEY" "+14155557777" -H "Idempotency-Key: $(head -c 256 /dev/zero | tr '\0' k)"
check POST $BUY 400 "purchase, bad Idempotency-Key"
h_buy "" "$n1"
check POST $BUY 401 "purchase without a key"
n2=$(offer "$N_KEY" 0)
h_buy "$N_KEY" "$n2"
check POST $BUY 402 "purchase, no payment method"
n3=$(offer "$D_KEY" 0)
h_buy "$D_KEY" "$n3"
check POST $BUY 402 "purchase, declined"
h_req GET $BUY "$A_KEY"
check GET $BUY 405 "purchase, wrong method"
# (without any Content-Length, lighttpd answers 411 itself)
h_req POST $BUY "$A_KEY" '' -H 'Content-Type: application/json' --data-binary ''
check POST $BUY 411 "purchase with an empty body"
h_req POST $BUY "$A_KEY" "{\"phone_number\":\"$(head -c 5000 /dev/zero | tr '\0' 1)\"}"
check POST $BUY 413 "purchase, body too large"
h_req POST $BUY "$A_KEY" '' --data-binary '{"phone_number":"+14155551234"}' -H 'Content-Type: text/plain'
check POST $BUY 415 "purchase, not JSON"
h_buy "$A_KEY" "4155551234"
check POST $BUY 422 "purchase, not E.164"
h_req POST $BUY "$A_KEY" '{}'
check POST $BUY 422 "purchase, phone_number missing"

# Idempotency: in progress (409), then reused with another body (422).
n4=$(offer "$A_KEY" 1)
h_fault invoice_pay delay 1 1500
curl -s -o /dev/null -H "Authorization: Bearer $A_KEY" -H 'Content-Type: application/json' \
	-H "Idempotency-Key: oa-$$" -d "{\"phone_number\":\"$n4\"}" "$BASE$BUY" &
bg=$!
for _ in $(seq 1 100); do
	[ "$(h_sql "select count(*) from purchases where phone_number='$n4'")" = 1 ] && break
	sleep 0.05
done
h_buy "$A_KEY" "$n4" -H "Idempotency-Key: oa-$$"
check POST $BUY 409 "purchase, same key in progress"
wait $bg
h_buy "$A_KEY" "+14155550000" -H "Idempotency-Key: oa-$$"
check POST $BUY 422 "purchase, same key, another body"

# 503: the database locked past busy_timeout_ms.
n5=$(offer "$A_KEY" 2)
h_lock_db 1.5
lock=$!
sleep 0.3
h_buy "$A_KEY" "$n5"
check POST $BUY 503 "purchase, database busy"
wait $lock

# The number's life (DESIGN §2.3).
N=/api/user/phone-numbers
NID=$(h_sql "select id from numbers where phone_number='$n1'")
h_req GET "$N/all" "$A_KEY"
check GET "$N/all" 200 "all numbers"
h_req GET "$N/all?page=1&per_page=1" "$A_KEY"
check GET "$N/all" 200 "all numbers, paged"
h_req GET "$N/all?per_page=500" "$A_KEY"
check GET "$N/all" 422 "all numbers, bad per_page"
h_req GET "$N" "$A_KEY"
check GET "$N" 200 "the legacy list"
h_req GET "$N/$NID" "$A_KEY"
check GET "$N/{id}" 200 "one number"
h_req GET "$N/999999" "$A_KEY"
check GET "$N/{id}" 404 "one number, unknown"
h_req PUT "$N/$NID" "$A_KEY" '{"nickname":"Sales"}'
check PUT "$N/{id}" 200 "nickname"
h_req PUT "$N/$NID" "$A_KEY" '{"nickname":null}'
check PUT "$N/{id}" 200 "nickname cleared"
h_req PUT "$N/$NID" "$A_KEY" '{"nickname":7}'
check PUT "$N/{id}" 422 "nickname, not a string"
h_req PUT "$N/$NID" "$A_KEY" '{"nick":"x"}'
check PUT "$N/{id}" 400 "nickname, undocumented field"
h_req DELETE "$N/$NID" "$A_KEY"
check DELETE "$N/{id}" 200 "release at the period's end"
h_req DELETE "$N/$NID" "$A_KEY"
check DELETE "$N/{id}" 400 "release again"
h_req POST "$N/$NID/restore" "$A_KEY" "" -H 'Content-Length: 0'
check POST "$N/{id}/restore" 200 "restore"
h_req POST "$N/$NID/restore" "$A_KEY" "" -H 'Content-Length: 0'
check POST "$N/{id}/restore" 400 "restore, not scheduled"
h_req PATCH "$N/$NID" "$A_KEY"
check PATCH "$N/{id}" 405 "a number, wrong method"
h_fault subscription_update 500 -1
h_req DELETE "$N/$NID" "$A_KEY"
check DELETE "$N/{id}" 500 "release, Stripe failing"
curl -sf -X DELETE "$SANDBOX/_sandbox/faults" >/dev/null
ev='{"id":"evt_openapi","object":"event","type":"payout.paid","created":1,"data":{"object":{"id":"po_1","object":"payout"}}}'
h_webhook "$ev" "$(h_sign "$ev")"
check POST /api/webhooks/stripe 200 "webhook"
h_webhook "$ev" "t=1,v1=00"
check POST /api/webhooks/stripe 400 "webhook, bad signature"

plan "$H_TESTNO"
h_done
