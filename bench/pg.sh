#!/bin/bash
# pg.sh -- PostgreSQL against SQLite (issue 14): purchases and searches per
# second on each backend, one node and three, in one run on this machine.
# One command:
#
#   ./bench/pg.sh
#
# (PGB_SHAPES: the nodes x processes to run, "1x2 3x2 1x3 3x1" (PGB_PROCS
# is the 2); PGB_ONLY="pg-1x2 sqlite-3x2": only those scenarios; PGB_KEEP=1: the
# server's CPU per process kind after each purchase run, and with
# PGB_STATEMENTS=1 the statements' statistics at the end; PGB_ENV: more
# environment for the responders.)
#
# The providers are the shared peer-bench's nginx fakes (the team's, with
# real-shaped Stripe and Twilio replies, answering in microseconds; copied
# to _build/bench/pg-peer-bench). A node is one lighttpd with the shipped
# lighttpd-purchase.conf and its FastCGI processes of this build's
# purchase.fcgi (_build/bench: -O2, no sanitizers); three nodes are three
# such lighttpds on their own ports, one database. The shapes: 1x2 and 3x2,
# each node with its own 2 processes as an operator runs them (three nodes
# then have three times the processes on the same 2 cores), and 1x3 and
# 3x1, the same 3 processes in both, so that only the nodes differ. The
# PostgreSQL server is Debian's (15), initdb'd in a directory of its own
# under $TMPDIR (its user may not enter the checkout) with its defaults (fsync
# and synchronous_commit on, 128 MB of shared buffers) on a Unix socket, on
# the same 2 cores as everything else. Each scenario gets a database of its
# own, made the way an operator does (purchasectl init, prices load,
# account create, key create) with the numbers offered to the account in
# `offers` (direct SQL, as bench/peer-team/seed.sh does).
#
# Per scenario (backend x shape), PGB_ROUNDS (3) rounds of: search (wrk
# GET /api/user/phone-numbers/search?limit=20, 16 accounts' keys in turn),
# then purchase (wrk POST purchase, every request a distinct offered
# number: peer-bench's purchase-team.lua). One node: one wrk, 2 threads,
# PGB_CONNS (32) connections; three nodes: one wrk per node, 1 thread,
# a third of the connections each (11, 11, 10), run at once, their rates added. The
# figures are the medians over the rounds. Also: the 5xx answers in the
# service's logs, and on PostgreSQL the WAL fsyncs and bytes per purchase
# from the server's own statistics (pg_stat_wal, read before and after each
# purchase run).
#
# Writes the table to stdout and to bench/RESULTS-pg.md. Every server is
# stopped by PID on exit.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/_build/bench
work=$build/pg-run
peer_src=${PEER_BENCH:-$top/../shared/peer-bench}
peer=$build/pg-peer-bench
duration=${PGB_DURATION:-10}
conns=${PGB_CONNS:-32}
procs=${PGB_PROCS:-2}
rounds=${PGB_ROUNDS:-3}
[ "$rounds" -le 5 ] || { echo "pg.sh: at most 5 rounds (the numbers offered)" >&2; exit 1; }
out=${PGB_OUT:-$top/bench/RESULTS-pg.md}

"$top/scripts/deps.sh" --test >/dev/null
for p in wrk nginx; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="${missing:-} $p"
done
if [ -n "${missing:-}" ]; then
	echo "pg.sh: installing:$missing" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
if [ "${PGB_BUILD:-1}" != 0 ]; then
	"$top/scripts/build.sh" _build/bench >/dev/null
fi
grep -q '^#define HAVE_LIBPQ 1' "$build/autoconfig.h" ||
	{ echo "pg.sh: _build/bench has no PostgreSQL backend (libpq-dev)" >&2; exit 1; }

rm -rf "$work" "$peer"
mkdir -p "$work/logs"
cp -r "$peer_src" "$peer"
rm -rf "$peer/run" "$peer/build"
# Searches: the fakes have no AvailablePhoneNumbers (peer-bench measures
# purchases only): the copy's serves 20 numbers in Twilio's shape from a file.
mkdir -p "$work/avail"
for i in $(seq 0 19); do
	n=$(printf '+14157%06d' "$i")
	printf '%s{"friendly_name": "(415) 7%02d-%04d", "phone_number": "%s", "lata": "722", "locality": "San Francisco", "rate_center": "SNFC CNTRL", "latitude": "37.774900", "longitude": "-122.419400", "region": "CA", "postal_code": "94105", "iso_country": "US", "address_requirements": "none", "beta": false, "capabilities": {"voice": true, "SMS": true, "MMS": true}}' \
		"$([ "$i" -gt 0 ] && echo ', ')" "$((i / 10000))" "$((i % 10000))" "$n"
