# harness.sh -- sourced by the integration tests: TAP helpers, and a real
# stack on loopback: lighttpd + sandbox.fcgi (Stripe/Twilio stand-in, its
# own SQLite file) and lighttpd + purchase.fcgi (the service, its own SQLite
# file), on free 127.0.0.1 ports, stopped by PID when the test exits,
# whatever way it exits.
#
# Needs: lighttpd, curl, jq. Finds the build through $abs_top_builddir
# (set by make check) or the current directory.

set -u

: "${abs_top_builddir:=$(pwd)}"
: "${abs_top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
PURCHASE_FCGI=${PURCHASE_FCGI:-$abs_top_builddir/cgi-bin/purchase.fcgi}
PURCHASECTL=${PURCHASECTL:-$abs_top_builddir/tools/purchasectl}
SANDBOX_FCGI=${SANDBOX_FCGI:-$abs_top_builddir/sandbox/sandbox.fcgi}
LIGHTTPD=${LIGHTTPD:-$(command -v lighttpd || echo /usr/sbin/lighttpd)}

H_DIR=$(mktemp -d "${TMPDIR:-/tmp}/purchase-test.XXXXXX")
H_PIDS=()
H_TESTNO=0
H_FAILED=0
H_SK="Authorization: Bearer sk_test_sandbox"

h_cleanup() {
	local pid
	for pid in "${H_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${H_PIDS[@]}"; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null
	done
	# lighttpd's FastCGI children leave with their parent; anything still
	# holding our sockets is ours alone (started under $H_DIR).
	if [ -n "${H_KEEP:-}" ]; then
		echo "# kept $H_DIR" >&2
	else
		rm -rf "$H_DIR"
	fi
}
trap h_cleanup EXIT
trap 'exit 130' INT TERM

# --- TAP ------------------------------------------------------------------

