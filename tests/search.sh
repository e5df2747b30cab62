#!/bin/bash
# search.sh -- TAP integration test of GET /api/user/phone-numbers/search
# (DESIGN §2.2) through lighttpd + purchase.fcgi against the sandbox:
# the response shape item by item, defaults (US, local, 20), limit,
# contains, area_code, type, other countries, the offers a search records
# (and their expiry), every 422 with its exact body, 401 with one body for
# every cause, 500 on a carrier failure, and an offer that has expired.

: "${abs_top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${abs_top_builddir:=$(pwd)}"
. "$abs_top_srcdir/tests/harness.sh"

for tool in curl jq sqlite3; do
	command -v "$tool" >/dev/null 2>&1 || { echo "1..0 # SKIP $tool not installed"; exit 0; }
done


SEARCH=/api/user/phone-numbers/search
E_PARAM='{"error":"Invalid search parameters.","message":"Invalid search parameters.","code":"invalid_parameter"}'
E_COUNTRY='{"error":"Phone numbers are not available for this country and type.","message":"Phone numbers are not available for this country and type.","code":"unsupported_country"}'
E_AUTH='{"error":"Unauthenticated.","message":"Unauthenticated.","code":"unauthenticated"}'
E_SEARCH='{"error":"Failed to search for phone numbers. Please try again later.","message":"Failed to search for phone numbers. Please try again later.","code":"provider_error"}'
E_NOT_AVAILABLE='{"error":"This phone number is not available for purchase. Please search for available numbers first.","message":"This phone number is not available for purchase. Please search for available numbers first.","code":"number_not_available"}'

# bad_items -- how many items of $H_BODY's data break DESIGN §2.2's shape:
# exactly the seven fields, E.164 number, non-empty formatted number,
# two-letter country, price a number > 0, stripe_price_id price_...,
# address_requirements none|local|foreign|any, sms_capable a boolean.
# Prints "x" when the body is not {"data": [...]}.
bad_items() {
	printf '%s' "$H_BODY" | jq -r '
		if type == "object" and (keys == ["data"]) and (.data | type) == "array" then
		[.data[] | select(
			(type != "object") or
			((keys | sort) != (["address_requirements", "country_code", "phone_number",
			    "phone_number_formatted", "price", "sms_capable", "stripe_price_id"])) or
			((.phone_number | type) != "string") or
			(.phone_number | test("^\\+[1-9][0-9]{6,14}$") | not) or
			((.phone_number_formatted | type) != "string") or
			(.phone_number_formatted == "") or
			((.country_code | type) != "string") or
			(.country_code | test("^[A-Z]{2}$") | not) or
			((.price | type) != "number") or (.price <= 0) or
			((.stripe_price_id | type) != "string") or
			(.stripe_price_id | startswith("price_") | not) or
			([.address_requirements] | inside(["none", "local", "foreign", "any"]) | not) or
			((.sms_capable | type) != "boolean")
		)] | length
		else "x" end' 2>/dev/null || echo x
}

# jqb FILTER -- FILTER applied to $H_BODY, raw output.
jqb() { printf '%s' "$H_BODY" | jq -r "$1" 2>/dev/null; }

# search_ok DESC KEY QUERY -- a search that must answer 200 with a
# well-shaped body (2 test points).
search_ok() {
	h_search "$2" "$3"
	is "$H_STATUS" 200 "$1: 200"
	is "$(bad_items)" 0 "$1: every item has the documented shape"
}

h_start 2 || { echo "Bail out! stack did not start"; exit 1; }

read -r acct key < <(h_account pm_card_visa)
[ -n "${key:-}" ] || { echo "Bail out! no account"; exit 1; }

# --- the default search: shape, US, local, 20, offers --------------------
before=$(date +%s)
search_ok "default search" "$key" ""
after=$(date +%s)
is "$(h_header Content-Type)" "application/json" "Content-Type is application/json"
is "$(jqb '.data | length')" 20 "default limit is 20"
is "$(jqb '[.data[].country_code] | unique | join(",")')" US "default country is US"
is "$(jqb '[.data[] | select(.price != 1.15)] | length')" 0 "US local price is the number 1.15"
is "$(jqb '[.data[].price | type] | unique | join(",")')" number "price is a JSON number"
is "$(jqb '[.data[].stripe_price_id] | unique | join(",")')" price_us_local_monthly \
	"stripe_price_id is the US local price"