done | { printf '{"uri": "/2010-04-01/Accounts/AC00000000000000000000000000be0001/AvailablePhoneNumbers/US/Local.json", "available_phone_numbers": ['; cat; printf ']}\n'; } >"$work/avail/available.json"
python3 -m json.tool "$work/avail/available.json" >/dev/null
awk -v root="$work/avail" '/^        location \/ \{/ && !done {
	print "        location ~ ^/2010-04-01/Accounts/AC[0-9a-f]+/AvailablePhoneNumbers/ {"
	print "            default_type application/json;"
	print "            root " root ";"
	print "            rewrite ^ /available.json break;"
	print "        }"
	done = 1 }
	{ print }' "$peer/conf/nginx-fake-team.conf.in" >"$work/fake-team.conf.in"
grep -q AvailablePhoneNumbers "$work/fake-team.conf.in" || { echo "pg.sh: cannot add searches to the fake" >&2; exit 1; }

me=pg.sh
. "$top/bench/lib.sh"
PG_PID=
# (the server's directory outside the checkout: its user may not be able
# to enter a private one)
pgdir=$(mktemp -d "${TMPDIR:-/tmp}/purchase-bench-pg.XXXXXX")
cleanup() {
	[ -n "$PG_PID" ] && kill -INT "$PG_PID" 2>/dev/null
	bench_stop
	[ -z "$PG_PID" ] || for _ in $(seq 50); do kill -0 "$PG_PID" 2>/dev/null || break; sleep 0.1; done
	rm -rf "$pgdir"
}
trap cleanup EXIT

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# --- the fakes and the PostgreSQL server -------------------------------------

fake_start "$peer" "$work/fake-team.conf.in"

# (PGB_STATEMENTS=1: with pg_stat_statements, for the statements per
# purchase; it costs the server a fifth of the purchases per second, so
# the rates are measured without it)
stmts=$([ "${PGB_STATEMENTS:-0}" = 1 ] && echo 1 || true)
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
run=()
chmod 755 "$pgdir"
if [ "$(id -u)" -eq 0 ]; then
	chown postgres "$pgdir"
	run=(runuser -u postgres --)
fi
"${run[@]}" "$pgbin/initdb" -D "$pgdir/data" -U purchase --auth=trust -E UTF8 --locale=C \
	>"$work/logs/initdb.log" 2>&1
"${run[@]}" "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -w -t 30 \
	-o "-k $pgdir -c listen_addresses= -c max_connections=300${stmts:+ -c shared_preload_libraries=pg_stat_statements}" start >/dev/null
PG_PID=$(head -n 1 "$pgdir/data/postmaster.pid")
pgver=$("$pgbin/postgres" --version | awk '{print $3}')
psql_() { psql -X -A -t -q -v ON_ERROR_STOP=1 "postgresql:///$1?host=$pgdir&user=purchase" -c "$2"; }

# --- one scenario ------------------------------------------------------------

