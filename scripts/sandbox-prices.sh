#!/bin/sh
# sandbox-prices.sh SANDBOX-URL [PRICES.SQL] -- makes the provider sandbox
# bill what our price list says: for every Stripe price in PRICES.SQL
# (default sql/prices.sql, the list `purchasectl prices load` loads), one
# POST /_sandbox/prices {"id": "price_...", "unit_amount": CENTS}. The
# sandbox charges 100 cents for a price it was not told about, so without
# this a search would show one price and the purchase charge another. Used
# by the quick start (scripts/quickstart.sh) and the tests
# (tests/harness.sh, h_sandbox). Needs curl and the sqlite3 shell. Fails,
# saying why, when the list cannot be read, holds no price, gives one Stripe
# price two amounts, or the sandbox refuses one.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 1 ] || { echo "usage: sandbox-prices.sh SANDBOX-URL [PRICES.SQL]" >&2; exit 2; }
url=$1
file=${2:-$top/sql/prices.sql}

# The file is INSERTs into prices (sql/prices.sql says so): run them into a
# table of those columns in memory, not through a pattern that a reformatted
# line would slip past.
query() {
	{
		echo "CREATE TABLE prices (country_code, type, price_cents INTEGER, stripe_price_id);"
		cat "$file"
		echo ";"
		echo "$1"
	} | sqlite3 -batch -bail -separator ' ' :memory:
}
list=$(query "SELECT stripe_price_id, price_cents FROM prices GROUP BY 1, 2 ORDER BY 1;") || {
	echo "sandbox-prices.sh: cannot read $file" >&2
	exit 1
}
twice=$(query "SELECT stripe_price_id FROM prices GROUP BY 1 HAVING count(DISTINCT price_cents) > 1;")
[ -z "$twice" ] || { echo "sandbox-prices.sh: $file: two amounts for" $twice >&2; exit 1; }
[ -n "$list" ] || { echo "sandbox-prices.sh: $file: no prices" >&2; exit 1; }

while read -r id cents; do
	curl -sf -o /dev/null -H 'Content-Type: application/json' \
		-d "{\"id\":\"$id\",\"unit_amount\":$cents}" "$url/_sandbox/prices" || {
		echo "sandbox-prices.sh: $url/_sandbox/prices refused $id ($cents)" >&2
		exit 1
	}
done <<EOF
$list
EOF