is "$(jqb '[.data[].sms_capable | type] | unique | join(",")')" boolean "sms_capable is a boolean"
is "$(jqb '[.data[].phone_number] | unique | length')" 20 "the 20 numbers are distinct"
is "$(jqb '[.data[].phone_number | select(startswith("+1"))] | length')" 20 \
	"US numbers are +1 numbers"
returned=$(jqb '.data[].phone_number' | sort)
offered=$(h_sql "select phone_number from offers where account_id=$acct order by phone_number")
is "$(h_sql "select count(*) from offers where account_id=$acct")" 20 \
	"20 offers recorded for the account"
is "$offered" "$returned" "the offers are exactly the numbers returned"
ttl=${H_OFFER_TTL:-3600}
is "$(h_sql "select count(*) from offers where account_id=$acct and
	expires_at between $before + $ttl and $after + $ttl")" 20 \
	"every offer expires offer_ttl_seconds ($ttl) after the search"
is "$(h_sql "select count(*) from offers where account_id=$acct and
	country_code='US' and type='local' and price_cents=115 and
	stripe_price_id='price_us_local_monthly'")" 20 "offers keep country, type and price shown"

# --- parameters ----------------------------------------------------------
search_ok "limit=5" "$key" "limit=5"
is "$(jqb '.data | length')" 5 "limit=5 gives 5"

search_ok "limit=50" "$key" "limit=50"
is "$(jqb '.data | length')" 50 "limit=50 gives 50"

search_ok "contains=555" "$key" "contains=555"
is "$(jqb '[.data[] | select(.phone_number | contains("555") | not)] | length')" 0 \
	"contains=555: every number contains 555"
is "$(jqb '.data | length')" 20 "contains=555: 20 numbers"

search_ok "contains=0042" "$key" "contains=0042&limit=10"
is "$(jqb '[.data[] | select(.phone_number | contains("0042") | not)] | length') $(jqb '.data | length')" \
	"0 10" "contains=0042: 10 numbers, each containing 0042"

search_ok "area_code=212" "$key" "area_code=212&limit=10"
is "$(jqb '[.data[] | select(.phone_number | startswith("+1212") | not)] | length') $(jqb '.data | length')" \
	"0 10" "area_code=212: 10 numbers, each +1212..."

search_ok "type=toll_free" "$key" "type=toll_free&limit=5"
is "$(jqb '[.data[] | select(.phone_number | test("^\\+18(00|33|44|55|66|77|88)") | not)] | length') $(jqb '.data | length')" \
	"0 5" "type=toll_free: 5 US toll-free numbers"
is "$(jqb '[.data[] | "\(.country_code) \(.price * 100 | round) \(.stripe_price_id)"] | unique | join(",")')" \
	"US 215 price_us_toll_free_monthly" "type=toll_free: toll-free price"
is "$(h_sql "select count(*) from offers where account_id=$acct and type='toll_free' and price_cents=215")" \
	5 "type=toll_free: offers recorded as toll_free at 215 cents"

search_ok "GB mobile" "$key" "country_code=GB&type=mobile&limit=5"
is "$(jqb '[.data[] | select(.phone_number | startswith("+447") | not)] | length') $(jqb '.data | length')" \
	"0 5" "GB mobile: 5 numbers, each +447..."
is "$(jqb '[.data[] | "\(.country_code) \(.price * 100 | round) \(.stripe_price_id)"] | unique | join(",")')" \
	"GB 125 price_gb_mobile_monthly" "GB mobile: GB mobile price"

search_ok "CA" "$key" "country_code=CA&limit=5"
is "$(jqb '[.data[] | "\(.country_code) \(.price * 100 | round) \(.stripe_price_id) \(.phone_number | startswith("+1"))"] | unique | join(",")')" \
	"CA 115 price_ca_local_monthly true" "CA: +1 numbers at the CA local price"
is "$(jqb '.data | length')" 5 "CA: 5 numbers"