# seed BACKEND NAME -- a database for the scenario; sets DB (its
# `database =`) and writes $work/NAME.key (account 1's) and NAME.keys (16).
seed() {
	local backend=$1 name=$2 conf=$work/$2-seed.conf a i
	if [ "$backend" = pg ]; then
		psql_ postgres "CREATE DATABASE \"$name\""
		DB="postgresql:///$name?host=$pgdir&user=purchase"
	else
		DB=$work/$name.db
	fi
	printf 'database = %s\n' "$DB" >"$conf"
	"$build/tools/purchasectl" --config "$conf" init
	"$build/tools/purchasectl" --config "$conf" prices load "$top/sql/prices.sql"
	: >"$work/$name.keys"
	for i in $(seq 16); do
		a=$("$build/tools/purchasectl" --config "$conf" account create --name "bench $i" \
			--stripe-customer "cus_bench$(printf %04d "$i")")
		"$build/tools/purchasectl" --config "$conf" key create --account "$a" >>"$work/$name.keys"
	done
	head -n 1 "$work/$name.keys" >"$work/$name.key"
	# Account 1's offers: +1415 5 nnnnnn for the first wrk thread of each
	# client (offset 150000 x client, 20000 x round), +1415 6 nnnnnn for the
	# second.
	local sel="SELECT 1, '+1415' || p || lpad(n::text, 6, '0'), 'US', 'local', pr.price_cents, pr.stripe_price_id, 1, EXTRACT(EPOCH FROM now())::bigint + 7200"
	if [ "$backend" = pg ]; then
		psql_ "$name" "INSERT INTO offers (account_id, phone_number, country_code, type, price_cents, stripe_price_id, sms_capable, expires_at)
			$sel FROM (SELECT 5 AS p, generate_series(0, 449999) AS n UNION ALL SELECT 6, generate_series(0, 119999)) g,
			prices pr WHERE pr.country_code = 'US' AND pr.type = 'local'"
		psql_ "$name" "VACUUM ANALYZE"
		[ -z "$stmts" ] || psql_ "$name" "CREATE EXTENSION pg_stat_statements"
	else
		sqlite3 "$DB" "WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM n WHERE x < 449999)
			INSERT INTO offers (account_id, phone_number, country_code, type, price_cents, stripe_price_id, sms_capable, expires_at)
			SELECT 1, printf('+1415%d%06d', p, x), 'US', 'local', pr.price_cents, pr.stripe_price_id, 1, CAST(strftime('%s', 'now') AS INTEGER) + 7200
			FROM n, (SELECT 5 AS p UNION ALL SELECT 6) ps, prices pr WHERE pr.country_code = 'US' AND pr.type = 'local' AND (p = 5 OR x < 120000);
			PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
	fi
}

# node NAME I -- lighttpd I of the scenario; its port added to PORTS, its
# PID to NODE_PIDS.
node() {
	NODE_ENV=${PGB_ENV:-} node_start "$work/$1-node$2" "$work/$1.conf" "$procs"
	NODE_PIDS+=("$NODE_PID")
	PORTS+=("$NODE_PORT")
}

# wal DB -- "fsyncs bytes writes statements" so far: the WAL's (pg_stat_wal)
# and the statements the service ran in DB (pg_stat_statements).
wal() {
	psql_ "$1" "SELECT wal_sync || ' ' || wal_bytes || ' ' || wal_write || ' ' ||
		$([ -n "$stmts" ] && echo "(SELECT sum(calls) FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
		 WHERE d.datname = current_database())" || echo 0) FROM pg_stat_wal"
}

