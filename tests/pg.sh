#!/bin/bash
# pg.sh -- the store on PostgreSQL (issue 14), part 1: test-store's
# PostgreSQL run (claims, leases, twins, price lists, a dropped connection,
# the pool) against a server of this test's own, then the purchase suites
# -- purchase table, idempotency, race, crash matrix, fault matrix, the
# threaded worker -- each with H_DB=pg (a PostgreSQL 15 of its own, from
# Debian's packages, initdb'd as an unprivileged user, on a Unix socket in
# a temporary directory; stopped when it ends, whatever way). Part 2 is
# pg-life.sh. H_PG_SUITES replaces the list.
: "${abs_top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
. "$abs_top_srcdir/tests/harness.sh"

h_pg_suites() {	# h_pg_suites DEFAULT-LIST -- each suite on PostgreSQL
	local s
	for s in ${H_PG_SUITES:-$1}; do
		h_subrun lighttpd "$s" H_DB=pg
	done
}

h_pg_start || { echo "Bail out! cannot start PostgreSQL"; exit 1; }
PURCHASE_TEST_PG_URI=$H_PG_URI "$abs_top_builddir/tests/test-store" >"$H_DIR/test-store.tap" 2>&1
rc=$?
while IFS= read -r line; do
	case $line in
	"ok "* | "not ok "*)
		st=${line%% [0-9]*} rest=${line#* [0-9]* }
		[ "$st" = "$line" ] && st=ok
		H_TESTNO=$((H_TESTNO + 1))
		echo "$st $H_TESTNO - test-store on PostgreSQL: ${rest#- }"
		[ "$st" = "not ok" ] && H_FAILED=$((H_FAILED + 1)) ;;
	"#"*) echo "$line" >&2 ;;
	esac
done <"$H_DIR/test-store.tap"
ok $rc "test-store on PostgreSQL: complete run, exit 0"

[ "${PG_PART:-1}" = 1 ] && h_pg_suites "purchase-table.sh idempotency.sh race.sh crash.sh faults.sh threads.sh"
[ "${PG_PART:-1}" = 2 ] && h_pg_suites "numbers.sh search.sh webhooks.sh life.sh lifecycle-faults.sh openapi.sh sandbox-lifecycle.sh"
plan "$H_TESTNO"
h_done
