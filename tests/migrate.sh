#!/bin/bash
# migrate.sh -- purchasectl migrate (issue 14): a deploy on an SQLite file
# moves to PostgreSQL. The SQLite database is populated the way a service
# in use is: MIGRATE_NUMBERS (10,000) numbers bought through lighttpd, and
# purchases and numbers in every state -- pending, subscribed, provisioned,
# paid, voiding (workers killed mid-purchase), complete, failed (declined),
# releasing (the carrier failing a release), released (a subscription
# ended), active, past_due (a renewal declined), release_scheduled. The
# service is stopped, the copy made; then, on PostgreSQL: every table's
# rows the same, the refusals (a target not empty, a copy that fails half
# way leaves nothing), recovery finishes what was under way, the service
# sells again from the same inventory, and reconcile finds no difference.
: "${abs_top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
. "$abs_top_srcdir/tests/harness.sh"

if ! grep -q '^#define PURCHASE_FAULT_INJECTION 1' "$abs_top_builddir/autoconfig.h" 2>/dev/null; then
	echo "1..0 # SKIP needs a build configured with --enable-fault-injection"
	exit 0
fi
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && [ -z "${PG_BINDIR:-}" ]; then
	echo "1..0 # SKIP no PostgreSQL server (Debian: postgresql)"
	exit 0
fi

N=/api/user/phone-numbers
BUY=$N/purchase
MONTH=$((30 * 86400))	# the sandbox's month
LATER=PURCHASE_TEST_CLOCK_OFFSET=600	# past any lease
COUNT=${MIGRATE_NUMBERS:-10000}
[ "$COUNT" -le 10000 ] || COUNT=10000	# (one exchange of the sandbox's inventory)
lite() { sqlite3 -cmd ".timeout 5000" "$H_DIR/purchase.db" "$@"; }
pg() { psql -X -A -t -q -v ON_ERROR_STOP=1 "$PG_URI" -c "$1"; }

h_start 2 || { echo "Bail out! cannot start the stack"; exit 1; }
h_webhooks auto || { echo "Bail out! cannot configure webhooks"; exit 1; }

# --- past_due: a renewal declined (the sandbox's month passes first) --------
cus=$(h_customer pm_card_visa)
B_ID=$("$PURCHASECTL" account create --name "renews badly" --stripe-customer "$cus")
B_KEY=$("$PURCHASECTL" key create --account "$B_ID")
h_bought "$B_KEY" && due=$NID
pm=$(curl -sf -H "$H_SK" -d customer="$cus" "$SANDBOX/v1/payment_methods/pm_card_chargeCustomerFail/attach" | jq -r .id)
curl -sf -H "$H_SK" -d "invoice_settings[default_payment_method]=$pm" "$SANDBOX/v1/customers/$cus" >/dev/null
h_wait_sql "select payment_method from purchases where id=$due" "$pm"
h_advance $MONTH
h_wait_sql "select status from numbers where id=$due" past_due
ok $? "a renewal declined: past_due"

# --- the bulk: COUNT numbers, eight clients -----------------------------------
read -r A_ID A_KEY < <(h_account pm_card_visa)
curl -sf -X DELETE "$SANDBOX/_sandbox/webhooks" >/dev/null
# Stripe's events for them are not sent (no endpoint meanwhile): the
# purchases do not wait on them, and they would only double the load.
# Offered to A as its searches record them (+1 212 555 NNNN: one exchange of
# the sandbox's inventory, not the one the searches above offered from).
lite "WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM n WHERE x < $COUNT - 1)
INSERT INTO offers (account_id, phone_number, country_code, type, price_cents,
	stripe_price_id, sms_capable, expires_at, region)
SELECT $A_ID, printf('+1212555%04d', x), 'US', 'local', p.price_cents, p.stripe_price_id, 1,
	CAST(strftime('%s', 'now') AS INTEGER) + 3600, 'NY'
FROM n, prices p WHERE p.country_code = 'US' AND p.type = 'local'"
# Eight clients, each one curl on one kept-alive connection.
for x in $(seq 0 $((COUNT - 1))); do
	printf 'url = "%s%s"\nheader = "Authorization: Bearer %s"\nheader = "Content-Type: application/json"\ndata-binary = "{\\"phone_number\\":\\"+1212555%04d\\"}"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n' \
		"$BASE" "$BUY" "$A_KEY" "$x" >>"$H_DIR/bulk$((x % 8)).curl"
	[ $((x + 8)) -lt "$COUNT" ] && echo next >>"$H_DIR/bulk$((x % 8)).curl"
