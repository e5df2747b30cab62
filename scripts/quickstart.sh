#!/bin/bash
# quickstart.sh -- sets everything up on Debian 12 and serves the API on
# 127.0.0.1 through lighttpd + purchase.fcgi, with the provider sandbox
# standing in for Stripe and Twilio and an SQLite file for the database.
# Creates a demo account with a card that pays, prints its key and a curl
# search and purchase that work as printed, then serves until Ctrl-C.
#
# Environment: PORT (default 8080) for the API, SANDBOX_PORT (default 8081),
# PROCS (FastCGI processes, default 4). State lives in run/ (RUN_DIR) and is
# started afresh every time. BUILD_DIR: serve that existing build tree
# instead of installing the packages and building _build (the test suite,
# tests/quickstart.sh, runs the quick start this way).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
PORT=${PORT:-8080}
SANDBOX_PORT=${SANDBOX_PORT:-8081}
PROCS=${PROCS:-4}

if [ -n "${BUILD_DIR:-}" ]; then
	B=$BUILD_DIR
else
	"$top/scripts/deps.sh"
	echo "quickstart: building..." >&2
	"$top/scripts/build.sh" _build
	B=$top/_build
fi
RUN=${RUN_DIR:-$top/run}
LIGHTTPD=$(command -v lighttpd || echo /usr/sbin/lighttpd)

rm -rf "$RUN"
mkdir -p "$RUN/www"
pids=()
stop() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap stop EXIT
trap 'exit 0' INT TERM

# lighttpd NAME PORT BIN ENV -- one lighttpd per program (see apache-conf/
# for the configurations a real deployment uses).
serve() {
	cat >"$RUN/$1.conf" <<CONF
server.modules = ("mod_fastcgi")
server.bind = "127.0.0.1"
server.port = $2
server.document-root = "$RUN/www"
server.errorlog = "$RUN/$1-error.log"
server.pid-file = "$RUN/$1.pid"
fastcgi.server = ( "/" => ((
	"bin-path" => "$3",
	"socket" => "$RUN/$1.sock",
	"max-procs" => $PROCS,
	"check-local" => "disable",
	"bin-environment" => ( $4 ),
)))
CONF
	"$LIGHTTPD" -D -f "$RUN/$1.conf" 2>>"$RUN/$1-error.log" &
	pids+=($!)
	for _ in $(seq 1 100); do
		curl -s -o /dev/null "http://127.0.0.1:$2/" && return 0
		sleep 0.05
	done
	echo "quickstart: lighttpd ($1) did not start; see $RUN/$1-error.log" >&2
	exit 1
}

SK="Authorization: Bearer sk_test_sandbox"
serve sandbox "$SANDBOX_PORT" "$B/sandbox/sandbox.fcgi" \
	"\"SANDBOX_DB\" => \"$RUN/sandbox.db\", \"SANDBOX_STRIPE_KEY\" => \"sk_test_sandbox\""

cat >"$RUN/purchase.conf" <<CONF
# purchase.conf for the quick start: the sandbox plays Stripe and Twilio.
database = $RUN/purchase.db
stripe_api_base = http://127.0.0.1:$SANDBOX_PORT
stripe_secret_key = sk_test_sandbox
stripe_webhook_secret = whsec_sandbox
twilio_api_base = http://127.0.0.1:$SANDBOX_PORT
twilio_account_sid = AC00000000000000000000000000000000
twilio_auth_token = sandbox_token
offer_ttl_seconds = 3600
provider_timeout_ms = 8000
CONF
export PURCHASE_CONFIG=$RUN/purchase.conf
ctl=$B/tools/purchasectl
"$ctl" init
"$ctl" prices load "$top/sql/prices.sql"
S=http://127.0.0.1:$SANDBOX_PORT
# The sandbox bills what the same price list says (else 100 cents a month).
sh "$top/scripts/sandbox-prices.sh" "$S" "$top/sql/prices.sql"

# A Stripe customer in the sandbox with a card that pays (pm_card_visa).
cus=$(curl -sf -H "$SK" -d name=Demo "$S/v1/customers" | jq -r .id)
pm=$(curl -sf -H "$SK" -d customer="$cus" "$S/v1/payment_methods/pm_card_visa/attach" | jq -r .id)
curl -sf -H "$SK" -d "invoice_settings[default_payment_method]=$pm" "$S/v1/customers/$cus" >/dev/null
acct=$("$ctl" account create --name Demo --stripe-customer "$cus")
key=$("$ctl" key create --account "$acct")

serve service "$PORT" "$B/cgi-bin/purchase.fcgi" "\"PURCHASE_CONFIG\" => \"$RUN/purchase.conf\""

API=http://127.0.0.1:$PORT
num=$(curl -sf -H "Authorization: Bearer $key" "$API/api/user/phone-numbers/search?country_code=US&limit=3" |
	jq -r '.data[0].phone_number')

cat <<MSG

purchase is serving on $API (lighttpd + $PROCS purchase.fcgi processes),
with the provider sandbox on $S and the database in $RUN/purchase.db.
Demo account $acct, API key (shown once):

  $key

Search for numbers:

  curl -s -H 'Authorization: Bearer $key' '$API/api/user/phone-numbers/search?country_code=US&limit=3'

Buy one of them:

  curl -s -X POST -H 'Authorization: Bearer $key' -H 'Content-Type: application/json' \\
    -H 'Idempotency-Key: demo-1' -d '{"phone_number":"$num"}' $API/api/user/phone-numbers/purchase

Health: curl -s $API/api/health
What the sandbox recorded: curl -s $S/_sandbox/ledger | jq .
Logs: $RUN/service-error.log. Ctrl-C stops everything.
MSG
wait
