#!/bin/bash
# sandbox-lifecycle.sh -- TAP test of what the sandbox does after a purchase,
# under a real lighttpd (mod_fastcgi, two processes, one SQLite file) on a
# free loopback port, driven with curl and checked with jq: the sandbox
# clock and billing run (renewal paid, renewal declined -> past_due ->
# retries -> canceled, recovery, cancel_at_period_end, incomplete_expired),
# invoice void, legacy card sources and the payment method order, events
# and GET /v1/events, signed webhook deliveries to a second lighttpd (a CGI
# shell script that keeps every body and Stripe-Signature; signatures
# checked with openssl), manual and auto mode, duplicates, reverse order,
# failures; the carrier's monthly charges in the ledger; numbers for every
# seeded country and type; AreaCode/Contains checks, the foreign fault and
# IncomingPhoneNumbers paging.  Each section starts from POST
# /_sandbox/reset.
#
# Environment: SANDBOX_FCGI (default $abs_top_builddir/sandbox/sandbox.fcgi
# or ./sandbox/sandbox.fcgi), FREEPORT (a built tests/freeport), CC,
# abs_top_srcdir (for sql/prices.sql).
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=${abs_top_builddir:-$(pwd)}
srcdir=${abs_top_srcdir:-$here/..}
fcgi=${SANDBOX_FCGI:-$top/sandbox/sandbox.fcgi}
[ -x "$fcgi" ] || fcgi=./sandbox/sandbox.fcgi
lighttpd=$(command -v lighttpd || echo /usr/sbin/lighttpd)

