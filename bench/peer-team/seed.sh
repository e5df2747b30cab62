#!/bin/sh
# TEAM_SEED for the team's product: seed.sh DBPATH
# (The product's copy of peer-bench's team/seed.sh; bench/run.sh copies it
# over team/ of its copy of the shared peer-bench.)
# Creates the product's own database the way an operator would (purchasectl
# init, prices load, account create, key create), then offers numbers to
# account 1 the way its search endpoint records them (rows in `offers`,
# direct SQL), so that every request of lua/purchase-team.lua is a distinct
# purchase that succeeds (201):
#   +1415<p><nnnnnn>, p = FIRST..FIRST+PREFIXES-1, n = 0..PER-1 (wrk thread t
#   buys prefix FIRST+t; the product is strict NANP, so the exchange digit p
#   must be 2..9: the peer's prefixes 0 and 1 would be refused as invalid)
#   plus +14153249900..+14153249999 (run-all.sh's smoke request and
#   check-purchase.sh).
# Writes the two bearer keys next to the DB: DBPATH.key (account 1, the one
# with the offers) and DBPATH.key2 (account 2, none); run-all.sh reads them.
#
# Environment: PURCHASE_BUILD (the product's build tree: tools/purchasectl,
# sql/prices.sql) or PURCHASECTL + PURCHASE_PRICES; TEAM_SEED_PER_PREFIX
# [250000], TEAM_SEED_FIRST_PREFIX [5], TEAM_SEED_PREFIXES [4] (the peer's DB
# has 4 x 250000 offered numbers too).
set -eu
db=${1:?usage: seed.sh DBPATH}
ctl=${PURCHASECTL:-${PURCHASE_BUILD:?set PURCHASE_BUILD (or PURCHASECTL)}/tools/purchasectl}
prices=${PURCHASE_PRICES:-$PURCHASE_BUILD/sql/prices.sql}
per=${TEAM_SEED_PER_PREFIX:-250000}
first=${TEAM_SEED_FIRST_PREFIX:-5}
nprefix=${TEAM_SEED_PREFIXES:-4}

rm -f "$db" "$db-wal" "$db-shm" "$db.key" "$db.key2"
conf="${db%.db}-seed.conf"
printf 'database = %s\n' "$db" > "$conf"
"$ctl" --config "$conf" init
"$ctl" --config "$conf" prices load "$prices"
a1=$("$ctl" --config "$conf" account create --name "bench account 1" --stripe-customer cus_bench0001)
a2=$("$ctl" --config "$conf" account create --name "bench account 2" --stripe-customer cus_bench0002)
"$ctl" --config "$conf" key create --account "$a1" > "$db.key"
"$ctl" --config "$conf" key create --account "$a2" > "$db.key2"

# The offer rows as search.c stores them: price and Stripe price of the
# number's country and type, sms_capable, expiry = now + offer_ttl_seconds
# (3600, the default).
sqlite3 "$db" > /dev/null <<SQL
PRAGMA busy_timeout = 5000;
BEGIN IMMEDIATE;
WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM n WHERE x < $per - 1),
               p(y) AS (SELECT $first UNION ALL SELECT y + 1 FROM p WHERE y < $first + $nprefix - 1)
INSERT INTO offers (account_id, phone_number, country_code, type, price_cents,
                    stripe_price_id, sms_capable, expires_at)
SELECT $a1, printf('+1415%d%06d', y, x), 'US', 'local', pr.price_cents, pr.stripe_price_id, 1,
       CAST(strftime('%s', 'now') AS INTEGER) + 3600
FROM p, n, prices pr WHERE pr.country_code = 'US' AND pr.type = 'local';
WITH RECURSIVE n(x) AS (SELECT 900 UNION ALL SELECT x + 1 FROM n WHERE x < 999)
INSERT INTO offers (account_id, phone_number, country_code, type, price_cents,
                    stripe_price_id, sms_capable, expires_at)
SELECT $a1, printf('+14153249%03d', x), 'US', 'local', pr.price_cents, pr.stripe_price_id, 1,
       CAST(strftime('%s', 'now') AS INTEGER) + 3600
FROM n, prices pr WHERE pr.country_code = 'US' AND pr.type = 'local';
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
rm -f "$conf"
printf 'seeded %s: accounts %s %s, %s offers\n' "$db" "$a1" "$a2" \
	"$(sqlite3 "$db" 'SELECT count(*) FROM offers')"