done
t0=$(date +%s)
clients=()
for c in $(seq 0 7); do
	[ -f "$H_DIR/bulk$c.curl" ] || continue
	curl -s -K "$H_DIR/bulk$c.curl" >"$H_DIR/bulk$c.codes" 2>>"$H_DIR/bulk.err" &
	clients+=($!)
done
wait "${clients[@]}"
cat "$H_DIR"/bulk?.codes >"$H_DIR/bulk.codes"
diag "$COUNT purchases in $(($(date +%s) - t0)) s"
h_webhooks auto
is "$(sort "$H_DIR/bulk.codes" | uniq -c | awk '{print $2 "x" $1}' | tr '\n' ' ')" "201x$COUNT " \
	"$COUNT numbers bought through the service"

# --- purchases left under way (workers killed); a declined one ---------------
read -r D_ID D_KEY < <(h_account pm_card_chargeCustomerFail)
for point in after_claim after_provision; do
	h_fresh_number "$A_KEY"
	h_cgi POST $BUY "$A_KEY" "{\"phone_number\":\"$NUM\"}" PURCHASE_CRASH_AT="$point"
done
h_fresh_number "$D_KEY"
h_cgi POST $BUY "$D_KEY" "{\"phone_number\":\"$NUM\"}" PURCHASE_CRASH_AT=after_decide
# Replies lost on the way back (the provider did it): left for recovery
# where they were, subscribed (the carrier's) and voiding (Stripe's void).
h_fault number_buy timeout_after 1
h_fault number_list 500 3	# (and the looks that follow fail)
h_fresh_number "$A_KEY"
h_buy "$A_KEY" "$NUM"
h_fault invoice_void timeout_after 1
h_fresh_number "$D_KEY"
h_buy "$D_KEY" "$NUM"
h_fresh_number "$D_KEY"
h_buy "$D_KEY" "$NUM"
is "$H_STATUS" 402 "a declined card: 402 (failed)"

# --- release_scheduled, released, releasing ----------------------------------
h_bought "$A_KEY" && sched=$NID
h_req DELETE "$N/$sched" "$A_KEY"
is "$H_STATUS $(lite "select status from numbers where id=$sched")" "200 release_scheduled" \
	"a release at the period's end: release_scheduled"
sub_of() { lite "select subscription_id from numbers where id=$1"; }
h_bought "$A_KEY" && gone=$NID
curl -sf -X DELETE -H "$H_SK" "$SANDBOX/v1/subscriptions/$(sub_of "$gone")" >/dev/null
h_wait_sql "select status from numbers where id=$gone" released
ok $? "a subscription ended at Stripe: the number released"
h_bought "$A_KEY" && stuck=$NID
h_fault number_release 500 -1	# (until cleared: after the move)
curl -sf -X DELETE -H "$H_SK" "$SANDBOX/v1/subscriptions/$(sub_of "$stuck")" >/dev/null
h_wait_sql "select state from purchases where id=$stuck" releasing
ok $? "a release the carrier fails: releasing, left for recovery"

states=$(lite "select group_concat(state, ' ') from (select distinct state from purchases order by state)")
is "$states" "compensating complete failed pending provisioned released releasing subscribed voiding" \
	"the SQLite database holds purchases in every state"
is "$(lite "select group_concat(status, ' ') from (select distinct status from numbers order by status)")" \
	"active past_due release_scheduled released" "and numbers in every status"

# --- the service stops; the copy ---------------------------------------------
node=${H_NODE_PIDS[0]}
workers=$(pgrep -P "$node" | tr '\n' ' ')
kill "$node"
for _ in $(seq 50); do
	ps -o pid= -p "$node" $workers >/dev/null 2>&1 || break
	sleep 0.1
done
h_pg_start || { echo "Bail out! no PostgreSQL"; exit 1; }
PG_URI=$H_PG_URI
unset H_PG_URI	# (h_sql: the SQLite file until the configuration moves)

tables="accounts api_keys prices offers search_rate purchases numbers idempotency stripe_events"
counts() { local t; for t in $tables; do printf '%s\t%s\n' "$t" "$("$@" "select count(*) from $t")"; done; }
counts lite >"$H_DIR/lite.counts"

out=$("$PURCHASECTL" migrate --to "$H_DIR/other.db" 2>&1)
is "$? ${out#purchasectl: }" "1 migrate: invalid argument: the database to copy to must be a postgresql:// URI" \
	"migrate to a file: refused"
