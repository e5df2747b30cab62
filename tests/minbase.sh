#!/bin/bash
# minbase.sh -- the shared-hosting bundle's binaries in a minimal Debian 12
# root (issue 12): `debootstrap --variant=minbase bookworm`, which has none
# of the -dev or library packages (no libfcgi, json-c, SQLite, libcurl), to
# prove they need nothing but the C library. In that root purchasectl
# creates the database and a key, purchase.fcgi (plain CGI, chroot) answers
# health, and a provider call answers 500 provider_error with a log line
# naming libcurl, which the host lacks; in the same root with libcurl4
# added (the one library a host must have) a search and a purchase succeed
# against the sandbox on 127.0.0.1.
#
# The two roots are cached between runs in $PURCHASE_TEST_CACHE (default
# ~/.cache/purchase-tests); building them takes about 30 s each, from
# $DEBOOTSTRAP_MIRROR (default http://deb.debian.org/debian). Needs root
# (chroot) and debootstrap; skipped without them, or when the mirror cannot
# be reached.
: "${abs_top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
. "$abs_top_srcdir/tests/harness.sh"

skip() { echo "1..0 # SKIP $*"; exit 0; }
[ "$(id -u)" -eq 0 ] || skip "not root (chroot)"
command -v debootstrap >/dev/null || skip "debootstrap is not installed"
h_bundle_possible || skip "configure found no static libfcgi/json-c/SQLite (or sanitizers are on)"

R0=$(h_debroot minbase-bookworm) || skip "debootstrap failed (no mirror?): $(tail -1 "$H_DIR"/debootstrap-*.log)"
R1=$(h_debroot minbase-bookworm-libcurl libcurl4) || skip "debootstrap failed: $(tail -1 "$H_DIR"/debootstrap-*.log)"

h_bundle || { echo "Bail out! make cgi-bundle failed"; exit 1; }
top=$BUNDLE

is "$(ls "$R0"/usr/lib/*/ | grep -c -E '^lib(fcgi|json-c|sqlite3|curl)\.')" 0 \
	"the minbase root has no libfcgi, json-c, SQLite or libcurl"

h_sandbox || { echo "Bail out! cannot start the sandbox"; exit 1; }

# install ROOT -- the bundle in ROOT/opt/purchase (a fresh database each run),
# its configuration pointing at the sandbox.
install_in() {
	local r=$1
	rm -rf "$r/opt/purchase" && mkdir -p "$r/opt/purchase" || return 1
	cp "$top/public_html/shop/purchase.fcgi" "$top/private/purchasectl" "$r/opt/purchase/"
	cp -r "$top/private/sql" "$r/opt/purchase/"
	cat >"$r/opt/purchase/purchase.conf" <<EOF
database = /opt/purchase/purchase.db
stripe_api_base = $SANDBOX
stripe_secret_key = sk_test_sandbox
twilio_api_base = $SANDBOX
twilio_account_sid = AC00000000000000000000000000000000
twilio_auth_token = sandbox_token
purchase_rate_per_minute = 0
search_rate_per_minute = 0
EOF
}
ctl() {	# ctl ROOT ARGS... -- the bundle's purchasectl in ROOT
	local r=$1
	shift
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin chroot "$r" /opt/purchase/purchasectl \
		--config /opt/purchase/purchase.conf "$@"
}
cgi() {	# cgi ROOT METHOD PATH QUERY KEY BODY -- h_cgi, the responder in ROOT (chroot)
	printf '#!/bin/sh\nexec chroot "%s" /opt/purchase/purchase.fcgi\n' "$1" >"$H_DIR/in-root.sh"
	chmod +x "$H_DIR/in-root.sh"
	PURCHASE_CONFIG=/opt/purchase/purchase.conf PURCHASE_FCGI=$H_DIR/in-root.sh \
		h_cgi "$2" "$3${4:+?$4}" "$5" "$6"
}
account() {	# account ROOT -- "KEY" of a new account with a card
	local cus id
	cus=$(h_customer pm_card_visa) || return 1
	id=$(ctl "$1" account create --name minbase --stripe-customer "$cus") || return 1
	ctl "$1" key create --account "$id"
}

for r in "$R0" "$R1"; do
	name=${r##*/}
	install_in "$r"
	ctl "$r" init >/dev/null 2>&1
	ok $? "[$name] purchasectl init"
	ctl "$r" prices load /opt/purchase/sql/prices.sql >/dev/null 2>&1
	ok $? "[$name] purchasectl prices load"
	key=$(account "$r" 2>/dev/null)
	ok "$([ -n "$key" ]; echo $?)" "[$name] purchasectl account create, key create"
	cgi "$r" GET /api/health "" "" ""
	is "$H_STATUS" 200 "[$name] health as plain CGI: 200"
	cgi "$r" GET /api/user/phone-numbers/search "country_code=US&limit=5" "$key" ""
	if [ "$r" = "$R0" ]; then
		is "$H_STATUS $(echo "$H_BODY" | jq -r .code)" "500 provider_error" \
			"[$name] no libcurl on the host: a search answers 500 provider_error"
		ok "$(grep -q -i 'libcurl' "$H_DIR/cgi.err"; echo $?)" "[$name] and the log says why: $(grep -i -m1 libcurl "$H_DIR/cgi.err" | cut -c1-120)"
		continue
	fi
	is "$H_STATUS" 200 "[$name] search: 200"
	num=$(echo "$H_BODY" | jq -r '.data[0].phone_number')
	cgi "$r" POST /api/user/phone-numbers/purchase "" "$key" "{\"phone_number\":\"$num\"}"
	is "$H_STATUS $(echo "$H_BODY" | jq -r .data.phone_number)" "201 $num" "[$name] purchase: 201"
	is "$(h_ledger | jq -r --arg n "$num" '[.numbers[] | select(.phone_number == $n)][-1].status')" owned \
		"[$name] the number is held at the carrier"
done

plan "$H_TESTNO"
h_done