search_ok "GB" "$key" "country_code=GB&limit=5"
is "$(jqb '[.data[] | "\(.country_code) \(.price * 100 | round) \(.stripe_price_id) \(.phone_number | startswith("+44"))"] | unique | join(",")')" \
	"GB 125 price_gb_local_monthly true" "GB: +44 numbers at the GB local price"
is "$(jqb '.data | length')" 5 "GB: 5 numbers"

search_ok "AU" "$key" "country_code=AU&limit=5"
is "$(jqb '[.data[] | "\(.country_code) \(.price * 100 | round) \(.stripe_price_id) \(.phone_number | startswith("+61"))"] | unique | join(",")')" \
	"AU 650 price_au_local_monthly true" "AU: +61 numbers at the AU local price"
is "$(jqb '.data | length')" 5 "AU: 5 numbers"

# --- every country and type of the seed price list (issue 9, item 14) ----
# Each answers with numbers of that country (its calling code) at its
# price; the clients of this API family default to DE and offer DE, US,
# CA, GB, AU, IL, PL, FI, NL, DK, IT.
cc_of() {
	case $1 in US|CA) echo 1 ;; GB) echo 44 ;; AU) echo 61 ;; DE) echo 49 ;; IL) echo 972 ;;
	PL) echo 48 ;; FI) echo 358 ;; NL) echo 31 ;; DK) echo 45 ;; IT) echo 39 ;; esac
}
while read -r cc type cents price; do
	h_search "$key" "country_code=$cc&type=$type&limit=3"
	is "$H_STATUS $(bad_items) $(jqb '.data | length')" "200 0 3" "$cc $type: 200, three well-shaped numbers"
	is "$(jqb "[.data[] | \"\(.country_code) \(.price * 100 | round) \(.stripe_price_id) \(.phone_number | startswith(\"+$(cc_of "$cc")\"))\"] | unique | join(\",\")")" \
		"$cc $cents $price true" "$cc $type: +$(cc_of "$cc") numbers at its price"
done < <(sed -n "s/.*VALUES ('\([A-Z]*\)', '\([a-z_]*\)', \([0-9]*\), '\(price_[a-z_]*\)').*/\1 \2 \3 \4/p" \
	"$abs_top_srcdir/sql/prices.sql")
for cc in DE US CA GB AU IL PL FI NL DK IT; do
	h_search "$key" "country_code=$cc&limit=1"
	is "$H_STATUS" 200 "$cc: a default (local) search answers 200"
done

# --- the carrier is not trusted (issue 9, item 7) ------------------------
# A reply that adds a number of another country and one that is not E.164:
# neither is offered, and each drop is logged.
h_fault numbers_available foreign 1
h_search "$key" "limit=50"
is "$H_STATUS $(bad_items)" "200 0" "foreign fault: 200, well-shaped"
is "$(jqb '[.data[] | select(.phone_number | startswith("+1") | not)] | length')" 0 \
	"foreign fault: no number of another country is offered"
is "$(h_sql "select count(*) from offers where account_id=$acct and country_code='US' and phone_number not like '+1%'")" 0 \
	"foreign fault: and none was recorded as an offer"
ok "$(grep -q 'dropped: not of the country asked' "$H_ERRLOG"; echo $?)" \
	"foreign fault: the number of another country is logged"
ok "$(grep -q 'dropped (no valid E.164 number)' "$H_ERRLOG"; echo $?)" \
	"foreign fault: the entry that is not E.164 is logged"

# --- 422: bad parameters, exact body, no carrier call, no offer ----------
calls_before=$(h_ledger | jq -c '.calls.numbers_available')
offers_before=$(h_sql "select count(*) from offers where account_id=$acct")
# contains: 2 to 10 digits (Twilio's Contains is 2 to 16 characters);
# area_code: three digits, NXX, for US and CA only (Twilio's AreaCode
# "applies to only phone numbers in the US and Canada").
for q in "country_code=USA" "country_code=1" "contains=abc" "contains=12345678901" \
	"contains=5" "area_code=21" "area_code=2125" "area_code=21255" "area_code=112" \
	"country_code=GB&area_code=207" "country_code=AU&area_code=212" \
	"limit=0" "limit=51" "limit=x" "type=premium" "colour=blue" \
	"limit=5&limit=6" "country_code=US&country_code=US"; do
	h_search "$key" "$q"
	is "$H_STATUS $H_BODY" "422 $E_PARAM" "422 invalid_parameter for $q"