for tool in curl jq openssl flock; do
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

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sandbox-lifecycle.XXXXXX")
lpid= rpid=
cleanup() {
	local p
	for p in $lpid $rpid; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

freeport=${FREEPORT:-$top/tests/freeport}
if [ ! -x "$freeport" ]; then
	freeport=$tmp/freeport
	${CC:-cc} -o "$freeport" "$here/freeport.c" || { echo "Bail out! cannot build freeport"; exit 1; }
fi
port=$("$freeport") || { echo "Bail out! no free port"; exit 1; }
rport=$("$freeport") || { echo "Bail out! no free port"; exit 1; }
[ "$rport" != "$port" ] || rport=$("$freeport") || { echo "Bail out! no free port"; exit 1; }

SID=AC00000000000000000000000000000000
TOKEN=sandbox_token
KEY=sk_test_sandbox
P=2592000 # the sandbox's month (30 days)

# The sandbox.
mkdir -p "$tmp/www"
cat >"$tmp/lighttpd.conf" <<EOF
server.modules = ("mod_fastcgi")
server.document-root = "$tmp/www"
server.bind = "127.0.0.1"
server.port = $port
server.errorlog = "$tmp/error.log"
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

# The webhook receiver: a CGI script that keeps each delivery as N.body,
# N.sig (the Stripe-Signature header) and N.hdr (Content-Type, User-Agent)
# and answers the status in recv/status (default 200).
mkdir -p "$tmp/rwww" "$tmp/recv"
cat >"$tmp/recv.sh" <<EOF
#!/bin/bash
dir=$tmp/recv
exec 9>"\$dir/lock"
flock 9
n=\$(( \$(cat "\$dir/count" 2>/dev/null || echo 0) + 1 ))
head -c "\${CONTENT_LENGTH:-0}" >"\$dir/\$n.body"
printf '%s' "\${HTTP_STRIPE_SIGNATURE:-}" >"\$dir/\$n.sig"
printf '%s\n%s\n' "\${CONTENT_TYPE:-}" "\${HTTP_USER_AGENT:-}" >"\$dir/\$n.hdr"
echo \$n >"\$dir/count.tmp" && mv "\$dir/count.tmp" "\$dir/count"
code=\$(cat "\$dir/status" 2>/dev/null || echo 200)
printf 'Status: %s\r\nContent-Type: application/json\r\n\r\n{"received": true}\n' "\$code"
EOF
chmod +x "$tmp/recv.sh"
cat >"$tmp/recv.conf" <<EOF
server.modules = ("mod_alias", "mod_cgi")
server.document-root = "$tmp/rwww"
server.bind = "127.0.0.1"
server.port = $rport
server.errorlog = "$tmp/recv-error.log"
alias.url = ( "/api/webhooks/stripe" => "$tmp/recv.sh" )
cgi.assign = ( ".sh" => "/bin/bash" )
EOF
"$lighttpd" -D -f "$tmp/recv.conf" >"$tmp/recv.out" 2>&1 &
rpid=$!
base=http://127.0.0.1:$port
hook=http://127.0.0.1:$rport/api/webhooks/stripe

up=0
for _ in $(seq 1 100); do
	if [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/_sandbox/ledger")" = 200 ] &&
		[ "$(curl -s -o /dev/null -w '%{http_code}' -d '{}' "$hook")" = 200 ]; then
		up=1
		break
	fi
	sleep 0.05
done
if [ $up != 1 ]; then
	echo "Bail out! lighttpd/sandbox or the receiver did not start"
	cat "$tmp/error.log" "$tmp/lighttpd.out" "$tmp/recv-error.log" "$tmp/recv.out" 2>/dev/null |
		sed 's/^/# /'
	exit 1
fi
rm -f "$tmp/recv/"*

n=0
check() {
	local desc=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n - $desc"
	else
		echo "not ok $n - $desc"
		echo "#   status=$status body=$(head -c 600 "$tmp/body" 2>/dev/null)"
	fi
}

status=
req() {
	local m=$1 url=$2
	shift 2
	status=$(curl -s -g -o "$tmp/body" -D "$tmp/hdr" -w '%{http_code}' -X "$m" "$@" "$url")
}
stripe() { local m=$1 p=$2; shift 2; req "$m" "$base$p" -H "Authorization: Bearer $KEY" "$@"; }
twilio() { local m=$1 p=$2; shift 2; req "$m" "$base/2010-04-01/Accounts/$SID$p" -u "$SID:$TOKEN" "$@"; }
ctl() { local m=$1 p=$2; shift 2; req "$m" "$base/_sandbox$p" -H 'Content-Type: application/json' "$@"; }
j() { jq -r "$1" "$tmp/body" 2>/dev/null; }
jc() { jq -c "$1" "$tmp/body" 2>/dev/null; }
is() { [ "$1" = "$2" ]; }
st() { [ "$status" = "$1" ]; }
header() { tr -d '\r' <"$tmp/hdr" | sed -n "s/^$1: //Ip" | head -1; }
ledger() { curl -s "$base/_sandbox/ledger" | jq -r "$1"; }
fault() { curl -s -o /dev/null -H 'Content-Type: application/json' --data "$1" "$base/_sandbox/faults"; }
sbx_reset() { curl -s -o /dev/null -d '' "$base/_sandbox/reset"; }
now() { curl -s "$base/_sandbox/clock" | jq -r .now; }
adv() { ctl POST /clock --data "{\"advance\": $1}"; }
# The newest event's id (a cursor), "" when there is none.
mark() { mark_id=$(curl -s -H "Authorization: Bearer $KEY" "$base/v1/events?limit=1" | jq -r '.data[0].id // empty'); }
# The events after the mark, oldest first, into $tmp/since; prints their types.
since() {
	curl -s -H "Authorization: Bearer $KEY" "$base/v1/events?limit=100${mark_id:+&ending_before=$mark_id}" |
		jq '.data | reverse' >"$tmp/since"
	jq -r 'map(.type) | join(" ")' "$tmp/since"
}
sj() { jq -r "$1" "$tmp/since"; }
# A customer with a payment method for token $1 as its invoice default:
# sets cus, pm.
customer_with() {
	stripe POST /v1/customers -d name=Lifecycle
	cus=$(j .id)
	stripe POST /v1/payment_methods/$1/attach -d customer="$cus"
	pm=$(j .id)
	stripe POST "/v1/customers/$cus" -d "invoice_settings[default_payment_method]=$pm"
}
# A subscription of $cus to price $1 (default_incomplete, extra args
# passed on): sets sub, inv.
subscribe() {
	local price=$1
	shift
	stripe POST /v1/subscriptions -d customer="$cus" -d "items[0][price]=$price" \
		-d payment_behavior=default_incomplete "$@"
	sub=$(j .id)
	inv=$(j .latest_invoice)
}
# Subscribes and pays the first invoice: an active subscription.
active_sub() {
	subscribe "$@"
	stripe POST "/v1/invoices/$inv/pay" -d ""
}
sub_get() { stripe GET "/v1/subscriptions/$1"; }
inv_get() { stripe GET "/v1/invoices/$1"; }
# Real-time nearness: |a - b| <= 3.
near() { [ "$1" -ge $(($2 - 3)) ] && [ "$1" -le $(($2 + 3)) ]; }

# === the clock ================================================================
ctl GET /clock
real=$(date +%s)
check "clock starts at real time, offset 0" eval 'st 200 && is "$(j .offset)" 0 && near "$(j .now)" "$real"'
for body in '{"advance": -1}' '{"advance": "60"}' '{"advance": 1.5}' '{}' '{"advance": 1, "x": 1}' \
	'{"advance": 631152001}' 'not json'; do
	ctl POST /clock --data "$body"
	check "clock advance $body -> 400" eval 'st 400 && [ "$(j .error)" != null ]'
done
adv 3600
check "advance 3600: offset 3600, now an hour ahead, nothing billed" \
	eval 'st 200 && is "$(j .offset)" 3600 && near "$(j .now)" $(($(date +%s) + 3600)) && is "$(j .steps)" 0'
stripe POST /v1/customers -d name=Clocked
check "objects are stamped with the sandbox clock" near "$(j .created)" $(($(date +%s) + 3600))
sbx_reset
ctl GET /clock
check "reset puts the clock back" eval 'is "$(j .offset)" 0'

# === events ===================================================================
sbx_reset
stripe GET /v1/events
check "no events at first: an empty list object" \
	eval 'st 200 && is "$(jc .)" "{\"object\":\"list\",\"data\":[],\"has_more\":false,\"url\":\"/v1/events\"}"'
stripe POST /v1/customers -d name=Eve
cus=$(j .id)
stripe POST /v1/payment_methods/pm_card_visa/attach -d customer="$cus"
pm=$(j .id)
check "creating a customer and attaching a card emit nothing" is "$(ledger '.events | length')" 0
stripe POST "/v1/customers/$cus" -d "invoice_settings[default_payment_method]=$pm"
rid=$(header Request-Id)
stripe GET /v1/events
e1=$(j '.data[0].id')
check "customer.updated: Stripe's event object" \
	eval 'st 200 && is "$(j ".data | length")" 1 && [[ $e1 =~ ^evt_[A-Za-z0-9]{24}$ ]] && is "$(j ".data[0] | [.object, .api_version, .livemode, .pending_webhooks, .type] | join(\",\")")" "event,2023-08-16,false,0,customer.updated" && is "$(j ".data[0] | keys_unsorted | join(\",\")")" "id,object,api_version,created,data,livemode,pending_webhooks,request,type"'
check "customer.updated: request id of the causing request, no idempotency key" \
	eval 'is "$(jc ".data[0].request")" "{\"id\":\"$rid\",\"idempotency_key\":null}"'
check "customer.updated: snapshot and previous_attributes" \
	eval 'is "$(j ".data[0].data.object | [.object, .id, .invoice_settings.default_payment_method] | join(\",\")")" "customer,$cus,$pm" && is "$(jc ".data[0].data.previous_attributes")" "{\"invoice_settings\":{\"default_payment_method\":null}}" && near "$(j ".data[0].created")" "$(now)"'
stripe GET "/v1/events/$e1"
check "GET /v1/events/{id}" eval 'st 200 && is "$(j .id)" "$e1" && is "$(j .type)" customer.updated'
stripe GET /v1/events/evt_nope
check "unknown event -> 404 resource_missing" \
	eval 'st 404 && is "$(j .error.code)" resource_missing && is "$(j .error.param)" id && is "$(j .error.type)" invalid_request_error'
stripe POST "/v1/customers/$cus" -d "invoice_settings[default_payment_method]=$pm"
check "setting the same default again emits nothing" is "$(ledger '.events | length')" 1

mark
subscribe price_basic -H "Idempotency-Key: sub-1"
cp "$tmp/body" "$tmp/sub-first"
check "subscription create -> customer.subscription.created" is "$(since)" customer.subscription.created
check "created event: snapshot incomplete, the request's idempotency key" \
	eval 'is "$(sj ".[0].data.object | [.object, .id, .status] | join(\",\")")" "subscription,$sub,incomplete" && is "$(sj ".[0].request.idempotency_key")" sub-1 && is "$(sj ".[0].data | has(\"previous_attributes\")")" false'
e_created=$(sj '.[0].id')
subscribe price_basic -H "Idempotency-Key: sub-1"
check "idempotent replay emits nothing" eval 'is "$(since)" customer.subscription.created && cmp -s "$tmp/sub-first" "$tmp/body"'
mark
stripe POST "/v1/invoices/$inv/pay" -d ""
check "invoice pay -> invoice.paid, invoice.payment_succeeded, customer.subscription.updated" \
	is "$(since)" "invoice.paid invoice.payment_succeeded customer.subscription.updated"
check "pay events: invoice snapshots paid, subscription active with previous status" \
	eval 'is "$(sj "[.[0].data.object.status, .[1].data.object.id, .[2].data.object.status] | join(\",\")")" "paid,$inv,active" && is "$(sj ".[2].data.previous_attributes | tostring")" "{\"status\":\"incomplete\"}"'
stripe GET "/v1/events/$e_created"
check "an event keeps its snapshot (created still shows incomplete)" is "$(j .data.object.status)" incomplete

# Paging and filters over the five events (newest first).
stripe GET /v1/events -G -d limit=100
all=$(j '[.data[].id] | join(" ")')
check "five events, newest first" \
	is "$(j '[.data[].type] | join(" ")')" "customer.subscription.updated invoice.payment_succeeded invoice.paid customer.subscription.created customer.updated"
stripe GET /v1/events -G -d limit=2
p1=$(j '[.data[].id] | join(" ")')
last=$(j '.data[1].id')
check "limit=2: two newest, has_more" eval 'st 200 && is "$(j .has_more)" true && is "$p1" "$(echo $all | cut -d" " -f1-2)"'
stripe GET /v1/events -G -d limit=2 -d starting_after="$last"
p2=$(j '[.data[].id] | join(" ")')
last=$(j '.data[1].id')
stripe GET /v1/events -G -d limit=2 -d starting_after="$last"
p3=$(j '[.data[].id] | join(" ")')
check "starting_after walks every event once, has_more false at the end" \
	eval 'is "$p1 $p2 $p3" "$all" && is "$(j .has_more)" false'
oldest=$(echo $all | cut -d" " -f5)
stripe GET /v1/events -G -d limit=2 -d ending_before="$oldest"
check "ending_before: the two just newer, still newest first, has_more" \
	eval 'is "$(j "[.data[].id] | join(\" \")")" "$(echo $all | cut -d" " -f3-4)" && is "$(j .has_more)" true'
stripe GET /v1/events -G -d type='invoice.*'
check "type=invoice.* (wildcard)" is "$(j '[.data[].type] | join(" ")')" "invoice.payment_succeeded invoice.paid"
stripe GET /v1/events -G -d type=customer.subscription.created
check "type=customer.subscription.created" is "$(j '[.data[].id] | join(" ")')" "$e_created"
stripe GET /v1/events -G -d 'types[]=invoice.paid' -d 'types[]=customer.updated'
check "types[]" is "$(j '[.data[].type] | join(" ")')" "invoice.paid customer.updated"
stripe GET /v1/events -G -d "created[gt]=$(($(now) + 100))"
check "created[gt] in the future -> none" eval 'st 200 && is "$(j ".data | length")" 0'
stripe GET /v1/events -G -d "created[lte]=$(($(now) + 100))" -d "created[gte]=$(($(now) - 100))"
check "created[gte]/[lte] around now -> all five" is "$(j '.data | length')" 5
for q in limit=0 limit=101 limit=x starting_after=evt_nope "starting_after=$e1&ending_before=$e1" \
	"type=invoice.paid&types[]=invoice.paid" "type=Invoice" "created[gt]=x" "created[foo]=1"; do
	stripe GET "/v1/events?$q"
	check "GET /v1/events?$q -> 400 invalid_request_error" eval 'st 400 && is "$(j .error.type)" invalid_request_error'
done
check "event_list and event_get are counted ops" \
	eval '[ "$(ledger .calls.event_list)" -ge 20 ] && is "$(ledger .calls.event_get)" 3'

# Nothing is emitted by a request that changes nothing or is rolled back.
count0=$(ledger '.events | length')
stripe POST "/v1/subscriptions/$sub" -d default_payment_method=pm_nope
check "400 update (unknown pm): no event" eval 'st 400 && is "$(ledger ".events | length")" $count0'
fault '{"op":"subscription_update","fault":"500"}'
stripe POST "/v1/subscriptions/$sub" -d cancel_at_period_end=true
check "fault 500 before the work: no event, nothing changed" \
	eval 'st 500 && is "$(ledger ".events | length")" $count0 && is "$(ledger ".subscriptions[0].cancel_at_period_end")" false'
stripe POST /v1/payment_methods/pm_card_chargeCustomerFail/attach -d customer="$cus"
pm_fail=$(j .id)
stripe POST /v1/subscriptions -d customer="$cus" -d "items[0][price]=price_basic" \
	-d default_payment_method="$pm_fail" -d payment_behavior=error_if_incomplete
check "error_if_incomplete decline: 402, no subscription, no event" \
	eval 'st 402 && is "$(ledger ".events | length")" $count0 && is "$(ledger ".subscriptions | length")" 1'
mark
stripe POST "/v1/subscriptions/$sub" -d cancel_at_period_end=true
pend=$(j .current_period_end)
t_cape=$(j .canceled_at)
check "cape=true: cancel_at the period end, canceled_at the request time, reason cancellation_requested" \
	eval 'st 200 && is "$(j .cancel_at)" "$pend" && near "$t_cape" "$(now)" && is "$(j .cancellation_details.reason)" cancellation_requested && is "$(j .status)" active && is "$(j .ended_at)" null'
check "cape=true -> customer.subscription.updated with previous cape, cancel_at, canceled_at" \
	eval 'is "$(since)" customer.subscription.updated && is "$(sj ".[0].data.previous_attributes | tostring")" "{\"cancel_at\":null,\"cancel_at_period_end\":false,\"canceled_at\":null}"'
mark
stripe POST "/v1/subscriptions/$sub" -d cancel_at_period_end=false
check "cape=false -> updated, previous values back" \
	eval 'is "$(since)" customer.subscription.updated && is "$(sj ".[0].data.previous_attributes | tostring")" "{\"cancel_at\":$pend,\"cancel_at_period_end\":true,\"canceled_at\":$t_cape}" && is "$(sj ".[0].data.object.canceled_at")" null'
mark
stripe POST "/v1/subscriptions/$sub" -d "metadata[note]=x" -d default_payment_method="$pm_fail"
check "metadata and default_payment_method -> one updated event with both previous values" \
	eval 'is "$(since)" customer.subscription.updated && is "$(sj ".[0].data.previous_attributes | tostring")" "{\"default_payment_method\":null,\"metadata\":{}}"'
mark
fault '{"op":"customer_update","fault":"500_after"}'
stripe POST "/v1/customers/$cus" -d "invoice_settings[default_payment_method]=$pm_fail"
check "500_after: the work was done, so was its event" \
	eval 'st 500 && is "$(since)" customer.updated && is "$(sj ".[0].data.previous_attributes.invoice_settings.default_payment_method")" "$pm"'

# === invoice void =============================================================
sbx_reset
customer_with pm_card_visa
subscribe price_basic
sub1=$sub inv1=$inv
mark
stripe POST "/v1/invoices/$inv1/void" -d ""
t_void=$(now)
check "void an open invoice -> 200 void, voided_at now, nothing left to pay" \
	eval 'st 200 && is "$(j .status)" void && near "$(j .status_transitions.voided_at)" "$t_void" && is "$(j .amount_remaining)" 0 && is "$(j .paid)" false && is "$(j .auto_advance)" false'
check "voiding the first invoice of an incomplete subscription: invoice.voided, then incomplete_expired" \
	eval 'is "$(since)" "invoice.voided customer.subscription.updated" && is "$(sj ".[1].data.object.status")" incomplete_expired && is "$(sj ".[1].data.previous_attributes.status")" incomplete'
sub_get "$sub1"
check "the subscription is incomplete_expired, ended, no cancellation reason" \
	eval 'is "$(j .status)" incomplete_expired && near "$(j .ended_at)" "$t_void" && is "$(j .canceled_at)" "$(j .ended_at)" && is "$(j .cancellation_details.reason)" null'
stripe POST "/v1/invoices/$inv1/void" -d ""
check "void a void invoice -> 400 invalid_request_error" \
	eval 'st 400 && is "$(jc .)" "{\"error\":{\"message\":\"You can only void an open invoice; this one is void.\",\"type\":\"invalid_request_error\"}}"'
stripe POST "/v1/invoices/$inv1/pay" -d ""
check "a void invoice can never be paid" \
	eval 'st 400 && is "$(j .error.message)" "You can only pay an open invoice; this one is void." && is "$(ledger ".invoices[0].status")" void'
mark
stripe DELETE "/v1/subscriptions/$sub1"
check "DELETE an incomplete_expired subscription -> 200 unchanged, no event" \
	eval 'st 200 && is "$(j .status)" incomplete_expired && is "$(since)" ""'
active_sub price_basic
sub2=$sub inv2=$inv
stripe POST "/v1/invoices/$inv2/void" -d ""
check "void a paid invoice -> 400, nothing changed" \
	eval 'st 400 && is "$(j .error.message)" "You can only void an open invoice; this one is paid." && is "$(j .error.type)" invalid_request_error && is "$(ledger ".invoices[1] | [.status, .voided_at] | join(\",\")")" "paid,"'
stripe POST /v1/invoices/in_nope/void -d ""
check "void an unknown invoice -> 404 resource_missing" eval 'st 404 && is "$(j .error.code)" resource_missing'
subscribe price_basic
fault '{"op":"invoice_void","fault":"500"}'
stripe POST "/v1/invoices/$inv/void" -d ""
check "fault on invoice_void: 500, the invoice still open" \
	eval 'st 500 && is "$(j .error.type)" api_error && is "$(ledger ".invoices[2].status")" open'
stripe POST "/v1/invoices/$inv/void" -d "" -H "Idempotency-Key: void-1"
cp "$tmp/body" "$tmp/void-first"
stripe POST "/v1/invoices/$inv/void" -d "" -H "Idempotency-Key: void-1"
check "void with an Idempotency-Key replays" \
	eval 'st 200 && cmp -s "$tmp/void-first" "$tmp/body" && is "$(header Idempotent-Replayed)" true && is "$(ledger .effects.invoice_void)" 2 && is "$(ledger .calls.invoice_void)" 7'

# === incomplete_expired by the clock ============================================
sbx_reset
customer_with pm_card_visa
subscribe price_basic
c0=$(j .created)
sub_get "$sub"
adv $((c0 + 82800 - 5 - $(now)))
check "22 h 59 m 55 s later: still incomplete" eval 'st 200 && is "$(j .steps)" 0 && is "$(ledger ".subscriptions[0].status")" incomplete'
mark
adv 10
check "23 h after creation: one billing step" eval 'st 200 && is "$(j .steps)" 1'
sub_get "$sub"
check "incomplete_expired, canceled_at = ended_at = created + 23 h, no reason" \
	eval 'is "$(j "[.status, .canceled_at, .ended_at, .cancellation_details.reason] | join(\",\")")" "incomplete_expired,$((c0 + 82800)),$((c0 + 82800)),"'
inv_get "$inv"
check "its open invoice voided at that moment" \
	eval 'is "$(j "[.status, .status_transitions.voided_at] | join(\",\")")" "void,$((c0 + 82800))"'
check "events: invoice.voided, customer.subscription.updated (automatic: request.id null)" \
	eval 'is "$(since)" "invoice.voided customer.subscription.updated" && is "$(sj "[.[].created] | unique | join(\",\")")" "$((c0 + 82800))" && is "$(sj ".[1].data.previous_attributes | tostring")" "{\"canceled_at\":null,\"ended_at\":null,\"status\":\"incomplete\"}" && is "$(sj ".[1].request | tostring")" "{\"id\":null,\"idempotency_key\":null}"'
stripe DELETE "/v1/subscriptions/$sub"
check "DELETE on incomplete_expired -> 200, status stays incomplete_expired" \
	eval 'st 200 && is "$(j .status)" incomplete_expired'
stripe POST "/v1/subscriptions/$sub" -d cancel_at_period_end=true
check "an ended subscription refuses cancel_at_period_end" eval 'st 400 && is "$(j .error.type)" invalid_request_error'
adv $((60 * 86400))
check "an expired subscription is never billed again" \
	eval 'is "$(j .steps)" 0 && is "$(ledger ".invoices | length")" 1'

# === legacy card sources =========================================================
sbx_reset
stripe POST /v1/customers -d name=Legacy
cus=$(j .id)
mark
stripe POST "/v1/customers/$cus/sources" -d source=tok_visa
card1=$(j .id)
check "source=tok_visa -> a card object attached to the customer" \
	eval 'st 200 && [[ $card1 =~ ^card_[A-Za-z0-9]{24}$ ]] && is "$(j "[.object, .brand, .last4, .funding, .customer, .exp_month, .exp_year] | join(\",\")")" "card,Visa,4242,credit,$cus,12,2034" && is "$(j "keys | length")" 23'
check "the first card becomes default_source: customer.updated" \
	eval 'is "$(since)" customer.updated && is "$(sj ".[0].data.previous_attributes | tostring")" "{\"default_source\":null}" && is "$(sj ".[0].data.object.default_source")" "$card1"'
stripe GET "/v1/customers/$cus"
check "GET customer: default_source the card, invoice_settings.default_payment_method null" \
	eval 'is "$(j .default_source)" "$card1" && is "$(j .invoice_settings.default_payment_method)" null'
mark
stripe POST "/v1/customers/$cus/sources" -d source=tok_chargeCustomerFail
card2=$(j .id)
check "a second card: 0341, default_source unchanged, no event" \
	eval 'st 200 && is "$(j .last4)" 0341 && is "$(since)" "" && is "$(ledger ".customers[0].default_source")" "$card1"'
stripe POST "/v1/customers/$cus/sources" -d source=tok_nope
check "unknown token -> 400 resource_missing param source" \
	eval 'st 400 && is "$(j .error.code)" resource_missing && is "$(j .error.param)" source'
stripe POST "/v1/customers/$cus/sources" -d ""
check "no source -> 400 parameter_missing" eval 'st 400 && is "$(j .error.code)" parameter_missing'
stripe POST "/v1/customers/$cus/sources" -d source=tok_chargeDeclined
check "tok_chargeDeclined -> 402 card_declined" eval 'st 402 && is "$(j .error.code)" card_declined'
stripe POST /v1/customers/cus_nope/sources -d source=tok_visa
check "sources of an unknown customer -> 404" eval 'st 404 && is "$(j .error.code)" resource_missing'
mark
stripe POST "/v1/customers/$cus" -d default_source="$card2"
check "POST customer default_source=card2 -> customer.updated, previous default_source" \
	eval 'st 200 && is "$(j .default_source)" "$card2" && is "$(since)" customer.updated && is "$(sj ".[0].data.previous_attributes | tostring")" "{\"default_source\":\"$card1\"}"'
stripe POST "/v1/customers/$cus" -d default_source=card_nope
check "default_source not a card of the customer -> 400 resource_missing" \
	eval 'st 400 && is "$(j .error.param)" default_source && is "$(j .error.code)" resource_missing'
stripe POST /v1/customers -d name=Other
other=$(j .id)
stripe POST "/v1/customers/$other/sources" -d source=tok_visa
card_other=$(j .id)
stripe POST /v1/subscriptions -d customer="$cus" -d "items[0][price]=price_basic" \
	-d default_source="$card_other" -d payment_behavior=default_incomplete
check "subscription default_source of another customer -> 400" \
	eval 'st 400 && is "$(j .error.param)" default_source'
subscribe price_basic -d default_source="$card1"
check "subscription accepts default_source" is "$(j .default_source)" "$card1"
stripe POST "/v1/invoices/$inv/pay" -d ""
check "pay: the subscription's default_source (4242) before the customer's (0341)" \
	eval 'st 200 && is "$(j .status)" paid && is "$(ledger ".invoices[0].charged_with")" "$card1"'
subscribe price_basic
stripe POST "/v1/invoices/$inv/pay" -d ""
check "pay: the customer's default_source, tok_chargeCustomerFail declines like its pm" \
	eval 'st 402 && is "$(j .error.code)" card_declined && is "$(ledger ".invoices[1] | [.status, .charged_with] | join(\",\")")" "open,$card2"'
stripe POST "/v1/invoices/$inv/pay" -d payment_method="$card1"
check "pay: the payment_method parameter first (a card id works)" \
	eval 'st 200 && is "$(ledger ".invoices[1] | [.status, .charged_with] | join(\",\")")" "paid,$card1"'
stripe POST /v1/payment_methods/pm_card_visa/attach -d customer="$cus"
pm=$(j .id)
stripe POST /v1/payment_methods/pm_card_chargeCustomerFail/attach -d customer="$cus"
pm_fail=$(j .id)
stripe POST "/v1/customers/$cus" -d "invoice_settings[default_payment_method]=$pm"
subscribe price_basic
stripe POST "/v1/invoices/$inv/pay" -d ""
check "pay: the customer's invoice default payment method before its default_source" \
	eval 'st 200 && is "$(ledger ".invoices[2].charged_with")" "$pm"'
subscribe price_basic -d default_payment_method="$pm_fail" -d default_source="$card1"
stripe POST "/v1/invoices/$inv/pay" -d ""
check "pay: the subscription's default_payment_method before its default_source" \
	eval 'st 402 && is "$(ledger ".invoices[3].charged_with")" "$pm_fail"'
stripe POST /v1/customers -d name=SourceOnly
cus=$(j .id)
stripe POST "/v1/customers/$cus/sources" -d source=tok_visa
stripe POST /v1/subscriptions -d customer="$cus" -d "items[0][price]=price_basic"
check "allow_incomplete with only a default_source: charged, active" \
	eval 'st 200 && is "$(j .status)" active'

# === renewal paid ===============================================================
sbx_reset
ctl POST /prices --data '{"id": "price_renew", "unit_amount": 250}'
customer_with pm_card_visa
active_sub price_renew
sub_get "$sub"
pstart=$(j .current_period_start) pend=$(j .current_period_end)
mark
adv $((pend - $(now) + 10))
check "period end: one billing step" eval 'st 200 && is "$(j .steps)" 1'
sub_get "$sub"
inv2=$(j .latest_invoice)
check "renewed: period advanced 30 days, active, a new latest invoice" \
	eval 'is "$(j "[.status, .current_period_start, .current_period_end] | join(\",\")")" "active,$pend,$((pend + P))" && [ "$inv2" != "$inv" ]'
inv_get "$inv2"
check "renewal invoice: subscription_cycle, the price's amount, paid at the period end" \
	eval 'is "$(j "[.billing_reason, .amount_due, .amount_paid, .status, .created, .status_transitions.paid_at, .attempt_count, .next_payment_attempt, .subscription] | join(\",\")")" "subscription_cycle,250,250,paid,$pend,$pend,1,,$sub"'
check "renewal invoice periods: the period just ended; its line the new one" \
	eval 'is "$(j "[.period_start, .period_end, .lines.data[0].period.start, .lines.data[0].period.end] | join(\",\")")" "$((pend - P)),$pend,$pend,$((pend + P))"'
check "renewal events: subscription updated (period), invoice.paid, invoice.payment_succeeded" \
	eval 'is "$(since)" "customer.subscription.updated invoice.paid invoice.payment_succeeded" && is "$(sj ".[0].data.previous_attributes | tostring")" "{\"current_period_end\":$pend,\"current_period_start\":$pstart,\"latest_invoice\":\"$inv\"}" && is "$(sj "[.[].created] | unique | join(\",\")")" "$pend" && is "$(sj "[.[].request.id] | unique | tostring")" "[null]"'
mark
adv $((3 * P))
check "three months in one advance: three renewals" eval 'st 200 && is "$(j .steps)" 3'
sub_get "$sub"
check "period end 4 months on, active" \
	eval 'is "$(j "[.status, .current_period_end] | join(\",\")")" "active,$((pend + 4 * P))"'
check "five paid invoices of 250, renewals at each period end" \
	eval 'is "$(ledger "[.invoices[] | select(.status == \"paid\" and .amount_paid == 250)] | length")" 5 && is "$(ledger "[.invoices[] | select(.billing_reason == \"subscription_cycle\") | .created - $pend] | join(\",\")")" "0,$P,$((2 * P)),$((3 * P))"'
check "nine events for the three renewals" is "$(since | wc -w)" 9

# === renewal declined -> past_due -> retries -> canceled =========================
sbx_reset
customer_with pm_card_visa
pm_ok=$pm
stripe POST /v1/payment_methods/pm_card_chargeCustomerFail/attach -d customer="$cus"
pm_fail=$(j .id)
active_sub price_basic -d default_payment_method="$pm_ok"
sub_get "$sub"
pend=$(j .current_period_end)
stripe POST "/v1/subscriptions/$sub" -d default_payment_method="$pm_fail"
mark
adv $((pend - $(now) + 10))
sub_get "$sub"
inv2=$(j .latest_invoice)
check "declined renewal: the subscription is past_due" is "$(j .status)" past_due
inv_get "$inv2"
check "declined renewal: invoice open, attempt_count 1, next_payment_attempt in 3 days" \
	eval 'is "$(j "[.status, .attempt_count, .attempted, .next_payment_attempt, .paid] | join(\",\")")" "open,1,true,$((pend + 259200)),false" && [[ $(j .charge) =~ ^ch_ ]]'
check "declined renewal events: updated (period), invoice.payment_failed, updated (status)" \
	eval 'is "$(since)" "customer.subscription.updated invoice.payment_failed customer.subscription.updated" && is "$(sj ".[2].data.previous_attributes | tostring")" "{\"status\":\"active\"}" && is "$(sj ".[2].data.object.status")" past_due'
mark
adv 259200
inv_get "$inv2"
check "retry 1 (day 3): declined, attempt 2, next in 3 more days" \
	eval 'is "$(j "[.status, .attempt_count, .next_payment_attempt] | join(\",\")")" "open,2,$((pend + 2 * 259200))" && is "$(since)" invoice.payment_failed'
adv 259200
inv_get "$inv2"
check "retry 2 (day 6): attempt 3" \
	eval 'is "$(j "[.status, .attempt_count, .next_payment_attempt] | join(\",\")")" "open,3,$((pend + 3 * 259200))"'
mark
adv 259200
t_end=$((pend + 3 * 259200))
inv_get "$inv2"
check "retry 3 (day 9), the 4th attempt: declined, invoice voided" \
	eval 'is "$(j "[.status, .attempt_count, .next_payment_attempt, .status_transitions.voided_at] | join(\",\")")" "void,4,,$t_end"'
sub_get "$sub"
check "after the last attempt: canceled, reason payment_failed" \
	eval 'is "$(j "[.status, .canceled_at, .ended_at, .cancellation_details.reason] | join(\",\")")" "canceled,$t_end,$t_end,payment_failed"'
check "last attempt events: invoice.payment_failed, invoice.voided, customer.subscription.deleted" \
	eval 'is "$(since)" "invoice.payment_failed invoice.voided customer.subscription.deleted" && is "$(sj ".[2].data.object.status")" canceled'
adv $((2 * P))
check "a canceled subscription is never billed again" \
	eval 'is "$(j .steps)" 0 && is "$(ledger ".invoices | length")" 2'

# Recovery: a retry that succeeds makes the subscription active again.
sbx_reset
customer_with pm_card_visa
pm_ok=$pm
stripe POST /v1/payment_methods/pm_card_chargeCustomerFail/attach -d customer="$cus"
pm_fail=$(j .id)
subscribe price_basic -d default_payment_method="$pm_fail"
stripe POST "/v1/invoices/$inv/pay" -d payment_method="$pm_ok"
sub_get "$sub"
pend=$(j .current_period_end)
adv $((pend - $(now) + 10))
sub_get "$sub"
inv2=$(j .latest_invoice)
check "recovery: past_due after the declined renewal" is "$(j .status)" past_due
stripe POST "/v1/subscriptions/$sub" -d default_payment_method="$pm_ok"
mark
adv 259200
inv_get "$inv2"
check "recovery: the retry charges the new default and pays" \
	eval 'is "$(j "[.status, .attempt_count, .next_payment_attempt, .status_transitions.paid_at] | join(\",\")")" "paid,2,,$((pend + 259200))"'
check "recovery events: invoice.paid, invoice.payment_succeeded, updated past_due -> active" \
	eval 'is "$(since)" "invoice.paid invoice.payment_succeeded customer.subscription.updated" && is "$(sj ".[2].data.previous_attributes.status")" past_due && is "$(sj ".[2].data.object.status")" active'
# A past_due invoice paid by hand.
stripe POST "/v1/subscriptions/$sub" -d default_payment_method="$pm_fail"
sub_get "$sub"
pend=$(j .current_period_end)
adv $((pend - $(now) + 10))
sub_get "$sub"
inv3=$(j .latest_invoice)
stripe POST "/v1/invoices/$inv3/pay" -d payment_method="$pm_ok"
check "a past_due invoice paid by hand -> paid" eval 'st 200 && is "$(j .status)" paid'
sub_get "$sub"
check "... and the subscription is active again" is "$(j .status)" active
adv $((4 * 86400))
check "no retry of a paid invoice" eval 'is "$(j .steps)" 0'

# === cancel_at_period_end -> canceled at the period end ===========================
sbx_reset
customer_with pm_card_visa
active_sub price_basic
stripe POST "/v1/subscriptions/$sub" -d cancel_at_period_end=true
pend=$(j .current_period_end)
t_cape=$(j .canceled_at)
adv $((pend - $(now) - 10))
check "10 s before the period end: nothing billed" eval 'is "$(j .steps)" 0 && is "$(ledger ".subscriptions[0].status")" active'
mark
adv 20
check "the period end: one billing step" is "$(j .steps)" 1
sub_get "$sub"
check "canceled at the period end: ended_at the period end, canceled_at the request, reason cancellation_requested" \
	eval 'is "$(j "[.status, .ended_at, .canceled_at, .cancel_at_period_end, .cancellation_details.reason] | join(\",\")")" "canceled,$pend,$t_cape,true,cancellation_requested"'
check "no renewal invoice" is "$(ledger '.invoices | length')" 1
check "event: customer.subscription.deleted at the period end, no previous_attributes" \
	eval 'is "$(since)" customer.subscription.deleted && is "$(sj ".[0] | [.created, .data.object.status, (.data | has(\"previous_attributes\"))] | join(\",\")")" "$pend,canceled,false"'
mark
stripe DELETE "/v1/subscriptions/$sub"
check "DELETE on canceled -> 200 unchanged, no event" \
	eval 'st 200 && is "$(j .status)" canceled && is "$(j .ended_at)" "$pend" && is "$(since)" ""'

# === webhooks ==================================================================
sbx_reset
rm -f "$tmp/recv/"*
received() {
	local c
	c=$(cat "$tmp/recv/count" 2>/dev/null)
	echo "${c:-0}"
}
# wait_received N: up to 5 s for the receiver to have N deliveries.
wait_received() {
	local i
	for i in $(seq 1 100); do
		[ "$(received)" -ge "$1" ] && return 0
		sleep 0.05
	done
	return 1
}
# hmac SECRET N: the expected v1 of delivery N for SECRET.
hmac() {
	local t
	t=$(sed -n 's/^t=\([0-9]*\),.*/\1/p' "$tmp/recv/$2.sig")
	{ printf '%s.' "$t"; cat "$tmp/recv/$2.body"; } | openssl dgst -sha256 -hmac "$1" | sed 's/.*= *//'
}
ctl GET /webhooks
check "no endpoint at first" eval 'st 200 && is "$(jc .)" "{\"url\":null}"'
for body in '{"url": "http://example.com/hook", "secrets": ["whsec_a"]}' \
	"{\"url\": \"$hook\", \"secrets\": []}" "{\"url\": \"$hook\", \"secrets\": [\"a,b\"]}" \
	"{\"url\": \"$hook\", \"secrets\": [\"whsec_a\"], \"mode\": \"push\"}" \
	"{\"url\": \"$hook\", \"secrets\": [\"whsec_a\"], \"extra\": 1}" "{\"secrets\": [\"whsec_a\"]}"; do
	ctl POST /webhooks --data "$body"
	check "webhooks $body -> 400" st 400
done
ctl POST /webhooks/deliver --data '{}'
check "deliver without an endpoint -> 409" st 409
# An event before any endpoint is never pending.
customer_with pm_card_visa
check "an event created without an endpoint: pending_webhooks 0, not pending" \
	eval 'is "$(ledger "[.events[] | select(.pending)] | length")" 0'
ctl POST /webhooks --data "{\"url\": \"$hook\", \"secrets\": [\"whsec_new\", \"whsec_old\"], \"mode\": \"manual\"}"
check "configure manual mode with two secrets" \
	eval 'st 200 && is "$(jc .)" "{\"ok\":true,\"url\":\"$hook\",\"mode\":\"manual\",\"secrets\":2}"'
ctl GET /webhooks
check "GET /_sandbox/webhooks shows it (not the secrets)" \
	is "$(jc .)" "{\"url\":\"$hook\",\"mode\":\"manual\",\"secrets\":2}"
mark
active_sub price_basic
stripe POST /v1/payment_methods/pm_card_chargeCustomerFail/attach -d customer="$cus"
stripe POST "/v1/customers/$cus" -d "invoice_settings[default_payment_method]=$(j .id)"
sleep 0.5
check "manual mode: nothing sent" is "$(received)" 0
types=$(since)
check "five events, pending_webhooks 1" \
	eval 'is "$types" "customer.subscription.created invoice.paid invoice.payment_succeeded customer.subscription.updated customer.updated" && is "$(sj "[.[].pending_webhooks] | unique | tostring")" "[1]"'
ctl GET /webhooks/pending
cp "$tmp/body" "$tmp/pending"
check "pending: the five, oldest first, each with its raw payload" \
	eval 'st 200 && is "$(j "[.data[].type] | join(\" \")")" "$types" && is "$(j "[.data[] | (.payload | fromjson | .id) == .id] | all")" true'
ev() { jq -r ".data[] | select(.type == \"$1\") | .id" "$tmp/pending"; }
payload() { jq -j ".data[] | select(.id == \"$1\") | .payload" "$tmp/pending"; }
e_paid=$(ev invoice.paid)
e_created=$(ev customer.subscription.created)
e_updated=$(ev customer.subscription.updated)
adv $((10 * 86400)) # signatures use real time, not the sandbox clock
ctl POST /webhooks/deliver --data '{"types": ["invoice.paid"]}'
check "deliver types=[invoice.paid]: one attempt, 200" \
	eval 'st 200 && is "$(jc .)" "{\"attempts\":[{\"event\":\"$e_paid\",\"type\":\"invoice.paid\",\"status\":200}]}" && is "$(received)" 1'
check "the delivery is the event's exact bytes" cmp -s "$tmp/recv/1.body" <(payload "$e_paid")
sig=$(cat "$tmp/recv/1.sig")
t=$(echo "$sig" | sed -n 's/^t=\([0-9]*\),.*/\1/p')
check "Stripe-Signature: t (real time), then one v1 per secret" \
	eval '[[ $sig =~ ^t=[0-9]+,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$ ]] && near "$t" "$(date +%s)"'
check "each v1 is HMAC-SHA256 of \"t.body\" with its secret (openssl)" \
	eval 'is "$(echo "$sig" | cut -d, -f2)" "v1=$(hmac whsec_new 1)" && is "$(echo "$sig" | cut -d, -f3)" "v1=$(hmac whsec_old 1)"'
check "Content-Type and User-Agent as Stripe's" \
	is "$(cat "$tmp/recv/1.hdr")" "$(printf 'application/json; charset=utf-8\nStripe/1.0 (+https://stripe.com/docs/webhooks)')"
ctl GET /webhooks/pending
check "the delivered event is no longer pending; the others are" \
	eval 'is "$(j ".data | length")" 4 && is "$(j "[.data[].id] | index(\"$e_paid\")")" null'
ctl POST /webhooks/deliver --data "{\"order\": \"reverse\", \"duplicates\": 2, \"ids\": [\"$e_created\", \"$e_updated\"]}"
check "deliver ids, reverse, duplicates 2: newest first, each twice" \
	eval 'st 200 && is "$(j "[.attempts[] | .event + \":\" + (.status | tostring)] | join(\" \")")" "$e_updated:200 $e_updated:200 $e_created:200 $e_created:200"'
check "the receiver got them in that order, byte for byte" \
	eval 'is "$(received)" 5 && cmp -s "$tmp/recv/2.body" <(payload "$e_updated") && cmp -s "$tmp/recv/3.body" "$tmp/recv/2.body" && cmp -s "$tmp/recv/4.body" <(payload "$e_created") && cmp -s "$tmp/recv/5.body" "$tmp/recv/4.body"'
echo 500 >"$tmp/recv/status"
ctl POST /webhooks/deliver --data '{}'
check "receiver answers 500: attempts recorded with 500, events stay pending" \
	eval 'st 200 && is "$(j "[.attempts[].status] | join(\",\")")" "500,500" && is "$(ledger "[.events[] | select(.pending)] | length")" 2'
echo 200 >"$tmp/recv/status"
ctl POST /webhooks/deliver --data '{"order": "created"}'
check "then 200: delivered oldest first (at least once)" \
	eval 'is "$(j "[.attempts[] | .type + \":\" + (.status | tostring)] | join(\" \")")" "invoice.payment_succeeded:200 customer.updated:200" && is "$(ledger "[.events[] | select(.pending)] | length")" 0'
ctl POST /webhooks/deliver --data '{}'
check "nothing pending: no attempts" eval 'st 200 && is "$(jc .)" "{\"attempts\":[]}"'
check "ledger deliveries: every attempt with its status and real time" \
	eval 'is "$(ledger "[.deliveries[].status] | join(\",\")")" "200,200,200,200,200,500,500,200,200" && near "$(ledger ".deliveries[0].attempted_at")" "$(date +%s)"'
stripe GET "/v1/events/$e_paid"
check "a delivered event shows pending_webhooks 0" is "$(j .pending_webhooks)" 0
for body in '{"order": "random"}' '{"duplicates": 0}' '{"duplicates": 11}' '{"types": ["a"], "ids": ["b"]}' \
	'{"types": "invoice.paid"}' '{"what": 1}'; do
	ctl POST /webhooks/deliver --data "$body"
	check "deliver $body -> 400" st 400
done

# Auto mode: delivered by the process that answered, after its reply.
ctl POST /webhooks --data "{\"url\": \"$hook\", \"secrets\": [\"whsec_new\"], \"mode\": \"auto\"}"
r0=$(received)
stripe POST "/v1/customers/$cus" -d "invoice_settings[default_payment_method]=$pm"
check "auto: the reply comes first (200)" st 200
e_auto=$(curl -s -H "Authorization: Bearer $KEY" "$base/v1/events?limit=1" | jq -r '.data[0].id')
check "auto: the event is delivered soon after, signed with the one secret" \
	eval 'wait_received $((r0 + 1)) && is "$(jq -r .id "$tmp/recv/$((r0 + 1)).body")" "$e_auto" && [[ $(cat "$tmp/recv/$((r0 + 1)).sig") =~ ^t=[0-9]+,v1=[0-9a-f]{64}$ ]] && is "$(cut -d, -f2 "$tmp/recv/$((r0 + 1)).sig")" "v1=$(hmac whsec_new $((r0 + 1)))"'
sleep 0.2
check "auto: nothing left pending" is "$(ledger '[.events[] | select(.pending)] | length')" 0
echo 503 >"$tmp/recv/status"
r0=$(received)
stripe POST "/v1/subscriptions/$sub" -d "metadata[a]=1"
wait_received $((r0 + 1))
sleep 0.2
check "auto, receiver failing: attempted once, still pending" \
	eval 'is "$(ledger ".deliveries[-1].status")" 503 && is "$(ledger "[.events[] | select(.pending)] | length")" 1'
e_failed=$(ledger '[.events[] | select(.pending)][0].id')
echo 200 >"$tmp/recv/status"
r0=$(received)
stripe POST "/v1/subscriptions/$sub" -d "metadata[a]=2"
check "auto: the next request delivers every pending event, oldest first" \
	eval 'wait_received $((r0 + 2)) && is "$(jq -r .id "$tmp/recv/$((r0 + 1)).body")" "$e_failed" && is "$(jq -r .data.previous_attributes.metadata.a "$tmp/recv/$((r0 + 2)).body")" 1'
r0=$(received)
sub_get "$sub"
adv $(($(j .current_period_end) - $(now) + 10))
check "auto: the billing run's events are delivered too" \
	eval 'wait_received $((r0 + 3)) && is "$(for i in 1 2 3; do jq -r .type "$tmp/recv/$((r0 + i)).body"; done | tr "\n" " ")" "customer.subscription.updated invoice.paid invoice.payment_succeeded "'
dead=$("$freeport")
ctl POST /webhooks --data "{\"url\": \"http://127.0.0.1:$dead/hook\", \"secrets\": [\"whsec_new\"], \"mode\": \"manual\"}"
stripe POST "/v1/subscriptions/$sub" -d "metadata[a]=3"
ctl POST /webhooks/deliver --data '{}'
check "connection refused: status 0, still pending" \
	eval 'st 200 && is "$(j "[.attempts[].status] | join(\",\")")" 0 && is "$(ledger "[.events[] | select(.pending)] | length")" 1'
ctl DELETE /webhooks
check "DELETE /_sandbox/webhooks: gone, nothing pending any more" \
	eval 'st 200 && is "$(ledger "[.events[] | select(.pending)] | length")" 0 && is "$(curl -s "$base/_sandbox/webhooks" | jq -c .)" "{\"url\":null}"'

# === the carrier's bill ==========================================================
sbx_reset
avail() { twilio GET "/AvailablePhoneNumbers/$1.json" -G "${@:2}"; }
avail US/Local --data-urlencode AreaCode=305 --data-urlencode PageSize=2
na=$(j '.available_phone_numbers[0].phone_number')
nb=$(j '.available_phone_numbers[1].phone_number')
adv 86400
twilio POST /IncomingPhoneNumbers.json --data-urlencode "PhoneNumber=$na"
pa=$(j .sid)
ba=$(ledger '.numbers[0].bought_at')
check "bought_at in sandbox time; the first month charged at purchase" \
	eval 'st 201 && near "$ba" $(($(date +%s) + 86400)) && is "$(ledger ".numbers[0].carrier_charges")" 1'
twilio POST /IncomingPhoneNumbers.json --data-urlencode "PhoneNumber=$nb"
pb=$(j .sid)
adv $((P - 20))
check "just before the anniversary: still one charge" is "$(ledger '.numbers[0].carrier_charges')" 1
twilio DELETE "/IncomingPhoneNumbers/$pb.json"
adv 40
check "the anniversary reached while owned: a second month charged" \
	is "$(ledger '[.numbers[].carrier_charges] | join(",")')" "2,1"
twilio DELETE "/IncomingPhoneNumbers/$pa.json"
ra=$(ledger '.numbers[0].released_at')
adv $((3 * P))
check "released numbers are charged no more; released_at in sandbox time" \
	eval 'is "$(ledger "[.numbers[].carrier_charges] | join(\",\")")" "2,1" && [ $((ra - ba)) -ge $((P + 20)) ] && [ $((ra - ba)) -le $((P + 30)) ]'

# === numbers for every seeded country and type ===================================
sbx_reset
# Expected national significant number per country/type (ERE, after +CC).
nsn() {
	case "$1 $2" in
	"US local" | "CA local") echo '^1[2-9][0-9]{2}[2-9][0-9]{6}$' ;;
	"US toll_free" | "CA toll_free") echo '^18(00|33|44|55|66|77|88)[2-9][0-9]{6}$' ;;
	"GB local") echo '^44[12][0-9]{9}$' ;;
	"GB mobile") echo '^447[0-9]{9}$' ;;
	"AU local") echo '^61[2378][0-9]{8}$' ;;
	"AU mobile") echo '^614[0-9]{8}$' ;;
	"AU toll_free") echo '^611800[0-9]{6}$' ;;
	"DE local") echo '^49[2-9][0-9]{9}$' ;;
	"DE mobile") echo '^491[567][0-9]{9}$' ;;
	"DE toll_free") echo '^49800[0-9]{7}$' ;;
	"IL local") echo '^972[23489][0-9]{7}$' ;;
	"IL mobile") echo '^9725[0-9]{8}$' ;;
	"IL toll_free") echo '^9721800[0-9]{6}$' ;;
	"PL local") echo '^48[1-4][0-9]{8}$' ;;
	"PL mobile") echo '^48[5-8][0-9]{8}$' ;;
	"PL toll_free") echo '^48800[0-9]{6}$' ;;
	"FI local") echo '^358[1-3569][0-9]{7}$' ;;
	"FI mobile") echo '^358(4[0-9]|50)[0-9]{7}$' ;;
	"FI toll_free") echo '^358800[0-9]{6}$' ;;
	"NL local") echo '^31[1-57][0-9]{8}$' ;;
	"NL mobile") echo '^316[1-5][0-9]{7}$' ;;
	"NL toll_free") echo '^31800[0-9]{7}$' ;;
	"DK local") echo '^45[3-9][0-9]{7}$' ;;
	"DK mobile") echo '^452[0-9]{7}$' ;;
	"DK toll_free") echo '^4580[0-9]{6}$' ;;
	"IT local") echo '^390[0-9]{9}$' ;;
	"IT mobile") echo '^393[0-9]{9}$' ;;
	"IT toll_free") echo '^39800[0-9]{6}$' ;;
	*) echo '^$' ;;
	esac
}
path_type() { case $1 in local) echo Local ;; toll_free) echo TollFree ;; mobile) echo Mobile ;; esac; }
avail DE/Local --data-urlencode PageSize=1
check "DE local: Twilio's shape (locality, no NANP fields)" \
	is "$(jc '.available_phone_numbers[0] | [.friendly_name, .phone_number, .locality, .region, .lata, .iso_country]')" '["+49 30 23125 000","+493023125000","Berlin",null,null,"DE"]'
