#!/bin/bash
# sandbox-basic.sh -- TAP test of sandbox.fcgi under a real lighttpd
# (mod_fastcgi, two processes sharing one SQLite file) on a free loopback
# port, driven with curl and checked with jq: auth, the Stripe purchase
# flow (customer, payment method, subscription, invoice payment, decline),
# idempotency, search, listing and paging (subscriptions, owned numbers), the
# Twilio number flow, every fault kind, the ledger.
#
# Environment: SANDBOX_FCGI (default $abs_top_builddir/sandbox/sandbox.fcgi
# or ./sandbox/sandbox.fcgi), FREEPORT (a built tests/freeport), CC.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=${abs_top_builddir:-$(pwd)}
fcgi=${SANDBOX_FCGI:-$top/sandbox/sandbox.fcgi}
[ -x "$fcgi" ] || fcgi=./sandbox/sandbox.fcgi
lighttpd=$(command -v lighttpd || echo /usr/sbin/lighttpd)

for tool in curl jq; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "1..0 # SKIP $tool not installed"
		exit 0
	fi
done
if [ ! -x "$lighttpd" ]; then
	echo "1..0 # SKIP lighttpd not installed"
	exit 0
fi
if [ ! -x "$fcgi" ]; then
	echo "1..0 # SKIP sandbox.fcgi not built ($fcgi)"
	exit 0