done
h_search "$key" "country_code=FR"
is "$H_STATUS $H_BODY" "422 $E_COUNTRY" "422 unsupported_country for FR"
h_search "$key" "country_code=GB&type=toll_free"
is "$H_STATUS $H_BODY" "422 $E_COUNTRY" "422 unsupported_country for GB toll_free (no price)"
h_search "$key" "country_code=US&type=mobile"
is "$H_STATUS $H_BODY" "422 $E_COUNTRY" "422 unsupported_country for US mobile (Twilio sells none)"
is "$(h_ledger | jq -c '.calls.numbers_available')" "$calls_before" \
	"rejected searches never called the carrier"
is "$(h_sql "select count(*) from offers where account_id=$acct")" "$offers_before" \
	"rejected searches recorded no offer"

search_ok "CA area_code=416" "$key" "country_code=CA&area_code=416&limit=2"

# --- 401: one identical body for every cause -----------------------------
read -r acct2 key2 < <(h_account pm_card_visa)
"$PURCHASECTL" key revoke "$key2" 2>/dev/null
h_search "" ""
s1=$H_STATUS b1=$H_BODY
is "$s1 $b1" "401 $E_AUTH" "401 without a key"
h_search "pur_not_a_real_key" ""
is "$H_STATUS $H_BODY" "$s1 $b1" "401 with a malformed key, same body"
h_search "${key%?}$([ "${key: -1}" = A ] && echo B || echo A)" ""
is "$H_STATUS $H_BODY" "$s1 $b1" "401 with a wrong secret, same body"
h_search "$key2" ""
is "$H_STATUS $H_BODY" "$s1 $b1" "401 with a revoked key, same body"
h_req GET "$SEARCH" "" "" -H "Authorization: Basic $(printf 'a:b' | base64)"
is "$H_STATUS $H_BODY" "$s1 $b1" "401 with another auth scheme, same body"
is "$(h_sql "select count(*) from offers where account_id=$acct2")" 0 \
	"no offers for a refused request"

# --- 500: carrier failure, then fine again -------------------------------
h_fault numbers_available 500 1
h_search "$key" "limit=3"
is "$H_STATUS $H_BODY" "500 $E_SEARCH" "500 provider_error when the carrier fails"
search_ok "after the failure" "$key" "limit=3"
is "$(jqb '.data | length')" 3 "after the failure: 3 numbers again"

# --- offer expiry: a second stack whose offers live 2 seconds ------------
H_DIR0=$H_DIR
trap 'H_DIR=$H_DIR0; h_cleanup' EXIT
H_DIR=$H_DIR0/ttl2
mkdir -p "$H_DIR"
H_OFFER_TTL=3 h_start 2 || { echo "Bail out! second stack did not start"; exit 1; }
read -r acct3 key3 < <(h_account pm_card_visa)
search_ok "TTL 3 search" "$key3" "area_code=312&limit=3"
num=$(jqb '.data[1].phone_number')
is "$(h_sql "select case when expires_at - $(date +%s) between 0 and 3 then 1 else 0 end
	from offers where account_id=$acct3 and phone_number='$num'")" 1 "offer_ttl_seconds=3 honoured"
sleep 4
subs_before=$(h_ledger | jq -c '.calls.subscription_create // 0')
h_buy "$key3" "$num"
is "$H_STATUS $H_BODY" "400 $E_NOT_AVAILABLE" "expired offer: 400 not available"
is "$(h_sql "select count(*) from purchases where phone_number='$num'")" 0 \
	"expired offer: no purchase row"
is "$(h_ledger | jq -c '.calls.subscription_create // 0')" "$subs_before" \
	"expired offer: no subscription created"
search_ok "search again" "$key3" "area_code=312&limit=3"
h_buy "$key3" "$num"
is "$H_STATUS" 201 "searched again: buyable (201)"
is "$(jqb '"\(.message)|\(.data.phone_number)|\(.data.country_code)|\(.data.type)"')" \
	"Phone number purchased successfully.|$num|US|normal" "searched again: the 201 body"

plan "$H_TESTNO"
h_done