rows=$(sed -n "s/.*VALUES ('\([A-Z]*\)', '\([a-z_]*\)', [0-9]*, 'price_[a-z_]*').*/\1 \2/p" "$srcdir/sql/prices.sql")
check "prices.sql lists every country of issue 9 item 14" \
	is "$(echo "$rows" | cut -d" " -f1 | sort -u | tr "\n" " ")" "AU CA DE DK FI GB IL IT NL PL US "
while read -r cc type; do
	[ -n "$cc" ] || continue
	avail "$cc/$(path_type "$type")" --data-urlencode PageSize=3
	re=$(nsn "$cc" "$type")
	ok=1
	for e in $(j '.available_phone_numbers[].phone_number'); do
		[[ ${e#+} =~ $re ]] || ok=0
	done
	check "$cc $type: 3 numbers, iso_country $cc, valid E.164 for the country" \
		eval 'st 200 && is "$(j ".available_phone_numbers | length")" 3 && is "$(j "[.available_phone_numbers[].iso_country] | unique | join(\",\")")" "$cc" && [ $ok = 1 ] && is "$(j "[.available_phone_numbers[] | (.friendly_name | length) > 0 and (.capabilities.voice == true) and (.address_requirements | type) == \"string\"] | all")" true'
	first=$(j '.available_phone_numbers[0].phone_number')
	twilio POST /IncomingPhoneNumbers.json --data-urlencode "PhoneNumber=$first"
	check "$cc $type: buyable" eval 'st 201 && is "$(j .phone_number)" "$first" && is "$(j .type)" "$(echo $type | tr _ -)"'
done <<<"$rows"
avail US/Mobile
check "US mobile: none, as at Twilio (and no price for it)" \
	eval 'st 200 && is "$(j ".available_phone_numbers | length")" 0 && ! echo "$rows" | grep -qx "US mobile"'

# === AvailablePhoneNumbers: what Twilio refuses ===================================
avail GB/Local --data-urlencode AreaCode=20
check "AreaCode outside US/CA -> 400 21451" \
	eval 'st 400 && is "$(j "[.code, .status] | join(\",\")")" "21451,400" && is "$(j .more_info)" https://www.twilio.com/docs/errors/21451'
avail CA/Local --data-urlencode AreaCode=416 --data-urlencode PageSize=1
check "AreaCode in CA is fine" eval 'st 200 && is "$(j ".available_phone_numbers[0].phone_number | startswith(\"+1416\")")" true'
for q in 5 12345678901234567 '**5' '*'; do
	avail US/Local --data-urlencode "Contains=$q"
	check "Contains=$q -> 400 20001" eval 'st 400 && is "$(j .code)" 20001'
done
avail US/Local --data-urlencode Contains=55 --data-urlencode PageSize=1
check "Contains of 2 characters is fine" eval 'st 200 && is "$(j ".available_phone_numbers | length")" 1'
avail US/Local --data-urlencode Contains=4155550000555555
check "Contains of 16 characters is fine (no match)" eval 'st 200 && is "$(j ".available_phone_numbers | length")" 0'

# === the foreign fault =============================================================
ctl POST /faults --data '{"op": "number_buy", "fault": "foreign"}'
check "foreign applies to numbers_available only" st 400
fault '{"op": "numbers_available", "fault": "foreign"}'
avail US/Local --data-urlencode AreaCode=212 --data-urlencode PageSize=2
check "foreign: the list gains a GB number and a non-E.164 entry" \
	eval 'st 200 && is "$(j ".available_phone_numbers | length")" 4 && is "$(j ".available_phone_numbers[0] | [.iso_country, (.phone_number | startswith(\"+44\"))] | join(\",\")")" "GB,true" && is "$(j ".available_phone_numbers[1] | [.iso_country, (.phone_number | test(\"^[+][1-9][0-9]{7,14}$\"))] | join(\",\")")" "US,false" && is "$(j "[.available_phone_numbers[2:][] | .phone_number | startswith(\"+1212\")] | all")" true'
avail US/Local --data-urlencode AreaCode=212 --data-urlencode PageSize=2
check "foreign is consumed once" eval 'st 200 && is "$(j ".available_phone_numbers | length")" 2'
fault '{"op": "numbers_available", "fault": "foreign"}'
avail GB/Mobile --data-urlencode PageSize=1
check "foreign in a GB search: a US number" \
	eval 'is "$(j ".available_phone_numbers[0] | [.iso_country, (.phone_number | startswith(\"+1\"))] | join(\",\")")" "US,true" && is "$(j ".available_phone_numbers[1].iso_country")" GB'

# === IncomingPhoneNumbers paging over many numbers ==================================
sbx_reset
avail US/Local --data-urlencode AreaCode=206 --data-urlencode PageSize=15
for e in $(j '.available_phone_numbers[].phone_number'); do
	twilio POST /IncomingPhoneNumbers.json --data-urlencode "PhoneNumber=$e"
done
for s in $(ledger '.numbers[3].sid, .numbers[9].sid'); do
	twilio DELETE "/IncomingPhoneNumbers/$s.json"
done
owned=$(ledger '[.numbers[] | select(.status == "owned") | .sid] | sort | join(" ")')
twilio GET /IncomingPhoneNumbers.json -G --data-urlencode PageSize=1
walked= pages=0
while [ $pages -lt 30 ] && st 200; do
	pages=$((pages + 1))
	walked="$walked $(j '.incoming_phone_numbers[].sid')"
	nextp=$(j .next_page_uri)
	[ "$nextp" != null ] || break
	req GET "$base$nextp" -u "$SID:$TOKEN"
done
check "PageSize=1 over 13 owned numbers: 13 pages, each number once" \
	eval 'is "$pages" 13 && is "$(echo $walked | tr " " "\n" | sort | tr "\n" " " | sed "s/ $//")" "$owned"'

# Stop the servers here rather than in the trap, and wait for the sandbox
# processes to exit (on SIGTERM they return from main): a sanitizer build
# reports leaks and errors on their stderr, lighttpd's.
kids=
for p in $lpid $rpid; do
	kids="$kids $(pgrep -P "$p" 2>/dev/null)"
done
for p in $lpid $rpid; do
	kill "$p" 2>/dev/null
	wait "$p" 2>/dev/null
done
lpid= rpid=
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