# A copy that fails half way (a value PostgreSQL's column refuses, in the
# last table) leaves the target as empty as it was.
cp "$H_DIR/purchase.db" "$H_DIR/bad.db"
sqlite3 "$H_DIR/bad.db" "insert into stripe_events (id, type, created, received_at) values ('evt_bad', 'x', 'yesterday', 0)"
sed "s|^database = .*|database = $H_DIR/bad.db|" "$PURCHASE_CONFIG" >"$H_DIR/bad.conf"
out=$("$PURCHASECTL" --config "$H_DIR/bad.conf" migrate --to "$PG_URI" 2>&1 >"$H_DIR/bad.out")
rc=$?
is "$rc" 1 "a copy that fails half way: exit 1"
case $out in *"stripe_events, row "*) ok 0 "it names the table and the row" ;;
*) ok 1 "it names the table and the row"; diag "$out" ;; esac
is "$(counts pg | awk '{s += $2} END {print s}')" 0 "and nothing was copied (every table empty)"

t0=$(date +%s%N)
"$PURCHASECTL" migrate --to "$PG_URI" >"$H_DIR/migrate.out" 2>"$H_DIR/migrate.err"
rc=$?
diag "copied in $((($(date +%s%N) - t0) / 1000000)) ms"
is "$rc" 0 "migrate: exit 0"
is "$(cat "$H_DIR/migrate.out")" "$(cat "$H_DIR/lite.counts")" "it prints every table's rows: the source's"
counts pg >"$H_DIR/pg.counts"
is "$(cat "$H_DIR/pg.counts")" "$(cat "$H_DIR/lite.counts")" "PostgreSQL holds as many rows per table"
is "$(pg "select count(*) from numbers where phone_number like '+1212555%' and status = 'active'")" \
	"$COUNT" "the $COUNT numbers among them"
for t in "accounts order by id" "api_keys order by id" "purchases order by id" "numbers order by id" \
	"idempotency order by account_id, key" "stripe_events order by id" "prices order by country_code, type"; do
	cols=$(lite "select group_concat(name, ', ') from pragma_table_info('${t%% *}')")
	a=$(lite "select $cols from $t" | md5sum)
	b=$(pg "select $cols from $t" | md5sum)
	is "$b" "$a" "${t%% *}: every row, column for column"
done
out=$("$PURCHASECTL" migrate --to "$PG_URI" 2>&1)
is "$? ${out#purchasectl: }" "1 migrate: invalid argument: the target database is not empty (accounts: 3 rows); nothing was copied" \
	"migrate again: refused, the target is not empty"
is "$(counts pg)" "$(cat "$H_DIR/pg.counts")" "and it is unchanged"

# --- the service on PostgreSQL -------------------------------------------------
{ grep -v '^database = ' "$PURCHASE_CONFIG"; echo "database = $PG_URI"; } >"$H_DIR/pg.conf"
mv "$H_DIR/pg.conf" "$PURCHASE_CONFIG"
H_PG_URI=$PG_URI
pport=$(h_freeport)
BASE=http://127.0.0.1:$pport
h_serve "$H_SERVER" "$pport" 2 || { echo "Bail out! cannot serve from PostgreSQL"; exit 1; }
h_webhooks auto
curl -sf -X DELETE "$SANDBOX/_sandbox/faults" >/dev/null
env $LATER "$PURCHASECTL" recover 2>"$H_DIR/recover.err"
is "$?" 0 "recovery on PostgreSQL finishes what was under way in SQLite"
is "$(h_sql "select count(*) from purchases where open = 1")" 0 "no purchase left open"
is "$(h_sql "select status from numbers where id=$stuck") $(h_sql "select status from numbers where id=$due")" \
	"released past_due" "the stuck release done; the number past due still so"
E=$("$PURCHASECTL" account create --name "after the move" --stripe-customer cus_after)
is "$E" "$(($(lite "select max(id) from accounts") + 1))" "a new account: the next id (the sequences moved past the copied ones)"
h_bought "$A_KEY"
is "$H_STATUS $(echo "$H_BODY" | jq -r .data.id)" "201 $(($(lite "select max(id) from purchases") + 1))" \
	"a purchase from PostgreSQL: 201, a new id"
h_buy "$A_KEY" "+12125550000"
is "$H_STATUS $(echo "$H_BODY" | jq -r .message)" "400 This phone number is already in use." \
	"a number sold before the move is not sold again"
h_req GET "$N/all?per_page=5" "$A_KEY"
is "$H_STATUS $(echo "$H_BODY" | jq -r .total)" \
	"200 $(h_sql "select count(*) from numbers where account_id=$A_ID")" "the account's list, from PostgreSQL"
h_reconcile
ok $? "reconcile on PostgreSQL: no difference ($COUNT numbers, every state)"
plan "$H_TESTNO"
h_done
