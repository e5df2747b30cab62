#!/bin/bash
# quickstart.sh -- the quick start (scripts/quickstart.sh) as a user meets
# it, on free ports: it prints its curl commands; the search, the purchase
# and the ledger query run exactly as printed work; the sandbox charged for
# the number what the search showed for it (issue 9 C: it charged 100 cents
# against a price of 1.15, its sandbox never told our price list); and it
# stops, servers and all, on SIGTERM. It serves the build under test
# (BUILD_DIR) instead of installing packages and building _build, and keeps
# its state in this test's directory (RUN_DIR).
: "${abs_top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
. "$abs_top_srcdir/tests/harness.sh"

for t in "$LIGHTTPD" curl jq sqlite3; do
	command -v "$t" >/dev/null || { echo "1..0 # SKIP not installed: $t"; exit 0; }
done

port=$(h_freeport) && sport=$(h_freeport) || { echo "Bail out! no free port"; exit 1; }
while [ "$sport" = "$port" ]; do sport=$(h_freeport); done
out=$H_DIR/quickstart.out
PORT=$port SANDBOX_PORT=$sport PROCS=2 BUILD_DIR=$abs_top_builddir RUN_DIR=$H_DIR/run \
	bash "$abs_top_srcdir/scripts/quickstart.sh" >"$out" 2>"$H_DIR/quickstart.log" &
qs=$!
H_PIDS+=("$qs")
for _ in $(seq 1 600); do
	grep -q "Ctrl-C stops everything" "$out" && break
	kill -0 "$qs" 2>/dev/null || break
	sleep 0.05
done
grep -q "Ctrl-C stops everything" "$out"
ok $? "the quick start serves and prints its commands"
sed 's/^/#   /' "$out" >&2

# The commands, as printed.
search=$(awk '/^Search for numbers:/ { f = 1; next } f && NF { print; exit }' "$out")
buy=$(awk '/^Buy one of them:/ { f = 1; next } f && NF { print; n++; next } n { exit }' "$out")
health=$(sed -n 's/^Health: //p' "$out")
ledger=$(sed -n 's/^What the sandbox recorded: //p' "$out")
num=$(echo "$buy" | sed -n 's/.*"phone_number":"\(+[0-9]*\)".*/\1/p')
ok "$([ -n "$search" ] && [ -n "$buy" ] && [ -n "$health" ] && [ -n "$ledger" ] && [ -n "$num" ]; echo $?)" \
	"a search, a purchase of $num, a health check and a ledger query are printed"

is "$(bash -c "$health" | jq -r 'type')" object "the health command as printed answers JSON"
found=$(bash -c "$search")
price=$(echo "$found" | jq --arg n "$num" '.data[] | select(.phone_number == $n) | .price')
price_id=$(echo "$found" | jq -r --arg n "$num" '.data[] | select(.phone_number == $n) | .stripe_price_id')
ok "$([ -n "$price" ] && [ "$price" != null ]; echo $?)" "the search as printed offers $num (price $price)"
bought=$(bash -c "$buy")
is "$(echo "$bought" | jq -r '"\(.message) \(.data.phone_number)"')" "Phone number purchased successfully. $num" \
	"the purchase as printed buys it"

led=$(bash -c "$ledger")
cents=$(echo "$price" | jq '. * 100 | round')
sub=$(echo "$led" | jq -c '[.subscriptions[] | {price, latest_invoice}]')
is "$(echo "$sub" | jq -r '[.[].price] | join(" ")')" "$price_id" "one subscription, on the price the search showed ($price_id)"
is "$(echo "$led" | jq -c --argjson s "$sub" '[.invoices[] | select(.id as $i | $s | map(.latest_invoice) | index($i)) | select(.paid) | .amount_paid]')" \
	"[$cents]" "the sandbox charged what the search showed: $price USD = $cents cents"

kill -TERM "$qs"
wait "$qs"
is $? 0 "SIGTERM stops the quick start (exit 0)"
answer=""
for p in "$port" "$sport"; do
	curl -s -o /dev/null "http://127.0.0.1:$p/" && answer="$answer $p"
done
is "$answer" "" "... and its servers: nothing answers on its ports"

plan "$H_TESTNO"
h_done