# load KIND NAME ROUND -- one wrk per node at once; "rps p50 p99 non2xx errors"
load() {
	local kind=$1 name=$2 r=$3 n=${#PORTS[@]} i c t pids=() f
	t=$([ "$n" -eq 1 ] && echo 2 || echo 1)
	for i in $(seq 0 $((n - 1))); do
		c=$((conns / n + (i < conns % n ? 1 : 0)))
		f=$work/logs/$name-$kind-$r-$i.wrk
		if [ "$kind" = search ]; then
			wrk -t"$t" -c"$c" -d"${duration}s" --timeout 10s --latency -s "$top/bench/bench.lua" \
				"http://127.0.0.1:${PORTS[$i]}" -- get "/api/user/phone-numbers/search?limit=20" 200 \
				"$work/$name.keys" >"$f" 2>&1 &
		else
			BENCH_KEY=$(cat "$work/$name.key") wrk -t"$t" -c"$c" -d"${duration}s" --timeout 10s --latency \
				-s "$peer/lua/purchase-team.lua" "http://127.0.0.1:${PORTS[$i]}/api/user/phone-numbers/purchase" \
				-- $((i * 150000 + (r - 1) * 20000)) >"$f" 2>&1 &
		fi
		pids+=($!)
	done
	wait "${pids[@]}"
	for i in $(seq 0 $((n - 1))); do wrk_line "$work/logs/$name-$kind-$r-$i.wrk"; done |
		awk '{ rps += $1; p50 = p50 > $2 ? p50 : $2; p99 = p99 > $3 ? p99 : $3; bad += $4; err += $5 }
		     END { printf "%d %.1f %.1f %d %d\n", rps, p50, p99, bad, err }'
}

# cpu -- "service postgres lighttpd fakes" CPU ticks so far (utime + stime of
# every process of that name, children that exited not counted).
cpu() {
	local c
	for c in purchase.fcgi postgres lighttpd nginx; do
		pgrep -x "$c" | while read -r p; do awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null; done |
			awk '{ s += $1 } END { printf "%d ", s }'
	done
	echo
}

declare -A RES
scenario() {	# scenario BACKEND NODES PROCS
	local backend=$1 nodes=$2 procs=$3 name=$1-$2x$3 i r w0 w1 p0 p1 c0 c1 line
	seed "$backend" "$name"
	cat >"$work/$name.conf" <<EOF
database = $DB
stripe_api_base = http://127.0.0.1:$fport
stripe_secret_key = sk_test_bench_fake
twilio_api_base = http://127.0.0.1:$fport
twilio_account_sid = AC00000000000000000000000000be0001
twilio_auth_token = bench_fake_token
purchase_rate_per_minute = 0
search_rate_per_minute = 0
EOF
	PORTS=() NODE_PIDS=()
	for i in $(seq 1 "$nodes"); do node "$name" "$i"; done
	# (warm: every process's connections and statements)
	for i in $(seq 0 $((nodes - 1))); do
		wrk -t1 -c8 -d1s -s "$top/bench/bench.lua" "http://127.0.0.1:${PORTS[$i]}" -- get \
			"/api/user/phone-numbers/search?limit=20" 200 "$work/$name.keys" >/dev/null 2>&1
	done
	for r in $(seq 1 "$rounds"); do
		line=$(load search "$name" "$r")
		echo "$line" >>"$work/logs/$name.search"
		[ "$backend" = pg ] && { sleep 1.5; w0=$(wal "$name"); p0=$(psql_ "$name" "SELECT count(*) FROM purchases WHERE state = 'complete'"); }
		c0=$(cpu)
		line=$(load purchase "$name" "$r")
		c1=$(cpu)
		if [ "${PGB_KEEP:-0}" = 1 ]; then
			for p in $(pgrep -x postgres); do
				echo "$(awk '{print $14 + $15}' "/proc/$p/stat") $(tr '\0' ' ' <"/proc/$p/cmdline" | sed 's/\[local\].*//')"
			done | awk '{ t = $1; $1 = ""; s[$0] += t; n[$0]++ } END { for (k in s) print s[k], n[k], k }' | sort -rn >&2
		fi
		echo "$line" >>"$work/logs/$name.purchase"
		# CPU per purchase, µs: the service, PostgreSQL, lighttpd, the fakes
		awk -v a="$c0" -v b="$c1" -v rps="${line%% *}" -v d="$duration" -v hz="$(getconf CLK_TCK)" 'BEGIN {
			split(a, x, " "); split(b, y, " "); n = rps * d
			for (i = 1; i <= 4; i++) printf "%.0f ", (y[i] - x[i]) / hz * 1e6 / n; print "" }' \
			>>"$work/logs/$name.cpu"
		if [ "$backend" = pg ]; then
			sleep 1.5	# (backends flush their WAL statistics within a second)
			w1=$(wal "$name")
			p1=$(psql_ "$name" "SELECT count(*) FROM purchases WHERE state = 'complete'")
			awk -v a="$w0" -v b="$w1" -v n=$((p1 - p0)) 'BEGIN { split(a, x, " "); split(b, y, " ");
				printf "%.2f %.0f %.2f %.1f\n", (y[1] - x[1]) / n, (y[2] - x[2]) / n, (y[3] - x[3]) / n, (y[4] - x[4]) / n }' \
				>>"$work/logs/$name.wal"
		fi
		echo "pg.sh: $name round $r: search $(tail -n 1 "$work/logs/$name.search"), purchase $line" >&2
	done
	RES[$name.5xx]=$(cat "$work/$name"-node*/error.log | grep -cE ' (POST|GET) [^ ]+ 5[0-9][0-9] ' || true)
	for i in "${NODE_PIDS[@]}"; do kill "$i"; done
	for i in "${NODE_PIDS[@]}"; do wait "$i" 2>/dev/null || true; done
	local k col
	for k in search purchase; do
		for col in 1 2 3 4; do
			RES[$name.$k.$col]=$(awk -v c=$col '{print $c}' "$work/logs/$name.$k" | median)
		done
	done
	for col in 1 2 3 4; do RES[$name.cpu.$col]=$(awk -v c=$col '{print $c}' "$work/logs/$name.cpu" | median); done
	if [ "$backend" = pg ]; then
		for col in 1 2 3 4; do RES[$name.wal.$col]=$(awk -v c=$col '{print $c}' "$work/logs/$name.wal" | median); done
	fi
}

