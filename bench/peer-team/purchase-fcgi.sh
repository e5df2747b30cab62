#!/bin/sh
# TEAM_BIN wrapper for the team's product (cgi-bin/purchase.fcgi of the main
# repo): writes a purchase.conf that points Stripe and Twilio at the bench's
# fake provider and the database at the bench's DB, then execs the responder
# (lighttpd hands the FastCGI socket over as fd 0; exec keeps it).
#
# The product's copy of peer-bench's team/purchase-fcgi.sh: bench/run.sh
# (part "peer") copies it over team/ of its copy of the shared peer-bench,
# the one file besides team/seed.sh the peer-bench lets us adapt to the
# product. Run by hand from such a copy:
#
#   PURCHASE_BUILD=<built tree of the product> \
#   TEAM_BIN=$PWD/team/purchase-fcgi.sh TEAM_SEED=$PWD/team/seed.sh \
#   TEAM_FAKE=nginx-fake-team.conf.in TEAM_PATH=/api/user/phone-numbers/purchase \
#   TEAM_LUA=purchase-team.lua ./run-all.sh team-p2
#
# PURCHASE_BUILD: a tree where `./configure && make` ran (the libtool build:
# cgi-bin/.libs/purchase.fcgi and lib/.libs/libpurchase.so), or set
# PURCHASE_FCGI to an installed purchase.fcgi instead.
# From run-all.sh's environment: BENCH_DB, BENCH_PROVIDER_URL.
# The config goes next to the DB (run/NAME-purchase.conf); every worker
# lighttpd spawns writes the same content, through a rename.
set -eu
: "${BENCH_DB:?BENCH_DB not set (run through run-all.sh)}"
: "${BENCH_PROVIDER_URL:?BENCH_PROVIDER_URL not set}"
conf="${BENCH_DB%.db}-purchase.conf"
tmp="$conf.$$"
cat > "$tmp" <<CONF
# written by team/purchase-fcgi.sh (bench/peer-team/ of the product)
database = $BENCH_DB
stripe_api_base = $BENCH_PROVIDER_URL
stripe_secret_key = sk_test_bench_fake
twilio_api_base = $BENCH_PROVIDER_URL
twilio_account_sid = AC00000000000000000000000000be0001
twilio_auth_token = bench_fake_token
purchase_rate_per_minute = 0
search_rate_per_minute = 0
CONF
mv -f "$tmp" "$conf"
export PURCHASE_CONFIG="$conf"

if [ -n "${PURCHASE_FCGI:-}" ]; then
	exec "$PURCHASE_FCGI"
fi
: "${PURCHASE_BUILD:?set PURCHASE_BUILD to the product's build tree (or PURCHASE_FCGI)}"
if [ -x "$PURCHASE_BUILD/cgi-bin/.libs/purchase.fcgi" ]; then
	# The libtool wrapper (cgi-bin/purchase.fcgi) would do the same, through bash.
	LD_LIBRARY_PATH="$PURCHASE_BUILD/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
	export LD_LIBRARY_PATH
	exec "$PURCHASE_BUILD/cgi-bin/.libs/purchase.fcgi"
fi
exec "$PURCHASE_BUILD/cgi-bin/purchase.fcgi"