plan() { echo "1..$1"; }
ok() {	# ok COND-EXIT-STATUS DESCRIPTION
	H_TESTNO=$((H_TESTNO + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $H_TESTNO - $2"
	else
		echo "not ok $H_TESTNO - $2"
		H_FAILED=$((H_FAILED + 1))
	fi
}
is() {	# is GOT WANT DESCRIPTION
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		echo "#   got:  '$1'" >&2
		echo "#   want: '$2'" >&2
	fi
}
diag() { echo "# $*" >&2; }
h_done() {
	[ "$H_FAILED" -eq 0 ]
}

h_freeport() {
	local f=$H_DIR/freeport
	[ -x "$f" ] || cc -o "$f" "$abs_top_srcdir/tests/freeport.c" || return 1
	"$f"
}

# h_lighttpd NAME PORT FCGI-BIN PROCS ENV-PAIRS... -- starts lighttpd serving
# FCGI-BIN for every path, with "KEY" => "VALUE" environment pairs.
h_lighttpd() {
	local name=$1 port=$2 bin=$3 procs=$4
	shift 4
	local env="" kv
	for kv in "$@"; do
		env="$env \"${kv%%=*}\" => \"${kv#*=}\","
	done
	mkdir -p "$H_DIR/$name/www"
	cat >"$H_DIR/$name/lighttpd.conf" <<EOF
server.modules = ("mod_fastcgi")
server.bind = "127.0.0.1"
server.port = $port
server.document-root = "$H_DIR/$name/www"
server.errorlog = "$H_DIR/$name/error.log"
server.pid-file = "$H_DIR/$name/lighttpd.pid"
server.max-connections = 1024
server.max-request-size = 64
fastcgi.server = ( "/" => ((
	"bin-path" => "$bin",
	"socket" => "$H_DIR/$name/fcgi.sock",
	"max-procs" => $procs,
	"check-local" => "disable",
	"bin-environment" => ( $env ),
)))
EOF
	"$LIGHTTPD" -D -f "$H_DIR/$name/lighttpd.conf" 2>>"$H_DIR/$name/error.log" &
	H_PIDS+=($!)
	local i
	for i in $(seq 1 100); do
		curl -s -o /dev/null "http://127.0.0.1:$port/" && return 0
		sleep 0.05
	done
	echo "# lighttpd $name did not start:" >&2
	sed 's/^/#   /' "$H_DIR/$name/error.log" >&2
	return 1
}

# h_start [PROCS] -- sandbox and service; sets SANDBOX, BASE, PURCHASE_CONFIG.
h_start() {
	local procs=${1:-2} sport pport
	sport=$(h_freeport) && pport=$(h_freeport) || return 1
	SANDBOX=http://127.0.0.1:$sport
	BASE=http://127.0.0.1:$pport
	h_lighttpd sandbox "$sport" "$SANDBOX_FCGI" "${SANDBOX_PROCS:-4}" \
		"SANDBOX_DB=$H_DIR/sandbox.db" "SANDBOX_STRIPE_KEY=sk_test_sandbox" \
		"SANDBOX_TWILIO_SID=AC00000000000000000000000000000000" \
		"SANDBOX_TWILIO_TOKEN=sandbox_token" || return 1
	# The sandbox bills what our price list says.
	local id cents
	sed -n "s/.*VALUES ('[A-Z]*', '[a-z_]*', \([0-9]*\), '\(price_[a-z_]*\)').*/\2 \1/p" \
		"$abs_top_srcdir/sql/prices.sql" | while read -r id cents; do
		curl -sf -H 'Content-Type: application/json' -d "{\"id\":\"$id\",\"unit_amount\":$cents}" \
			"$SANDBOX/_sandbox/prices" >/dev/null
	done
	PURCHASE_CONFIG=$H_DIR/purchase.conf
	export PURCHASE_CONFIG
	cat >"$PURCHASE_CONFIG" <<EOF
# written by tests/harness.sh
database = $H_DIR/purchase.db
stripe_api_base = $SANDBOX
stripe_secret_key = sk_test_sandbox
stripe_webhook_secret = whsec_test
twilio_api_base = $SANDBOX
twilio_account_sid = AC00000000000000000000000000000000
twilio_auth_token = sandbox_token
offer_ttl_seconds = ${H_OFFER_TTL:-3600}
provider_timeout_ms = ${H_PROVIDER_TIMEOUT_MS:-2000}
provider_connect_timeout_ms = 1000
purchase_rate_per_minute = ${H_PURCHASE_RATE:-0}
busy_timeout_ms = ${H_BUSY_TIMEOUT_MS:-2000}
search_rate_per_minute = ${H_SEARCH_RATE:-0}
EOF
	"$PURCHASECTL" init || return 1
	"$PURCHASECTL" prices load "$abs_top_srcdir/sql/prices.sql" || return 1
	h_lighttpd service "$pport" "$PURCHASE_FCGI" "$procs" \
		"PURCHASE_CONFIG=$PURCHASE_CONFIG" || return 1
}

# h_customer PM -- a Stripe customer in the sandbox whose default payment
# method is PM attached (pm_card_visa, pm_card_chargeCustomerFail), or none
# when PM is "none". Prints the cus_ id.
h_customer() {
	local pm=$1 cus pmid
	cus=$(curl -sf -H "$H_SK" -d name=test "$SANDBOX/v1/customers" | jq -r .id) || return 1
	if [ "$pm" != none ]; then
		pmid=$(curl -sf -H "$H_SK" -d customer="$cus" \
			"$SANDBOX/v1/payment_methods/$pm/attach" | jq -r .id) || return 1
		curl -sf -H "$H_SK" -d "invoice_settings[default_payment_method]=$pmid" \
			"$SANDBOX/v1/customers/$cus" >/dev/null || return 1
	fi
	echo "$cus"
}

# h_account PM -- an account with a key; prints "ID KEY".
h_account() {
	local cus id key
	cus=$(h_customer "$1") || return 1
	id=$("$PURCHASECTL" account create --name "test $1" --stripe-customer "$cus") || return 1
	key=$("$PURCHASECTL" key create --account "$id") || return 1
	echo "$id $key"
}

# h_req METHOD PATH KEY [BODY] [extra curl args...] -- sets H_STATUS and
# H_BODY (the exact body bytes).
h_req() {
	local method=$1 path=$2 key=$3 body=${4-}
	shift 3
	[ $# -gt 0 ] && shift
	local args=(-s -X "$method" -o "$H_DIR/body" -w '%{http_code}' -D "$H_DIR/headers")
	[ -n "$key" ] && args+=(-H "Authorization: Bearer $key")
	if [ -n "$body" ]; then
		args+=(-H 'Content-Type: application/json' --data-binary "$body")
	fi
	H_STATUS=$(curl "${args[@]}" "$@" "$BASE$path")
	H_BODY=$(cat "$H_DIR/body")
}

h_header() {	# h_header NAME -- value of a header of the last reply
	tr -d '\r' <"$H_DIR/headers" | awk -v n="$(echo "$1" | tr 'A-Z' 'a-z')" \
		'BEGIN{FS=": "} tolower($1)==n {print substr($0, length($1)+3)}'
}

h_search() {	# h_search KEY QUERY -- sets H_STATUS/H_BODY
	h_req GET "/api/user/phone-numbers/search?$2" "$1"
}

h_buy() {	# h_buy KEY NUMBER [curl args] -- sets H_STATUS/H_BODY
	local key=$1 num=$2
	shift 2
	h_req POST /api/user/phone-numbers/purchase "$key" "{\"phone_number\":\"$num\"}" "$@"
}

h_ledger() { curl -sf "$SANDBOX/_sandbox/ledger"; }

h_fault() {	# h_fault OP KIND [COUNT] [DELAY_MS]
	local delay=""
	[ -n "${4:-}" ] && delay=",\"delay_ms\":$4"
	curl -sf -X POST -H 'Content-Type: application/json' \
		-d "{\"op\":\"$1\",\"fault\":\"$2\",\"count\":${3:-1}$delay}" \
		"$SANDBOX/_sandbox/faults" >/dev/null
}

h_sql() { sqlite3 "$H_DIR/purchase.db" "$@"; }

# h_cgi METHOD PATH KEY BODY [VAR=VALUE...] -- runs purchase.fcgi as plain
# CGI (one request, then exit), as shared hosting would, with extra
# environment (PURCHASE_CRASH_AT, PURCHASE_TEST_CLOCK_OFFSET,
# HTTP_IDEMPOTENCY_KEY...). Sets H_STATUS (from the Status header, or
# "killed" when the process died), H_BODY and H_RC.
h_cgi() {
	local method=$1 path=$2 key=$3 body=$4
	shift 4
	printf '%s' "$body" >"$H_DIR/cgi.in"
	# Through an inner shell whose own stderr is dropped, so that a child
	# killed on purpose is not announced ("Killed") in the TAP stream.
	H_ERRF=$H_DIR/cgi.err bash -c '"$@" 2>>"$H_ERRF"; exit $?' _ \
		env -i PATH="$PATH" PURCHASE_CONFIG="$PURCHASE_CONFIG" \
		GATEWAY_INTERFACE=CGI/1.1 SERVER_PROTOCOL=HTTP/1.1 REQUEST_METHOD="$method" \
		REQUEST_URI="$path" SCRIPT_NAME=/purchase.fcgi CONTENT_TYPE=application/json \
		CONTENT_LENGTH="${#body}" HTTP_AUTHORIZATION="Bearer $key" "$@" \
		"$PURCHASE_FCGI" <"$H_DIR/cgi.in" >"$H_DIR/cgi.out" 2>/dev/null
	H_RC=$?
	if [ "$H_RC" -ne 0 ]; then
		H_STATUS=killed
		H_BODY=""
		return
	fi
	H_STATUS=$(sed -n 's/^Status: \([0-9]*\).*/\1/p' "$H_DIR/cgi.out" | tr -d '\r' | head -1)
	H_BODY=$(sed '1,/^\r\{0,1\}$/d' "$H_DIR/cgi.out")
}

# h_reconcile -- purchasectl reconcile; prints differences as TAP comments.
# Returns its exit status (0: none).
h_reconcile() {
	local out rc
	out=$("$PURCHASECTL" reconcile 2>&1)
	rc=$?
	[ $rc -ne 0 ] && printf '%s\n' "$out" | sed 's/^/#   /' >&2
	return $rc
}