# Shapes: NODESxPROCESSES. 1x2 and 3x2 as an operator would run them (each
# node its own processes: on this machine three times the processes on the
# same 2 cores); 1x3 and 3x1 with the same processes in all, so that what
# differs is only the nodes: three lighttpds and their clients instead of
# one.
shapes=${PGB_SHAPES:-1x$procs 3x$procs 1x3 3x1}
for shape in $shapes; do
	for backend in sqlite pg; do
		case " ${PGB_ONLY:-$backend-$shape} " in *" $backend-$shape "*) ;; *) continue ;; esac
		echo "pg.sh: $backend, ${shape%x*} node(s) of ${shape#*x} processes" >&2
		scenario "$backend" "${shape%x*}" "${shape#*x}"
	done
done

if [ "${PGB_KEEP:-0}" = 1 ] && [ -n "$stmts" ]; then
	for db in $(psql_ postgres "SELECT datname FROM pg_database WHERE datname LIKE 'pg-%'"); do
		psql_ "$db" "SELECT calls, round(total_exec_time::numeric, 1) AS ms, left(query, 90) FROM pg_stat_statements
			s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = current_database() ORDER BY calls DESC LIMIT 30" >&2
	done
fi
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
row() {	# row BACKEND SHAPE
	local n=$1-$2 wal="-"
	[ -n "${RES[$n.purchase.1]:-}" ] || return 0
	[ "$1" = pg ] && wal="${RES[$n.wal.1]} fsyncs, ${RES[$n.wal.3]} writes, ${RES[$n.wal.2]} B${stmts:+; ${RES[$n.wal.4]} statements}"
	echo "| $([ "$1" = pg ] && echo "PostgreSQL $pgver" || echo "SQLite") | ${2/x/ x } | ${RES[$n.purchase.1]} | $(ratio "${RES[$n.purchase.1]}" "${RES[sqlite-$2.purchase.1]:-0}") | ${RES[$n.purchase.2]} / ${RES[$n.purchase.3]} | ${RES[$n.search.1]} | $(ratio "${RES[$n.search.1]}" "${RES[sqlite-$2.search.1]:-0}") | ${RES[$n.search.2]} / ${RES[$n.search.3]} | ${RES[$n.purchase.4]} / ${RES[$n.search.4]} | ${RES[$n.5xx]} | ${RES[$n.cpu.1]} / ${RES[$n.cpu.2]} / ${RES[$n.cpu.3]} / ${RES[$n.cpu.4]} | $wal |"
}
# nodes_vs BACKEND THREE ONE -- "purchases R, searches R" of shape THREE
# against ONE, when both ran
nodes_vs() {
	[ -n "${RES[$1-$2.purchase.1]:-}" ] && [ -n "${RES[$1-$3.purchase.1]:-}" ] || return 0
	echo "- $([ "$1" = pg ] && echo PostgreSQL || echo SQLite), $2 against $3: purchases $(ratio "${RES[$1-$2.purchase.1]}" "${RES[$1-$3.purchase.1]}"), searches $(ratio "${RES[$1-$2.search.1]}" "${RES[$1-$3.search.1]}")"
}
{
	echo "# PostgreSQL against SQLite, one node and three"
	echo
	echo "Generated by \`bench/pg.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC') ($(nproc) cores, shared by the web servers, the fakes, wrk and PostgreSQL; load at the end: $(cut -d' ' -f1-3 /proc/loadavg)). Command: \`PGB_DURATION=$duration PGB_CONNS=$conns PGB_SHAPES='$shapes' PGB_ROUNDS=$rounds ./bench/pg.sh\`. Medians of $rounds rounds; wrk with $conns connections in all (three nodes: a third each, at once, rates added, latencies the worst client's)."
	echo
	echo "| database | nodes x processes | purchases/s | vs SQLite, same shape | purchase p50 / p99 ms | searches/s | vs SQLite | search p50 / p99 ms | non-2xx purchase / search | 5xx in the logs | CPU µs per purchase: service / PostgreSQL / lighttpd / fakes | per purchase: WAL (pg_stat_wal), statements (pg_stat_statements, BEGIN and COMMIT included) |"
	echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
	for shape in $shapes; do
		row sqlite "$shape"
		row pg "$shape"
	done
	echo
	echo "Three nodes against one, same backend:"
	echo
	for backend in sqlite pg; do
		nodes_vs "$backend" "3x$procs" "1x$procs"
		nodes_vs "$backend" 3x1 1x3
	done
} | tee "$out"