fi
fcgi=$(cd "$(dirname "$fcgi")" && pwd)/$(basename "$fcgi")

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sandbox-basic.XXXXXX")
lpid=
cleanup() {
	if [ -n "$lpid" ]; then
		kill "$lpid" 2>/dev/null
		wait "$lpid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

freeport=${FREEPORT:-$top/tests/freeport}
if [ ! -x "$freeport" ]; then
	freeport=$tmp/freeport
	${CC:-cc} -o "$freeport" "$here/freeport.c" || { echo "Bail out! cannot build freeport"; exit 1; }
fi
port=$("$freeport") || { echo "Bail out! no free port"; exit 1; }

SID=AC00000000000000000000000000000000
TOKEN=sandbox_token
KEY=sk_test_sandbox
mkdir -p "$tmp/www"
cat >"$tmp/lighttpd.conf" <<EOF
server.modules = ("mod_fastcgi")
server.document-root = "$tmp/www"
server.bind = "127.0.0.1"
server.port = $port
server.errorlog = "$tmp/error.log"
server.pid-file = "$tmp/lighttpd.pid"
fastcgi.server = ( "/" => ((
	"socket" => "$tmp/sandbox.sock",
	"bin-path" => "$fcgi",
	"max-procs" => 2,
	"check-local" => "disable",
	"bin-environment" => ( "SANDBOX_DB" => "$tmp/sandbox.db" ),
)))
EOF
"$lighttpd" -D -f "$tmp/lighttpd.conf" >"$tmp/lighttpd.out" 2>&1 &
lpid=$!
base=http://127.0.0.1:$port

up=0
for _ in $(seq 1 100); do
	if [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/_sandbox/ledger")" = 200 ]; then
		up=1
		break
	fi
	sleep 0.05
done
if [ $up != 1 ]; then
	echo "Bail out! lighttpd/sandbox did not start"
	cat "$tmp/error.log" "$tmp/lighttpd.out" 2>/dev/null | sed 's/^/# /'
	exit 1
fi

n=0
check() {
	local desc=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n - $desc"
	else
		echo "not ok $n - $desc"
		echo "#   status=$status body=$(head -c 400 "$tmp/body" 2>/dev/null)"
	fi
}

# req METHOD URL [curl args]: $status, $tmp/body, $tmp/hdr, $curl_rc
status=
curl_rc=0
req() {
	local m=$1 url=$2
	shift 2
	status=$(curl -s -o "$tmp/body" -D "$tmp/hdr" -w '%{http_code}' -X "$m" "$@" "$url")
	curl_rc=$?
}
stripe() { local m=$1 p=$2; shift 2; req "$m" "$base$p" -H "Authorization: Bearer $KEY" "$@"; }
twilio() { local m=$1 p=$2; shift 2; req "$m" "$base/2010-04-01/Accounts/$SID$p" -u "$SID:$TOKEN" "$@"; }
ctl() { local m=$1 p=$2; shift 2; req "$m" "$base/_sandbox$p" -H 'Content-Type: application/json' "$@"; }
j() { jq -r "$1" "$tmp/body" 2>/dev/null; }
is() { [ "$1" = "$2" ]; }
st() { [ "$status" = "$1" ]; }
hdr() { tr -d '\r' <"$tmp/hdr" | grep -qi "^$1"; }
ledger() { curl -s "$base/_sandbox/ledger" | jq -r "$1"; }
fault() { ctl POST /faults --data "$1" >/dev/null; }

# --- auth -----------------------------------------------------------------
req GET "$base/v1/customers/cus_x"
check "stripe: no key -> 401 invalid_request_error" \
	eval 'st 401 && is "$(j .error.type)" invalid_request_error'
req GET "$base/v1/customers/cus_x" -H "Authorization: Bearer sk_test_wrongwrongwrong"
check "stripe: wrong key -> 401 with masked key" \
	eval 'st 401 && j .error.message | grep -q "^Invalid API Key provided: sk_test_\*"'
req GET "$base/2010-04-01/Accounts/$SID/IncomingPhoneNumbers.json" -u "$SID:nope"
check "twilio: wrong token -> 401 code 20003" \
	eval 'st 401 && is "$(j .code)" 20003 && is "$(j .status)" 401 && is "$(j .more_info)" https://www.twilio.com/docs/errors/20003'
req GET "$base/2010-04-01/Accounts/AC11111111111111111111111111111111/IncomingPhoneNumbers.json" -u "$SID:$TOKEN"
check "twilio: other account in path -> 401" eval 'st 401 && is "$(j .code)" 20003'

# --- Stripe: the paying flow ----------------------------------------------
stripe POST /v1/customers -d name=Ann -d email=ann@example.com
cus=$(j .id)
check "customer created" eval 'st 200 && [[ $cus =~ ^cus_[A-Za-z0-9]{14}$ ]] && is "$(j .object)" customer && is "$(j .invoice_settings.default_payment_method)" null'
stripe GET "/v1/customers/$cus"
check "customer retrieved" eval 'st 200 && is "$(j .email)" ann@example.com && is "$(j .livemode)" false'
stripe GET /v1/customers/cus_nope
check "unknown customer -> 404 resource_missing" \
	eval 'st 404 && is "$(j .error.code)" resource_missing && is "$(j .error.param)" id && is "$(j .error.message)" "No such customer: '"'"'cus_nope'"'"'"'
stripe POST /v1/payment_methods/pm_card_visa/attach -d customer="$cus"
pm=$(j .id)
check "attach pm_card_visa creates a new pm" \
	eval 'st 200 && [[ $pm =~ ^pm_ ]] && [ "$pm" != pm_card_visa ] && is "$(j .card.last4)" 4242 && is "$(j .customer)" "$cus" && is "$(j .type)" card'
stripe POST "/v1/customers/$cus" -d "invoice_settings[default_payment_method]=$pm"
check "customer default payment method set" eval 'st 200 && is "$(j .invoice_settings.default_payment_method)" "$pm"'
stripe POST "/v1/customers/$cus" -d "invoice_settings[default_payment_method]=pm_unattached"
check "default pm must be attached -> 400" eval 'st 400 && is "$(j .error.param)" "invoice_settings[default_payment_method]"'
stripe POST /v1/subscriptions -d customer="$cus" -d "items[0][price]=price_basic" \
	-d default_payment_method="$pm" -d payment_behavior=default_incomplete \
	-d "metadata[purchase_id]=p1" -d "expand[]=latest_invoice.payment_intent"
sub=$(j .id)
inv=$(j .latest_invoice.id)
check "subscription default_incomplete -> incomplete with open invoice" \
	eval 'st 200 && [[ $sub =~ ^sub_ ]] && is "$(j .status)" incomplete && is "$(j .latest_invoice.status)" open && is "$(j .metadata.purchase_id)" p1'
check "subscription item price 100 usd monthly, period 30 days" \
	eval 'is "$(j ".items.data[0].price.unit_amount")" 100 && is "$(j ".items.data[0].price.recurring.interval")" month && is "$(j ".current_period_end - .current_period_start")" 2592000 && is "$(j .cancel_at_period_end)" false'
stripe GET "/v1/invoices/$inv"
check "invoice open, unpaid" eval 'st 200 && is "$(j .status)" open && is "$(j .paid)" false && is "$(j .amount_due)" 100 && is "$(j .subscription)" "$sub"'
stripe POST "/v1/invoices/$inv/pay" -d ""
check "invoice pay -> paid" eval 'st 200 && is "$(j .status)" paid && is "$(j .paid)" true && is "$(j .amount_paid)" 100 && is "$(j .attempt_count)" 1'
stripe GET "/v1/subscriptions/$sub"
check "subscription active after payment" eval 'st 200 && is "$(j .status)" active && is "$(j .latest_invoice)" "$inv"'
stripe POST "/v1/invoices/$inv/pay" -d ""
check "paying a paid invoice -> 400" eval 'st 400 && is "$(j .error.message)" "Invoice is already paid"'
stripe POST /v1/subscriptions -d customer=cus_nope -d "items[0][price]=price_basic"
check "subscription for unknown customer -> 400 resource_missing customer" \
	eval 'st 400 && is "$(j .error.code)" resource_missing && is "$(j .error.param)" customer'

# --- Stripe: the declining card -------------------------------------------
stripe POST /v1/customers -d name=Bob
cus2=$(j .id)
stripe POST /v1/payment_methods/pm_card_chargeCustomerFail/attach -d customer="$cus2"
pm2=$(j .id)
check "attach pm_card_chargeCustomerFail" eval 'st 200 && is "$(j .card.last4)" 0341'
stripe POST /v1/subscriptions -d customer="$cus2" -d "items[0][price]=price_basic" \
	-d default_payment_method="$pm2" -d payment_behavior=default_incomplete -d "metadata[purchase_id]=p2"
sub2=$(j .id)
inv2=$(j .latest_invoice)
stripe POST "/v1/invoices/$inv2/pay" -d ""
check "declining card -> 402 card_error card_declined" \
	eval 'st 402 && is "$(j .error.type)" card_error && is "$(j .error.code)" card_declined && is "$(j .error.decline_code)" generic_decline && [[ $(j .error.charge) =~ ^ch_ ]]'
stripe GET "/v1/invoices/$inv2"
check "declined invoice stays open, attempt_count 1" eval 'is "$(j .status)" open && is "$(j .attempt_count)" 1 && is "$(j .paid)" false'

# --- Stripe: idempotency ----------------------------------------------------
eff0=$(ledger .effects.customer_create)
stripe POST /v1/customers -H "Idempotency-Key: key-1" -d name=Carol
cp "$tmp/body" "$tmp/first"
stripe POST /v1/customers -H "Idempotency-Key: key-1" -d name=Carol
check "idempotent replay: same bytes, Idempotent-Replayed: true" \
	eval 'st 200 && cmp -s "$tmp/first" "$tmp/body" && hdr "Idempotent-Replayed: true"'
check "idempotent replay did no work" is "$(ledger .effects.customer_create)" $((eff0 + 1))
stripe POST /v1/customers -H "Idempotency-Key: key-1" -d name=Dave
check "same key, other parameters -> 400 idempotency_error" \
	eval 'st 400 && is "$(j .error.type)" idempotency_error && j .error.message | grep -q "other than '"'"'key-1'"'"'"'
stripe POST "/v1/invoices/$inv2/pay" -H "Idempotency-Key: pay-2" -d ""
cp "$tmp/body" "$tmp/first"
stripe POST "/v1/invoices/$inv2/pay" -H "Idempotency-Key: pay-2" -d ""
check "402 decline is stored and replayed" eval 'st 402 && cmp -s "$tmp/first" "$tmp/body" && hdr "Idempotent-Replayed: true"'
stripe GET "/v1/invoices/$inv2"
check "replayed decline did not charge again" is "$(j .attempt_count)" 2

# --- Stripe: search, update, cancel -----------------------------------------
stripe GET /v1/subscriptions/search -G --data-urlencode "query=metadata['purchase_id']:'p1'"
check "search by metadata finds the subscription" \
	eval 'st 200 && is "$(j .object)" search_result && is "$(j ".data | length")" 1 && is "$(j ".data[0].id")" "$sub" && is "$(j .has_more)" false && is "$(j .url)" /v1/subscriptions/search'
stripe GET /v1/subscriptions/search -G --data-urlencode "query=metadata['purchase_id']:'nope'"
check "search with no match -> empty data" eval 'st 200 && is "$(j ".data | length")" 0'
stripe POST "/v1/subscriptions/$sub" -d cancel_at_period_end=true
check "update cancel_at_period_end=true" eval 'st 200 && is "$(j .cancel_at_period_end)" true && is "$(j .status)" active'
stripe DELETE "/v1/subscriptions/$sub2"
check "cancel -> canceled with canceled_at" eval 'st 200 && is "$(j .status)" canceled && [ "$(j .canceled_at)" != null ]'
stripe GET "/v1/invoices/$inv2"
check "cancel voided the open invoice" is "$(j .status)" void
stripe POST "/v1/invoices/$inv2/pay" -d ""
check "paying a void invoice -> 400" st 400
stripe DELETE "/v1/subscriptions/$sub2"
check "cancelling again -> 200 unchanged" eval 'st 200 && is "$(j .status)" canceled'

# --- Stripe: list subscriptions (reconciliation) ---------------------------
for i in 1 2 3; do
	stripe POST /v1/subscriptions -d customer="$cus" -d "items[0][price]=price_basic" \
		-d payment_behavior=default_incomplete -d "metadata[purchase_id]=list$i"
done
stripe GET /v1/subscriptions -G -d status=all -d limit=100 -d "expand[]=data.latest_invoice"
check "list status=all: list object, url, every subscription" \
	eval 'st 200 && is "$(j .object)" list && is "$(j .url)" /v1/subscriptions && is "$(j .has_more)" false && is "$(j ".data | length")" "$(ledger ".subscriptions | length")"'
check "list expand data.latest_invoice: paid invoice object for the paid subscription" \
	eval 'is "$(j ".data[] | select(.id == \"$sub\") | .latest_invoice | [.object, .id, .paid, .status] | join(\",\")")" "invoice,$inv,true,paid"'
check "list is newest first (created desc, then id desc)" \
	eval 'is "$(j "[.data[] | [.created, .id]] == ([.data[] | [.created, .id]] | sort | reverse)")" true'
all_ids=$(j '[.data[].id] | join(" ")')
stripe GET /v1/subscriptions
check "list default: canceled left out, latest_invoice an id" \
	eval 'st 200 && is "$(j "[.data[].id] | index(\"$sub2\")")" null && is "$(j ".data[] | select(.id == \"$sub\") | .latest_invoice")" "$inv"'
stripe GET /v1/subscriptions -G -d status=canceled -d customer="$cus2"
check "list status=canceled customer=cus2 -> just sub2" \
	eval 'st 200 && is "$(j "[.data[].id] | join(\" \")")" "$sub2"'
walked= after= pages=0
while [ $pages -lt 20 ]; do
	stripe GET /v1/subscriptions -G -d status=all -d limit=1 ${after:+-d starting_after=$after}
	st 200 || break
	pages=$((pages + 1))
	after=$(j '.data[0].id')
	walked="$walked${walked:+ }$after"
	[ "$(j .has_more)" = true ] || break
done
check "limit=1 + starting_after walks every subscription once, has_more false at the end" \
	eval 'st 200 && is "$(j .has_more)" false && is "$(j ".data | length")" 1 && is "$walked" "$all_ids" && is "$pages" "$(ledger ".subscriptions | length")"'
stripe GET /v1/subscriptions -G -d status=all -d starting_after="$after"
check "starting_after the last one -> empty page" eval 'st 200 && is "$(j ".data | length")" 0 && is "$(j .has_more)" false'
stripe GET /v1/subscriptions -G -d limit=0
check "list limit=0 -> 400 param limit" eval 'st 400 && is "$(j .error.type)" invalid_request_error && is "$(j .error.param)" limit'
stripe GET /v1/subscriptions -G -d starting_after=sub_nope
check "list unknown starting_after -> 400 resource_missing" \
	eval 'st 400 && is "$(j .error.code)" resource_missing && is "$(j .error.param)" starting_after'
check "list calls are counted as subscription_list" is "$(ledger .calls.subscription_list)" $((pages + 6))

# --- Twilio: available numbers ----------------------------------------------
avail() { twilio GET "/AvailablePhoneNumbers/$1.json" -G "${@:2}"; }
avail US/Local --data-urlencode AreaCode=415 --data-urlencode PageSize=3
first=$(j '.available_phone_numbers[0].phone_number')
check "US local AreaCode=415: 3 numbers in 415" \
	eval 'st 200 && is "$(j ".available_phone_numbers | length")" 3 && is "$(j "[.available_phone_numbers[].phone_number | startswith(\"+1415\")] | all")" true && is "$(j .page_size)" 3'
cp "$tmp/body" "$tmp/first"
avail US/Local --data-urlencode AreaCode=415 --data-urlencode PageSize=3
check "available numbers are deterministic" cmp -s <(jq .available_phone_numbers "$tmp/first") <(jq .available_phone_numbers "$tmp/body")
check "available number shape" \
	eval 'is "$(j ".available_phone_numbers[0] | [.friendly_name, .iso_country, .address_requirements, .capabilities.sms, .beta] | join(\",\")")" "(415) 555-0000,US,none,true,false" && is "$(j ".available_phone_numbers[0].capabilities | keys | join(\",\")")" "mms,sms,voice"'
avail US/Local --data-urlencode Contains=4242 --data-urlencode PageSize=5
check "Contains=4242 honoured" \
	eval 'st 200 && is "$(j ".available_phone_numbers | length")" 5 && is "$(j "[.available_phone_numbers[].phone_number | contains(\"4242\")] | all")" true'
avail US/Local --data-urlencode AreaCode=999
check "area code the country lacks -> empty list" eval 'st 200 && is "$(j ".available_phone_numbers | length")" 0'
avail ZZ/Local
check "unknown country -> 404 code 20404" eval 'st 404 && is "$(j .code)" 20404'
avail GB/Local --data-urlencode PageSize=1
check "GB local: +44 20 7946, SMS false, address any" \
	eval 'is "$(j ".available_phone_numbers[0] | [.phone_number, .capabilities.sms, .address_requirements] | join(\",\")")" "+442079460000,false,any"'
avail CA/Mobile
check "type the country lacks (CA mobile) -> empty list" eval 'st 200 && is "$(j ".available_phone_numbers | length")" 0'

# --- Twilio: buy, list, release, taken --------------------------------------
twilio POST /IncomingPhoneNumbers.json --data-urlencode "PhoneNumber=$first"
pn=$(j .sid)
check "buy -> 201 in-use" \
	eval 'st 201 && [[ $pn =~ ^PN[0-9a-f]{32}$ ]] && is "$(j .status)" in-use && is "$(j .phone_number)" "$first" && is "$(j .account_sid)" "$SID" && j .date_created | grep -q "+0000$"'
twilio POST /IncomingPhoneNumbers.json --data-urlencode "PhoneNumber=$first"
check "buy again -> 400 21422" eval 'st 400 && is "$(j .code)" 21422 && is "$(j .status)" 400'
avail US/Local --data-urlencode AreaCode=415 --data-urlencode PageSize=1
check "owned number no longer available" eval '[ "$(j ".available_phone_numbers[0].phone_number")" != "$first" ]'
next=$(j '.available_phone_numbers[0].phone_number')
twilio GET /IncomingPhoneNumbers.json -G --data-urlencode "PhoneNumber=$first"
check "list by PhoneNumber" eval 'st 200 && is "$(j ".incoming_phone_numbers | length")" 1 && is "$(j ".incoming_phone_numbers[0].sid")" "$pn"'
twilio DELETE "/IncomingPhoneNumbers/$pn.json"
check "release -> 204" st 204
twilio DELETE "/IncomingPhoneNumbers/$pn.json"
check "release again -> 404 20404" eval 'st 404 && is "$(j .code)" 20404'
avail US/Local --data-urlencode AreaCode=415 --data-urlencode PageSize=1
check "released number available again" is "$(j ".available_phone_numbers[0].phone_number")" "$first"
# Paging the owned numbers: buy three, release one, walk next_page_uri.
avail US/Local --data-urlencode AreaCode=212 --data-urlencode PageSize=3
bought=
for e in $(j '.available_phone_numbers[].phone_number'); do
	twilio POST /IncomingPhoneNumbers.json --data-urlencode "PhoneNumber=$e"
	bought="$bought $(j .sid)"
done
gone=$(echo $bought | cut -d" " -f2)
twilio DELETE "/IncomingPhoneNumbers/$gone.json"
owned=$(ledger '[.numbers[] | select(.status == "owned") | .sid] | sort | join(" ")')
twilio GET /IncomingPhoneNumbers.json -G --data-urlencode PageSize=1
check "list page 0: Twilio paging fields" \
	eval 'st 200 && is "$(j "[.page, .page_size, .start, .end] | join(\",\")")" "0,1,0,0" && is "$(j .previous_page_uri)" null && is "$(j .first_page_uri)" "/2010-04-01/Accounts/$SID/IncomingPhoneNumbers.json?PageSize=1&Page=0" && [[ $(j .next_page_uri) == /2010-04-01/Accounts/$SID/IncomingPhoneNumbers.json?PageSize=1\&Page=1\&PageToken=PA* ]]'
check "list element is the full resource" \
	eval 'is "$(j ".incoming_phone_numbers[0] | [.account_sid, .status, (.sid | test(\"^PN\")), (.phone_number | test(\"^[+]1\"))] | join(\",\")")" "$SID,in-use,true,true"'
walked= pages=0
while [ $pages -lt 10 ]; do
	pages=$((pages + 1))
	walked="$walked $(j '.incoming_phone_numbers[].sid')"
	nextp=$(j .next_page_uri)
	[ "$nextp" != null ] || break
	req GET "$base$nextp" -u "$SID:$TOKEN"
	st 200 || break
done
check "PageSize=1 walks every owned number once through next_page_uri" \
	eval 'is "$(echo $walked | tr " " "\n" | sort | tr "\n" " " | sed "s/ $//")" "$owned" && is "$pages" "$(echo $owned | wc -w)" && is "$(j .page)" $((pages - 1)) && is "$(j .start)" $((pages - 1))'
check "released number not listed" eval '! echo "$walked" | grep -q "$gone" && [ "$(echo $owned | wc -w)" -ge 2 ]'
twilio GET /IncomingPhoneNumbers.json -G --data-urlencode PageSize=1 --data-urlencode Page=1
check "Page=1 without a token: the second number, previous_page_uri set" \
	eval 'st 200 && is "$(j ".incoming_phone_numbers[0].sid")" "$(echo $walked | cut -d" " -f2)" && is "$(j .previous_page_uri)" "/2010-04-01/Accounts/$SID/IncomingPhoneNumbers.json?PageSize=1&Page=0"'
twilio GET /IncomingPhoneNumbers.json -G --data-urlencode PageSize=0
check "PageSize=0 -> 400 20001" eval 'st 400 && is "$(j .code)" 20001'
ctl POST /numbers/taken --data "{\"phone_number\":\"$next\"}"
twilio POST /IncomingPhoneNumbers.json --data-urlencode "PhoneNumber=$next"
check "number taken by someone else -> 21422" eval 'st 400 && is "$(j .code)" 21422'
twilio POST /IncomingPhoneNumbers.json --data-urlencode "PhoneNumber=12345"
check "not E.164 -> 21421" eval 'st 400 && is "$(j .code)" 21421'
twilio POST /IncomingPhoneNumbers.json --data-urlencode "PhoneNumber=+19995550000"
check "not in the inventory -> 21422" eval 'st 400 && is "$(j .code)" 21422'

# --- faults -----------------------------------------------------------------
calls0=$(ledger '.calls.customer_create')
eff0=$(ledger '.effects.customer_create')
fault '{"op":"customer_create","fault":"500"}'
stripe POST /v1/customers -d name=F
check "fault 500: api_error, no work" eval 'st 500 && is "$(j .error.type)" api_error && is "$(ledger .effects.customer_create)" $eff0'
stripe POST /v1/customers -d name=F
check "fault consumed once" st 200
fault '{"op":"customer_create","fault":"429"}'
stripe POST /v1/customers -d name=F
check "fault 429: Retry-After: 1, rate_limit" eval 'st 429 && hdr "Retry-After: 1" && is "$(j .error.code)" rate_limit'
fault '{"op":"customer_create","fault":"timeout_before","delay_ms":300}'
stripe POST /v1/customers -d name=F --max-time 0.2
sleep 0.25
check "timeout_before: client times out, no work" eval '[ $curl_rc = 28 ] && is "$(ledger .effects.customer_create)" $((eff0 + 1))'
fault '{"op":"customer_create","fault":"timeout_after","delay_ms":300}'
stripe POST /v1/customers -d name=F --max-time 0.2
sleep 0.25
check "timeout_after: client times out, work done" eval '[ $curl_rc = 28 ] && is "$(ledger .effects.customer_create)" $((eff0 + 2))'
fault '{"op":"customer_create","fault":"500_after"}'
stripe POST /v1/customers -d name=F
check "500_after: 500, work done" eval 'st 500 && is "$(ledger .effects.customer_create)" $((eff0 + 3))'
fault '{"op":"customer_create","fault":"malformed"}'
stripe POST /v1/customers -d name=F
check "malformed: 200 with invalid JSON, work done" \
	eval 'st 200 && ! jq . "$tmp/body" >/dev/null 2>&1 && is "$(ledger .effects.customer_create)" $((eff0 + 4))'
fault '{"op":"customer_create","fault":"huge"}'
stripe POST /v1/customers -d name=F
check "huge: 200 with a > 4 MiB body, work done" \
	eval 'st 200 && [ "$(wc -c <"$tmp/body")" -gt 4194304 ] && is "$(j .object)" customer && is "$(ledger .effects.customer_create)" $((eff0 + 5))'
fault '{"op":"customer_get","fault":"delay","delay_ms":250}'
t0=$(date +%s%N)
stripe GET "/v1/customers/$cus"
t1=$(date +%s%N)
check "delay: normal answer after delay_ms" eval 'st 200 && [ $(((t1 - t0) / 1000000)) -ge 250 ]'
check "calls count faulted requests too" is "$(ledger .calls.customer_create)" $((calls0 + 8))
fault '{"op":"number_buy","fault":"500","count":2}'
twilio POST /IncomingPhoneNumbers.json --data-urlencode "PhoneNumber=$first"
s1=$status
twilio POST /IncomingPhoneNumbers.json --data-urlencode "PhoneNumber=$first"
check "twilio fault: count 2, Twilio error shape" eval '[ $s1 = 500 ] && st 500 && is "$(j .code)" 20500 && is "$(j .status)" 500'
twilio POST /IncomingPhoneNumbers.json --data-urlencode "PhoneNumber=$first"
check "after count 2 the call succeeds" st 201
fault '{"op":"invoice_get","fault":"500","count":-1}'
stripe GET "/v1/invoices/$inv"
s1=$status
stripe GET "/v1/invoices/$inv"
s2=$status
ctl DELETE /faults
stripe GET "/v1/invoices/$inv"
check "count -1 until DELETE /_sandbox/faults" eval '[ $s1 = 500 ] && [ $s2 = 500 ] && st 200'
fault '{"op":"customer_get","fault":"500","count":3}'
pids=
for i in $(seq 1 12); do
	curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $KEY" "$base/v1/customers/$cus" >"$tmp/code.$i" &
	pids="$pids $!"
done
wait $pids # not a bare wait: lighttpd is a child too
cat "$tmp"/code.* >"$tmp/codes"
check "concurrent requests consume a count-3 fault exactly 3 times" \
	eval 'is "$(grep -c 500 "$tmp/codes")" 3 && is "$(grep -c 200 "$tmp/codes")" 9'
ctl POST /faults --data '{"op":"nope","fault":"500"}'
check "bad fault op -> 400" st 400

# A create that times out after doing the work, retried with the same key,
# is effective once.
eff_s=$(ledger '.effects.subscription_create // 0')
fault '{"op":"subscription_create","fault":"timeout_after","delay_ms":300}'
stripe POST /v1/subscriptions -H "Idempotency-Key: purchase-3" -d customer="$cus" \
	-d "items[0][price]=price_basic" -d payment_behavior=default_incomplete -d "metadata[purchase_id]=p3" --max-time 0.2
sleep 0.25
stripe POST /v1/subscriptions -H "Idempotency-Key: purchase-3" -d customer="$cus" \
	-d "items[0][price]=price_basic" -d payment_behavior=default_incomplete -d "metadata[purchase_id]=p3"
check "timeout_after + retry with key: one effective create" \
	eval 'st 200 && hdr "Idempotent-Replayed: true" && is "$(ledger .effects.subscription_create)" $((eff_s + 1)) && is "$(ledger "[.subscriptions[] | select(.metadata.purchase_id == \"p3\")] | length")" 1'

# --- ledger and reset ---------------------------------------------------------
ctl GET /ledger
check "ledger: numbers, taken, invoices" \
	eval 'is "$(j "[.numbers[] | select(.status == \"released\")] | length")" 2 && is "$(j ".taken[0]")" "$next" && is "$(j "[.invoices[] | select(.paid)] | length")" 1 && is "$(j ".customers | length")" "$(j .effects.customer_create)"'
check "ledger: subscriptions carry status and metadata" \
	eval 'is "$(j ".subscriptions[] | select(.id == \"$sub\") | [.status, .metadata.purchase_id, .cancel_at_period_end] | join(\",\")")" "active,p1,true"'
ctl POST /reset -d ""
ctl GET /ledger
check "reset wipes everything" eval 'is "$(j "[.customers, .subscriptions, .invoices, .numbers, .taken] | map(length) | add")" 0 && is "$(j ".calls | length")" 0'

# Stop the servers here rather than in the trap, and wait for the sandbox
# processes to exit (on SIGTERM they return from main): a sanitizer build
# reports leaks and errors on their stderr, lighttpd's.
kids=
for p in $lpid; do
	kids="$kids $(pgrep -P "$p" 2>/dev/null)"
done
for p in $lpid; do
	kill "$p" 2>/dev/null
	wait "$p" 2>/dev/null
done
lpid=
for _ in $(seq 1 100); do
	alive=0
	for p in $kids; do
		kill -0 "$p" 2>/dev/null && alive=1
	done
	[ $alive = 0 ] && break
	sleep 0.05
done
check "the sandbox processes exited without a sanitizer report" \
	eval '[ $alive = 0 ] && ! grep -q "ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:" "$tmp/lighttpd.out" "$tmp/error.log"'
grep -h -A30 "ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:" "$tmp/lighttpd.out" \
	"$tmp/error.log" 2>/dev/null | head -80 | sed 's/^/#   /'

# Trailing plan (TAP allows it): a script that dies early fails the plan.
echo "1..$n"
