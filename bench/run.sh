#!/bin/bash
# run.sh -- the benchmark (issue #4): how fast and how lean the service is,
# against the ceiling of a do-nothing FastCGI responder measured in the same
# run on the same machine. One command:
#
#   ./bench/run.sh
#
# It installs what it needs (scripts/deps.sh, wrk, strace), builds an
# optimized tree in _build/bench (plain configure: -O2, no sanitizers, no
# fault injection), starts on free 127.0.0.1 ports one lighttpd serving
# purchase.fcgi, one serving bench/hello.fcgi (the ceiling) and one serving
# the provider sandbox, loads them with wrk, prints one table and writes it
# to bench/RESULTS.md. Every server is stopped by PID on exit, whatever way
# the script exits. State lives in _build/bench/bench-run/ (wiped each run).
#
# Scenarios: hello (the ceiling), health, search, purchase (every request a
# distinct number a search offered before the run); fsyncs per purchase and
# per search (strace), the machine's SQLite synchronous=FULL commit rate;
# plain CGI cost; growth (1,000,000 numbers, purchases and offers in the
# database); 200 ms provider latency with 4, 16, 64 processes.
#
# Part "peer" (last): the product against the PHP peer in the same run. It
# copies the shared peer-bench ($PEER_BENCH, read-only) to
# _build/bench/peer-bench, puts bench/peer-team/purchase-fcgi.sh and seed.sh
# (the only files of it adapted to the product) over the copy's team/, and
# runs its run-all.sh on peer-php (PHP-FPM, SQLite synchronous=FULL),
# team-p2 and team-p4 (this build's purchase.fcgi, lighttpd with 2 and 4
# processes), against its nginx fake providers: at 32 connections, at 1
# connection, then once with PROBE=strace (peer-php, team-p4) for system
# calls per purchase. It appends "Against the PHP peer" to bench/RESULTS.md
# (BENCH_ONLY=peer: only that section is replaced, the rest of the file kept).
#
# Environment (defaults in brackets):
#   BENCH_DURATION [10]      seconds of each wrk run
#   BENCH_CONNECTIONS [32]   wrk connections; BENCH_THREADS [2] wrk threads
#   BENCH_PROCS [2]          FastCGI processes of the service and of hello
#   BENCH_PURCHASE_PROCS [8] processes for a second purchase run (a purchase
#                            mostly waits on providers: more processes than
#                            cores is how it is deployed)
#   BENCH_SANDBOX_PROCS [8]  sandbox processes (80 for the latency part)
#   BENCH_ACCOUNTS [16]      accounts (keys) the load is spread over
#   BENCH_NUMBERS [6000]     numbers offered before the purchase run (more
#                            and a second run when they ran out)
#   BENCH_GROWTH_ROWS [1000000]  rows of each table in the growth database
#   BENCH_LATENCY_PROCS ["4 16 64"], BENCH_LATENCY_DURATION [10],
#   BENCH_LATENCY_MS [200]   the provider-latency scenario
#   BENCH_CGI_RUNS [200]     plain CGI executions per measurement
#   BENCH_FSYNC_RUNS [200]    sequential purchases (and searches) under strace
#   BENCH_SKIP               space-separated parts to skip: growth latency cgi fsync peer
#   BENCH_ONLY               peer: build, then run the peer part alone
#   BENCH_PEER_ROUNDS [3]    run-all.sh rounds of the peer part (32 and 1 connection)
#   PEER_BENCH [../shared/peer-bench]  the peer-bench to copy (from the checkout)
#   BENCH_OUT [bench/RESULTS.md]
#   BENCH_BUILD [1]          0: use _build/bench as it is, without building
#   BENCH_PERF               space-separated scenarios to record with perf
#                            (service and sandbox workers) into bench-run/perf-NAME.data
#   BENCH_HOLD               seconds to keep the stack up after the run (profiling)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cmdline="$0${*:+ $*}"
for v in BENCH_DURATION BENCH_CONNECTIONS BENCH_THREADS BENCH_PROCS BENCH_SANDBOX_PROCS \
	BENCH_PURCHASE_PROCS BENCH_ACCOUNTS BENCH_NUMBERS BENCH_GROWTH_ROWS BENCH_LATENCY_PROCS BENCH_LATENCY_DURATION \
	BENCH_LATENCY_MS BENCH_CGI_RUNS BENCH_FSYNC_RUNS BENCH_SKIP BENCH_BUILD BENCH_PERF \
	BENCH_ONLY BENCH_PEER_ROUNDS PEER_BENCH; do
	[ -n "${!v+x}" ] && cmdline="$v='${!v}' $cmdline"
done
DURATION=${BENCH_DURATION:-10}
CONNS=${BENCH_CONNECTIONS:-32}
THREADS=${BENCH_THREADS:-2}
PROCS=${BENCH_PROCS:-2}
PURCHASE_PROCS=${BENCH_PURCHASE_PROCS:-8}
SANDBOX_PROCS=${BENCH_SANDBOX_PROCS:-8}
ACCOUNTS=${BENCH_ACCOUNTS:-16}
NUMBERS=${BENCH_NUMBERS:-6000}
GROWTH_ROWS=${BENCH_GROWTH_ROWS:-1000000}
LAT_PROCS=${BENCH_LATENCY_PROCS:-4 16 64}
LAT_DURATION=${BENCH_LATENCY_DURATION:-10}
LAT_MS=${BENCH_LATENCY_MS:-200}
CGI_RUNS=${BENCH_CGI_RUNS:-200}
FSYNC_RUNS=${BENCH_FSYNC_RUNS:-200}
SKIP=" ${BENCH_SKIP:-} "
ONLY=${BENCH_ONLY:-}
PEER_ROUNDS=${BENCH_PEER_ROUNDS:-3}
OUT=${BENCH_OUT:-$top/bench/RESULTS.md}
t_start=$(date +%s)
LOADAVG=$(cut -d" " -f1-3 /proc/loadavg)

say() { echo "bench: $*" >&2; }
die() { say "$*"; exit 1; }
skip() { case "$SKIP" in *" $1 "*) return 0 ;; esac; return 1; }
case $ONLY in "" | peer) ;; *) die "BENCH_ONLY: no part '$ONLY' (peer)" ;; esac
peer_on() { [ "$ONLY" = peer ] || ! skip peer; }

# --- setup -------------------------------------------------------------------

"$top/scripts/deps.sh"
need=""
command -v wrk >/dev/null || need="$need wrk"
command -v strace >/dev/null || need="$need strace"
if peer_on; then
	# peer-bench's prerequisites (its README) for the setups run here; the
	# compilers and -dev packages come with scripts/deps.sh. The Apache
	# ones are for setups this script does not run.
	for p in nginx php-fpm php-cli php-sqlite3 php-curl libfcgi-bin time iproute2; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || need="$need $p"
	done
fi
if [ -n "$need" ]; then
	SUDO=""
	[ "$(id -u)" -ne 0 ] && SUDO=sudo
	say "installing:$need"
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $need >/dev/null ||
		{ $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			$SUDO apt-get install -y -qq --no-install-recommends $need >/dev/null; }
fi
if [ "${BENCH_BUILD:-1}" = 0 ]; then
	say "using the existing build in _build/bench (BENCH_BUILD=0)"
else
	say "building _build/bench (-O2, no sanitizers, no fault injection)..."
	if ! "$top/scripts/build.sh" _build/bench; then
		# The whole tree did not build (a document being written, say):
		# build what the benchmark runs.
		say "full build failed; building the benchmark's programs only"
		make -s -C "$top/_build/bench" -j"$(nproc)" lib/libpurchase.la cgi-bin/purchase.fcgi \
			tools/purchasectl sandbox/sandbox.fcgi bench/hello.fcgi bench/commits bench/floor \
			bench/spawn bench/linked >/dev/null
	fi
fi
B=$top/_build/bench
FCGI=$B/cgi-bin/.libs/purchase.fcgi   # the real binary, not libtool's wrapper
SANDBOX_FCGI=$B/sandbox/sandbox.fcgi
CTL=$B/tools/purchasectl
HELLO=$B/bench/hello.fcgi
LIBDIR=$B/lib/.libs
LIGHTTPD=$(command -v lighttpd || echo /usr/sbin/lighttpd)
for f in "$FCGI" "$SANDBOX_FCGI" "$HELLO" "$B/bench/commits" "$B/bench/floor" "$B/bench/spawn" "$B/bench/linked"; do
	[ -x "$f" ] || die "missing $f"
done
[ -f "$SANDBOX_FCGI" ] && head -c 2 "$SANDBOX_FCGI" | grep -q '#!' &&
	[ -x "$B/sandbox/.libs/sandbox.fcgi" ] && SANDBOX_FCGI=$B/sandbox/.libs/sandbox.fcgi
head -c 2 "$CTL" | grep -q '#!' && [ -x "$B/tools/.libs/purchasectl" ] && CTL=$B/tools/.libs/purchasectl
export LD_LIBRARY_PATH=$LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

# --- the PHP peer (part "peer"; run last, or alone with BENCH_ONLY=peer) -------------

PB=$B/peer-bench	# the copy of peer-bench: state, logs, raw results
PEER_PID=""	# run-all.sh, while it runs
PEER_TOKEN=""	# in the environment of everything run-all.sh starts
PEER_CMDS=()
# Common to every run-all.sh invocation (peer-bench's README, "Measuring the
# team's implementation"): the product as TEAM_BIN, its seed, its fake
# provider, route and wrk script; REF_HELLO=peer-php turns summarize.php's
# "x hello" column into the in-round ratio to the peer.
PEER_ENV=(PURCHASE_BUILD="$B" PURCHASE_PRICES="$top/sql/prices.sql"
	TEAM_BIN="$PB/team/purchase-fcgi.sh" TEAM_SEED="$PB/team/seed.sh"
	TEAM_FAKE=nginx-fake-team.conf.in TEAM_PATH=/api/user/phone-numbers/purchase
	TEAM_LUA=purchase-team.lua REF_HELLO=peer-php DURATION=8 WARMUP=2)

# peer_stop -- stops run-all.sh if it is still running (on TERM it stops
# its servers by process group), then ends by PID whatever of this run is
# left: processes with this run's token in their environment or the copy's
# run/ in their command line (nginx and php-fpm overwrite their environment
# with a title that keeps the configuration's path), and their children.
peer_stop() {
	[ -n "$PEER_TOKEN" ] || return 0
	if [ -n "$PEER_PID" ] && kill -0 "$PEER_PID" 2>/dev/null; then
		say "peer: stopping run-all.sh (pid $PEER_PID)..."
		kill -TERM "$PEER_PID" 2>/dev/null || true
		# it acts on TERM once its current wrk run or seed is over
		for _ in $(seq 1 600); do kill -0 "$PEER_PID" 2>/dev/null || break; sleep 0.1; done
	fi
	PEER_PID=""
	local d pid e cmd line rest f ours=" " left="" still
	local -A ppid
	for d in /proc/[0-9]*; do
		pid=${d#/proc/}
		[ "$pid" = $$ ] && continue
		read -r line 2>/dev/null <"$d/stat" || continue
		rest=${line##*) }
		# shellcheck disable=SC2206
		f=($rest)
		ppid[$pid]=${f[1]}
		mapfile -d '' -t e 2>/dev/null <"$d/environ" || continue
		mapfile -d '' -t cmd 2>/dev/null <"$d/cmdline" || continue
		if [[ " ${e[*]} " == *" BENCH_PEER_TOKEN=$PEER_TOKEN "* || " ${cmd[*]} " == *"$PB/run/"* ]]; then
			ours="$ours$pid "
		fi
	done
	for _ in 1 2; do	# children, grandchildren
		for pid in "${!ppid[@]}"; do
			[[ $ours == *" ${ppid[$pid]} "* && $ours != *" $pid "* ]] && ours="$ours$pid "
		done
	done
	for pid in $ours; do kill -0 "$pid" 2>/dev/null && left="$left $pid"; done
	[ -n "$left" ] || return 0
	say "peer: ending what run-all.sh left running:$left"
	kill -TERM $left 2>/dev/null || true
	for _ in $(seq 1 30); do
		still=""
		for pid in $left; do kill -0 "$pid" 2>/dev/null && still="$still $pid"; done
		[ -n "$still" ] || return 0
		sleep 0.1
	done
	kill -KILL $still 2>/dev/null || true
}

# peer_pass TAG VAR=VALUE... -- SETUP... -- one run-all.sh invocation from
# the copy, in the background (a signal to this script reaches cleanup at
# once, and cleanup stops it). Its table goes to $PB/table-TAG.md, its
# results to $PB/results-TAG.tsv and setups-TAG.txt, its logs to
# $PB/run/logs-TAG/ (each invocation rewrites run/logs/).
peer_pass() {
	local tag=$1 envs=() rc=0 res set
	shift
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	PEER_CMDS+=("${envs[*]} ./run-all.sh $*")
	say "peer $tag: ${envs[*]} ./run-all.sh $*"
	rm -rf "$PB/run/logs" "$PB"/run/results-*.tsv "$PB"/run/setups-*.txt
	# (Its scans of /proc race with exiting processes: those messages are dropped.)
	(cd "$PB" && exec env -u PURCHASE_CONFIG -u PROBE BENCH_PEER_TOKEN="$PEER_TOKEN" \
		"${PEER_ENV[@]}" "${envs[@]}" ./run-all.sh "$@") >"$PB/table-$tag.md" \
		2> >(grep --line-buffered -v '^\./run-all\.sh: line [0-9]*: /proc/[0-9]*/stat: No such file or directory$' >&2) &
	PEER_PID=$!
	wait "$PEER_PID" || rc=$?
	PEER_PID=""
	peer_stop	# nothing should be left: check by PID
	res=("$PB"/run/results-*.tsv)
	set=("$PB"/run/setups-*.txt)
	[ -d "$PB/run/logs" ] && mv "$PB/run/logs" "$PB/run/logs-$tag"
	if [ ! -f "${res[0]}" ]; then
		say "peer $tag: run-all.sh wrote no results (exit $rc)"
		return 0
	fi
	mv "${res[0]}" "$PB/results-$tag.tsv"
	[ -f "${set[0]}" ] && mv "${set[0]}" "$PB/setups-$tag.txt"
	return 0
}

# peer_check TAG ROUNDS SETUP... -- a note per setup that did not run every
# round or had a reply other than 2xx (a 4xx or 5xx is cheaper than a 201)
peer_check() {
	local tag=$1 rounds=$2 s
	shift 2
	[ -f "$PB/results-$tag.tsv" ] || { echo "- $tag: **no results** (run-all.sh's log above; $PB/run/logs-$tag/)"; return 0; }
	for s in "$@"; do
		awk -F'\t' -v s="$s" -v want="$rounds" -v tag="$tag" '
			NR > 1 && $2 == s { n++; bad += $7; err += $8 }
			END {
				if (n < want) printf "- %s: **%s ran %d of %d rounds** (it did not start or its smoke request failed: run/logs-%s/)\n", tag, s, n, want, tag
				if (bad + err > 0) printf "- %s: **%s: %d non-2xx replies, %d socket errors** (its req/s does not count)\n", tag, s, bad, err
			}' "$PB/results-$tag.tsv"
	done
}

# peer_ratios TAG -- per team setup, the medians over rounds of team/peer-php
# ratios taken inside each round: req/s, CPU/req, p50, p99
peer_ratios() {
	[ -f "$PB/results-$1.tsv" ] || return 0
	awk -F'\t' '
		function med(s,   n, a, i, j, t) {
			n = split(s, a, " ")
			if (n == 0) return -1
			for (i = 2; i <= n; i++) {
				t = a[i] + 0
				for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]
				a[j + 1] = t
			}
			return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
		}
		function f(x) { return x < 0 ? "-" : sprintf("%.3f", x) }
		function q(a, b) { return b > 0 ? " " a / b : "" }
		NR > 1 {
			k = $1 SUBSEP $2
			rps[k] = $3; p50[k] = $4; p99[k] = $5; cpu[k] = $9; rounds[$1] = 1
			if (!($2 in seen)) { seen[$2] = 1; order[++ns] = $2 }
		}
		END {
			for (i = 1; i <= ns; i++) {
				s = order[i]
				if (s == "peer-php") continue
				R = ""; C = ""; L = ""; T = ""; n = 0
				for (r in rounds) {
					k = r SUBSEP s; b = r SUBSEP "peer-php"
					if (!(k in rps) || !(b in rps)) continue
					n++
					R = R q(rps[k], rps[b]); C = C q(cpu[k], cpu[b])
					L = L q(p50[k], p50[b]); T = T q(p99[k], p99[b])
				}
				if (n) printf "| %s / peer-php | %s | %s | %s | %s | %d |\n", s, f(med(R)), f(med(C)), f(med(L)), f(med(T)), n
			}
		}' "$PB/results-$1.tsv"
}

# peer_calls SETUP -- a row of system calls per purchase: the strace -f -c
# summary of the workers over the measured wrk run, over the 201s wrk got
peer_calls() {
	local s=$1 sum=$PB/run/logs-strace/strace-$1-r1.txt req bad rps
	[ -f "$sum" ] && [ -f "$PB/results-strace.tsv" ] || { echo "| $s | - | - | - | - | - | - | - | - | - |"; return 0; }
	read -r rps req bad < <(awk -F'\t' -v s="$s" 'NR > 1 && $2 == s { print $3, $6, $7 }' "$PB/results-strace.tsv")
	awk -v s="$s" -v ok=$((${req:-0} - ${bad:-0})) -v rps="${rps:--}" '
		$1 ~ /^[0-9.]+$/ && NF >= 5 {
			n = $4; c = $NF
			if (c == "total") t = n
			else if (c ~ /^pwrite/) w += n
			else if (c ~ /^pread/) r += n
			else if (c == "fsync" || c == "fdatasync") y += n
			else if (c == "nanosleep" || c == "clock_nanosleep") z += n
			else if (c ~ /^accept/) a += n
		}
		function p(x) { return ok > 0 ? sprintf("%.2f", x / ok) : "-" }
		END { printf "| %s | %d | %d | %s | %s | %s | %s | %s | %s | %s |\n", s, ok, a, p(w), p(r), p(y), p(z), (ok > 0 ? sprintf("%.0f", t / ok) : "-"), p(a), rps }' "$sum"
}

# peer_table TAG -- summarize.php's table of that pass, "x hello" named for
# what it is here (REF_HELLO=peer-php); its empty "x static" column dropped
peer_table() {
	[ -f "$PB/results-$1.tsv" ] || { echo "(no results)"; return 0; }
	php "$PB/summarize.php" "$PB/results-$1.tsv" "$PB/setups-$1.txt" peer-php |
		sed -n '/^|/p' | awk -F'|' -v OFS='|' '{ $8 = ""; sub(/\|\|/, "|"); print }' |
		sed '1s/x hello/x peer-php/'
}

peer_report() {
	local ratio1 best met
	echo "## Against the PHP peer"
	echo
	echo "Generated by \`bench/run.sh\`, part \"peer\": the shared peer-bench (\`$PEER_SRC\`, copied to \`_build/bench/peer-bench\`, its \`team/\` replaced by \`bench/peer-team/\`), its \`run-all.sh\` and \`summarize.php\`. Setups: \`peer-php\` (the PHP peer: lighttpd + php-fpm, 8 static children, PDO SQLite WAL, synchronous FULL, 2 provider calls on new connections), \`team-p2\`/\`team-p4\` (this build's purchase.fcgi under lighttpd mod_fastcgi, max-procs 2/4; 4 keep-alive provider calls with real-shaped Stripe/Twilio replies). Every round starts each setup fresh (database, nginx fake provider, server); wrk runs 8 s after a 2 s warm-up, every request a distinct offered number."
	echo
	echo "- date: $PEER_START ($(($(date +%s) - PEER_T0)) s)"
	echo "- load average at the start of this part: $PEER_LOADAVG$([ "$ONLY" = peer ] || echo ", just after this script's own scenarios"), at the start of bench/run.sh: $LOADAVG; the bg % column is the CPU everything else used during each measured run, in % of both cores"
	echo "- software: $(php -r 'echo "PHP ", PHP_VERSION;'), $(nginx -v 2>&1 | sed 's|.*/||;s|^|nginx |'), $("$LIGHTTPD" -v 2>&1 | head -1 | cut -d' ' -f1)"
	echo "- command: \`$cmdline\`; run-all.sh's invocations, from \`$PB\`, each with \`${PEER_ENV[*]}\`:"
	local c
	for c in "${PEER_CMDS[@]}"; do echo "  - \`$c\`"; done
	echo "- raw data until the next run: \`_build/bench/peer-bench/results-{c32,c1,strace}.tsv\`, logs in \`_build/bench/peer-bench/run/logs-*/\`; reprint a table: \`php summarize.php results-c32.tsv setups-c32.txt peer-php\`"
	peer_check c32 "$PEER_ROUNDS" peer-php team-p2 team-p4
	peer_check c1 "$PEER_ROUNDS" peer-php team-p2 team-p4
	peer_check strace 1 peer-php team-p4
	echo
	echo "### 32 connections (wrk -t2 -c32), medians of $PEER_ROUNDS rounds"
	echo
	peer_table c32
	echo
	echo "CPU us/req: lighttpd + workers (+ php-fpm master) per request, the fake provider apart (fake us/r). x peer-php: req/s over peer-php's in the same round, then the median."
	echo
	echo "In-round ratios, team / peer (median over rounds of the ratio within each round):"
	echo
	echo "| ratio | req/s | CPU/req | p50 | p99 | rounds |"
	echo "| --- | ---: | ---: | ---: | ---: | ---: |"
	peer_ratios c32
	echo
	echo "### 1 connection (wrk -t1 -c1), medians of $PEER_ROUNDS rounds"
	echo
	peer_table c1
	echo
	echo "| ratio | req/s | CPU/req | p50 | p99 | rounds |"
	echo "| --- | ---: | ---: | ---: | ---: | ---: |"
	ratio1=$(peer_ratios c1)
	echo "$ratio1"
	echo
	if [ -n "$ratio1" ]; then
		best=$(awk -F'|' '$3 + 0 > m { m = $3 + 0 } END { printf "%.2f", m }' <<<"$ratio1")
		if awk "BEGIN { exit !($best >= 2) }"; then met=met; else met="**not met**"; fi
		echo "Target: at 1 connection ≥ 2× the peer's purchases/s (in-round): best team setup ${best}× -- $met."
	else
		echo "Target: at 1 connection ≥ 2× the peer's purchases/s: no figures."
	fi
	echo
	echo "### System calls per purchase (strace -f -c on the workers, 32 connections, 1 round)"
	echo
	echo "| setup | 201s (wrk) | accept() | pwrite | pread | fdatasync + fsync | busy sleeps | all syscalls | accept() per 201 | req/s under strace |"
	echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	peer_calls peer-php
	peer_calls team-p4
	echo
	echo "Per purchase = calls of the workers (purchase.fcgi, or the php-fpm children) while wrk measured, over the 201s wrk counted (the product's database is deleted by run-all.sh, so wrk's count it is). The workers also finish the requests in flight when wrk stops (up to 32), which wrk does not count: accept() per 201 above 1 shows that share. pwrite = pwrite64 (page writes to the WAL and the database), pread = pread64 (page reads), busy sleeps = nanosleep + clock_nanosleep (SQLite's busy handler waiting for the write lock). strace slows the workers several-fold: these rows are for counts, not speed."
}

# peer_part -- copies peer-bench out, runs the three passes, writes the
# section into $OUT (replacing an older one) and prints it
peer_part() {
	PEER_SRC=${PEER_BENCH:-$top/../shared/peer-bench}
	[ -x "$PEER_SRC/run-all.sh" ] || die "peer: no run-all.sh in $PEER_SRC (set PEER_BENCH)"
	PEER_SRC=$(cd "$PEER_SRC" && pwd)
	PEER_LOADAVG=$(cut -d" " -f1-3 /proc/loadavg)
	PEER_START=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
	PEER_T0=$(date +%s)
	say "peer: copying $PEER_SRC to $PB (load average $PEER_LOADAVG)..."
	rm -rf "$PB"
	cp -r "$PEER_SRC" "$PB"
	chmod -R u+w "$PB"
	rm -rf "$PB/build" "$PB/run"	# generated; a copy of a used copy would carry them
	cp "$top/bench/peer-team/purchase-fcgi.sh" "$top/bench/peer-team/seed.sh" "$PB/team/"
	PEER_TOKEN=bench-run-$$-$(date +%s%N)
	peer_pass c32 ROUNDS="$PEER_ROUNDS" THREADS=2 CONNS=32 -- peer-php team-p2 team-p4
	peer_pass c1 ROUNDS="$PEER_ROUNDS" THREADS=1 CONNS=1 -- peer-php team-p2 team-p4
	peer_pass strace ROUNDS=1 THREADS=2 CONNS=32 PROBE=strace -- peer-php team-p4
	PEER_TOKEN=""
	peer_report >"$PB/peer.md"
	# The new peer section in place of the older one: what comes before
	# it (without trailing blank lines), then the sections after it (the
	# slow providers' copy), if any.
	if [ -f "$OUT" ]; then
		awk '/^## Against the PHP peer/ { exit } /^$/ { b++; next } { for (; b > 0; b--) print ""; print }' "$OUT" >"$PB/out.md"
		awk '/^## Against the PHP peer/ { p = 1; next } p && /^## / { p = 0; a = 1 } a' "$OUT" >"$PB/after.md"
	else
		printf '# Benchmark results\n\nGenerated by `bench/run.sh` (issue #4); rerun it to replace this file.\n' >"$PB/out.md"
		: >"$PB/after.md"
	fi
	{
		cat "$PB/out.md"; echo; cat "$PB/peer.md"
		if [ -s "$PB/after.md" ]; then echo; cat "$PB/after.md"; fi
	} >"$OUT"
	echo
	cat "$PB/peer.md"
}

if [ "$ONLY" = peer ]; then
	trap peer_stop EXIT
	trap 'exit 130' INT TERM
	peer_part
	exit 0
fi

R=$B/bench-run
rm -rf "$R"
mkdir -p "$R/www"
cc -O2 -o "$R/freeport" "$top/tests/freeport.c"
LUA=$top/bench/bench.lua
TICK=$(getconf CLK_TCK)

declare -A SRV_PID   # name -> lighttpd pid
PIDS=()
cleanup() {
	local p
	peer_stop
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do
		for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$p" 2>/dev/null || true
	done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# serve NAME PORT BIN PROCS ENV-PAIRS... -- lighttpd serving BIN for every
# path (tests/harness.sh's configuration), PROCS processes from the start:
# lighttpd 1.4.69 starts min-procs (default 4) and adds at most one a second
# under load up to max-procs, so both are set.
serve() {
	local name=$1 port=$2 bin=$3 procs=$4 env="" kv
	shift 4
	for kv in "$@"; do env="$env \"${kv%%=*}\" => \"${kv#*=}\","; done
	mkdir -p "$R/$name"
	cat >"$R/$name/lighttpd.conf" <<EOF
server.modules = ("mod_fastcgi")
server.bind = "127.0.0.1"
server.port = $port
server.document-root = "$R/www"
server.errorlog = "$R/$name/error.log"
server.pid-file = "$R/$name/lighttpd.pid"
server.max-connections = 1024
server.max-request-size = 64
fastcgi.server = ( "/" => ((
	"bin-path" => "$bin",
	"socket" => "$R/$name/fcgi.sock",
	"min-procs" => $procs,
	"max-procs" => $procs,
	"check-local" => "disable",
	"bin-environment" => ( $env ),
)))
EOF
	"$LIGHTTPD" -D -f "$R/$name/lighttpd.conf" 2>>"$R/$name/error.log" &
	SRV_PID[$name]=$!
	PIDS+=($!)
	for _ in $(seq 1 200); do
		curl -s -o /dev/null "http://127.0.0.1:$port/" && return 0
		sleep 0.05
	done
	sed 's/^/  /' "$R/$name/error.log" >&2
	die "lighttpd $name did not start"
}

unserve() {	# unserve NAME -- stops that lighttpd (its FastCGI children follow)
	local p=${SRV_PID[$1]} c
	local kids
	kids=$(children "$p")
	kill "$p" 2>/dev/null || true
	for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
	for c in $kids; do
		for _ in $(seq 1 30); do kill -0 "$c" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$c" 2>/dev/null || true
	done
}

children() { ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' ' | tr '\n' ' '; }

# ticks PID... -- utime+stime of those processes, in clock ticks
ticks() {
	local p s=0 f
	for p in "$@"; do
		f=$(cut -d' ' -f14,15 "/proc/$p/stat" 2>/dev/null) || continue
		s=$((s + ${f% *} + ${f#* }))
	done
	echo "$s"
}

# rss_max PID... -- largest VmRSS, kB
rss_max() {
	local p m=0 v
	for p in "$@"; do
		v=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null) || continue
		[ -n "$v" ] && [ "$v" -gt "$m" ] && m=$v
	done
	echo "$m"
}

# mem_max PID... -- largest private memory (Private_Clean+Private_Dirty) and
# largest PSS, kB: what one more worker really costs, shared libraries
# counted once
mem_max() {
	local p
	for p in "$@"; do
		awk '/^Private_(Clean|Dirty):/ {u += $2} /^Pss:/ {s = $2} END {print u + 0, s + 0}' \
			"/proc/$p/smaps_rollup" 2>/dev/null || true
	done | awk '$1 > u {u = $1} $2 > s {s = $2} END {print u + 0, s + 0}'
}

# busy -- busy and total jiffies of the whole machine
busy() { awk '/^cpu / {t=0; for (i=2;i<=NF;i++) t+=$i; print t-$5-$6, t}' /proc/stat; }

calc() { awk "BEGIN { printf \"%.6f\", ($*) }"; }	# never "printf > file"

# --- servers -------------------------------------------------------------------

SPORT=$("$R/freeport")
SANDBOX=http://127.0.0.1:$SPORT
SANDBOX_ENV=("SANDBOX_DB=$R/sandbox.db" "SANDBOX_STRIPE_KEY=sk_test_sandbox"
	"SANDBOX_TWILIO_SID=AC00000000000000000000000000000000" "SANDBOX_TWILIO_TOKEN=sandbox_token"
	"LD_LIBRARY_PATH=$LIBDIR")
serve sandbox "$SPORT" "$SANDBOX_FCGI" "$SANDBOX_PROCS" "${SANDBOX_ENV[@]}"
sed -n "s/.*VALUES ('[A-Z]*', '[a-z_]*', \([0-9]*\), '\(price_[a-z_]*\)').*/\2 \1/p" \
	"$top/sql/prices.sql" | while read -r id cents; do
	curl -sf -H 'Content-Type: application/json' -d "{\"id\":\"$id\",\"unit_amount\":$cents}" \
		"$SANDBOX/_sandbox/prices" >/dev/null
done

# write_conf FILE DB
write_conf() {
	cat >"$1" <<EOF
# written by bench/run.sh
database = $2
stripe_api_base = $SANDBOX
stripe_secret_key = sk_test_sandbox
stripe_webhook_secret = whsec_bench
twilio_api_base = $SANDBOX
twilio_account_sid = AC00000000000000000000000000000000
twilio_auth_token = sandbox_token
offer_ttl_seconds = 3600
provider_timeout_ms = 8000
provider_connect_timeout_ms = 3000
purchase_rate_per_minute = 0
search_rate_per_minute = 0
EOF
}
CONF=$R/purchase.conf
write_conf "$CONF" "$R/purchase.db"
export PURCHASE_CONFIG=$CONF
"$CTL" init
"$CTL" prices load "$top/sql/prices.sql" >/dev/null

say "creating $ACCOUNTS accounts..."
SK="Authorization: Bearer sk_test_sandbox"
: >"$R/keys"
for i in $(seq 1 "$ACCOUNTS"); do
	cus=$(curl -sf -H "$SK" -d name="bench $i" "$SANDBOX/v1/customers" | jq -r .id)
	pm=$(curl -sf -H "$SK" -d customer="$cus" "$SANDBOX/v1/payment_methods/pm_card_visa/attach" |
		jq -r .id)
	curl -sf -H "$SK" -d "invoice_settings[default_payment_method]=$pm" \
		"$SANDBOX/v1/customers/$cus" >/dev/null
	acct=$("$CTL" account create --name "bench $i" --stripe-customer "$cus")
	"$CTL" key create --account "$acct" >>"$R/keys"
done
mapfile -t KEYS <"$R/keys"

PPORT=$("$R/freeport")
HPORT=$("$R/freeport")
API=http://127.0.0.1:$PPORT
# start_service PROCS [CONF]
start_service() {
	serve service "$PPORT" "$FCGI" "$1" "PURCHASE_CONFIG=${2:-$CONF}" "LD_LIBRARY_PATH=$LIBDIR"
	for _ in $(seq 1 100); do
		[ "$(echo $(children "${SRV_PID[service]}") | wc -w)" -ge "$1" ] && break
		sleep 0.05
	done
}
start_service "$PROCS"
serve hello "$HPORT" "$HELLO" "$PROCS"
[ "$(curl -s "$API/api/health" | jq -r .status)" = ok ] || die "service health check failed"

# --- offering numbers ------------------------------------------------------------

# The sandbox's US local inventory: 8 areas x 25 exchanges x 10,000. A
# "block" is 100 numbers (AAA XXX SS00-99); searching contains=AAAXXXSS
# with limit=50 offers its first 50, distinct from every other block's.
# Blocks are handed out once per run (exchanges in order, so the sandbox's
# scan stays short).
AREAS=(415 212 312 213 617 206 512 305)
NEXT_BLOCK=0
# offer COUNT FILE [BASE] -- offers COUNT numbers (rounded up to 50) spread
# over the accounts, writes "KEY NUMBER" lines to FILE (shuffled).
offer() {
	local count=$1 file=$2 base=${3:-$API} n=0 b a x ss i=0
	: >"$R/offer.jobs"
	while [ $n -lt "$count" ]; do
		b=$NEXT_BLOCK
		NEXT_BLOCK=$((NEXT_BLOCK + 1))
		a=${AREAS[$((b % 8))]}
		x=$((555 + b / 800))
		ss=$(printf '%02d' $(((b / 8) % 100)))
		echo "${KEYS[$((i % ACCOUNTS))]} $a$x$ss" >>"$R/offer.jobs"
		i=$((i + 1))
		n=$((n + 50))
	done
	# Each job: sh -c SCRIPT sh BASE KEY PREFIX.
	# shellcheck disable=SC2016
	xargs -P 8 -L 1 sh -c 'curl -sf -H "Authorization: Bearer $2" \
		"$1/api/user/phone-numbers/search?area_code=$(echo "$3" | cut -c1-3)&contains=$3&limit=50" |
		jq -r ".data[].phone_number" | sed "s/^/$2 /"' sh "$base" \
		<"$R/offer.jobs" >"$file.tmp" 2>/dev/null || true
	sort -u "$file.tmp" | shuf >"$file"
	rm -f "$file.tmp"
	[ "$(wc -l <"$file")" -ge "$count" ] || say "warning: only $(wc -l <"$file") of $count numbers offered"
}

# --- measuring -----------------------------------------------------------------------

# load NAME URL CONNS DURATION LUA-ARGS... -- one wrk run; sets, for NAME,
# R_REQ R_RPS R_P50 R_P99 R_CPU (µs/req service workers) R_RSS (kB max)
# R_BAD, and shares of CPU.
declare -A RES
load() {
	local name=$1 url=$2 conns=$3 dur=$4 port
	shift 4
	local srv=${LOAD_SERVER:-service}
	local wpids spids lp sp b0 b1 w0 w1 s0 s1 l0 l1 m0 m1 line
	wpids=$(children "${SRV_PID[$srv]}")
	spids=$(children "${SRV_PID[sandbox]}")
	lp="${SRV_PID[$srv]}"
	sp="${SRV_PID[sandbox]}"
	w0=$(ticks $wpids); s0=$(ticks $spids $sp); l0=$(ticks $lp); read -r b0 m0 < <(busy)
	local perfpid=""
	case " ${BENCH_PERF:-} " in *" $name "*)
		perf record -q -g -o "$R/perf-$name.data" -p "$(echo $wpids $spids | tr ' ' ,)" \
			-- sleep "$dur" >/dev/null 2>&1 &
		perfpid=$! ;;
	esac
	wrk -t"$THREADS" -c"$conns" -d"${dur}s" --timeout 10s -s "$LUA" "$url" -- "$@" \
		>"$R/wrk-$name.out" 2>&1 || true
	[ -n "$perfpid" ] && wait "$perfpid" 2>/dev/null
	w1=$(ticks $wpids); s1=$(ticks $spids $sp); l1=$(ticks $lp); read -r b1 m1 < <(busy)
	line=$(grep '^BENCH ' "$R/wrk-$name.out") || { cat "$R/wrk-$name.out" >&2; die "wrk $name failed"; }
	local kv
	for kv in ${line#BENCH }; do RES[$name.${kv%%=*}]=${kv#*=}; done
	local req=${RES[$name.requests]}
	RES[$name.rps]=$(calc "${req} * 1e6 / ${RES[$name.duration_us]}" | xargs printf '%.0f')
	RES[$name.cpu_us]=$(calc "$req > 0 ? ($w1 - $w0) * 1e6 / $TICK / $req : 0" | xargs printf '%.0f')
	RES[$name.sandbox_us]=$(calc "$req > 0 ? ($s1 - $s0) * 1e6 / $TICK / $req : 0" | xargs printf '%.0f')
	RES[$name.lighttpd_us]=$(calc "$req > 0 ? ($l1 - $l0) * 1e6 / $TICK / $req : 0" | xargs printf '%.0f')
	RES[$name.sandbox_share]=$(calc "($w1-$w0)+($s1-$s0)+($l1-$l0) > 0 ? 100 * ($s1-$s0) / (($w1-$w0)+($s1-$s0)+($l1-$l0)) : 0" | xargs printf '%.0f')
	RES[$name.busy]=$(calc "$m1 > $m0 ? 100 * ($b1 - $b0) / ($m1 - $m0) : 0" | xargs printf '%.0f')
	RES[$name.rss]=$(rss_max $(children "${SRV_PID[$srv]}"))
	read -r RES[$name.priv] RES[$name.pss] < <(mem_max $(children "${SRV_PID[$srv]}"))
	RES[$name.procs]=$(echo $wpids | wc -w)
	[ "$(children "${SRV_PID[$srv]}")" = "$wpids" ] || RES[$name.note]="workers changed during the run"
	local sample
	sample=$(sed -n 's/^BENCH_SAMPLE //p' "$R/wrk-$name.out")
	[ -n "$sample" ] && RES[$name.sample]=$sample
	say "$(printf '%-16s %7s req/s  p50 %6.2f ms  p99 %7.2f ms  service %5s µs/req  sandbox %5s µs/req  lighttpd %4s µs/req  rss %5s kB (private %s)  bad %s%s' \
		"$name" "${RES[$name.rps]}" "$(calc "${RES[$name.p50_us]}/1000")" \
		"$(calc "${RES[$name.p99_us]}/1000")" "${RES[$name.cpu_us]}" "${RES[$name.sandbox_us]}" \
		"${RES[$name.lighttpd_us]}" "${RES[$name.rss]}" "${RES[$name.priv]}" "${RES[$name.bad]}" \
		"${sample:+ (e.g. $sample)}")"
}

SEARCH_PATH="/api/user/phone-numbers/search?limit=20"

# buy_run NAME COUNT -- offers COUNT numbers, then the purchase load; when
# wrk ran out of numbers, offers 1.5 x what the measured rate needs and runs
# it again (the first run's numbers are spent either way).
buy_run() {
	local name=$1 count=$2
	say "$name: offering $count numbers..."
	offer "$count" "$R/numbers-$name"
	say "$name: purchase load..."
	load "$name" "$API/api/user/phone-numbers/purchase" "$CONNS" "$DURATION" buy "$R/numbers-$name" "$THREADS"
	if [ "${RES[$name.exhausted]}" -gt 0 ]; then
		count=$(calc "${RES[$name.rps]} * $DURATION * 1.5 + 500" | xargs printf '%.0f')
		say "$name: ran out of numbers; again with $count"
		offer "$count" "$R/numbers-$name"
		load "$name" "$API/api/user/phone-numbers/purchase" "$CONNS" "$DURATION" buy "$R/numbers-$name" "$THREADS"
	fi
}

# --- the scenarios ---------------------------------------------------------------------

# Warm-up: every worker opens its context on its first request.
for _ in $(seq 1 $((PROCS * 4))); do
	curl -s -o /dev/null "$API/api/health"
	curl -s -o /dev/null "http://127.0.0.1:$HPORT/"
done

say "hello (the ceiling)..."
LOAD_SERVER=hello load hello "http://127.0.0.1:$HPORT/api/health" "$CONNS" "$DURATION" get /api/health 200
say "health..."
load health "$API/api/health" "$CONNS" "$DURATION" get /api/health 200
say "search..."
load search "$API$SEARCH_PATH" "$CONNS" "$DURATION" get "$SEARCH_PATH" 200 "$R/keys"
buy_run purchase "$NUMBERS"
if [ "$PURCHASE_PROCS" != "$PROCS" ]; then
	unserve service
	start_service "$PURCHASE_PROCS"
	for _ in $(seq 1 $((PURCHASE_PROCS * 4))); do curl -s -o /dev/null "$API/api/health"; done
	buy_run purchase_many "$(calc "${RES[purchase.rps]} * $DURATION * 3 + 1000" | xargs printf '%.0f')"
	unserve service
	start_service "$PROCS"
	for _ in $(seq 1 $((PROCS * 4))); do curl -s -o /dev/null "$API/api/health"; done
fi

# --- fsyncs per request, and the machine's commit rate ----------------------------------

if ! skip fsync; then
	say "fsyncs per purchase and per search (strace, $FSYNC_RUNS sequential requests each)..."
	offer "$FSYNC_RUNS" "$R/numbers-fsync"
	# fsyncs KIND -- runs FSYNC_RUNS requests of KIND under strace
	fsyncs() {
		local kind=$1 args=() p sp ok=0 key num
		for p in $(children "${SRV_PID[service]}"); do args+=(-p "$p"); done
		strace -f -y -e trace=fsync,fdatasync,sync_file_range,msync,pwrite64 -o "$R/strace-$kind" "${args[@]}" 2>/dev/null &
		sp=$!
		sleep 1
		if [ "$kind" = purchase ]; then
			while read -r key num; do
				[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $key" \
					-H 'Content-Type: application/json' -d "{\"phone_number\":\"$num\"}" \
					"$API/api/user/phone-numbers/purchase")" = 201 ] && ok=$((ok + 1))
			done < <(head -n "$FSYNC_RUNS" "$R/numbers-fsync")
		else
			for i in $(seq 1 "$FSYNC_RUNS"); do
				[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer ${KEYS[$((i % ACCOUNTS))]}" \
					"$API$SEARCH_PATH")" = 200 ] && ok=$((ok + 1))
			done
		fi
		sleep 0.5
		kill -INT "$sp" 2>/dev/null || true
		wait "$sp" 2>/dev/null || true
		RES[fsync.$kind.ok]=$ok
		# Every call with its file (-y): a checkpoint syncs the WAL, then
		# the database file; a commit only the WAL; and the first commit
		# after the WAL is started over writes its 32-byte header at
		# offset 0 and syncs it. So the syncs of the database file count
		# the checkpoints (two syncs each, after a reply, in
		# purchase_idle), the header writes count the restarts (one sync
		# each); the rest are the requests' own.
		# (A sync of the directory, when SQLite creates the WAL file
		# anew, is counted in "all" only.)
		RES[fsync.$kind.all]=$(grep -cE '^[0-9]+ +(fsync|fdatasync|sync_file_range|msync)\(' "$R/strace-$kind" || true)
		RES[fsync.$kind.calls]=$(grep -cE '^[0-9]+ +(fsync|fdatasync)\([0-9]+<[^>]*\.db(-wal)?>' "$R/strace-$kind" || true)
		RES[fsync.$kind.ckpt]=$(grep -cE '^[0-9]+ +(fsync|fdatasync)\([0-9]+<[^>]*\.db>' "$R/strace-$kind" || true)
		RES[fsync.$kind.restart]=$(grep -cE '^[0-9]+ +pwrite64\([0-9]+<[^>]*\.db-wal>, .*, 32, 0\) = 32' "$R/strace-$kind" || true)
		RES[fsync.$kind.cycle]=$((2 * RES[fsync.$kind.ckpt] + RES[fsync.$kind.restart]))
		RES[fsync.$kind.path]=$((RES[fsync.$kind.calls] - RES[fsync.$kind.cycle]))
		RES[fsync.$kind.per]=$(calc "$ok > 0 ? ${RES[fsync.$kind.all]} / $ok : 0" | xargs printf '%.2f')
		RES[fsync.$kind.path_per]=$(calc "$ok > 0 ? ${RES[fsync.$kind.path]} / $ok : 0" | xargs printf '%.2f')
		RES[fsync.$kind.ckpt_per]=$(calc "$ok > 0 ? ${RES[fsync.$kind.cycle]} / $ok : 0" | xargs printf '%.2f')
		say "$kind: ${RES[fsync.$kind.all]} fsync-family calls over $ok requests = ${RES[fsync.$kind.per]} per request: ${RES[fsync.$kind.path_per]} in the request, ${RES[fsync.$kind.ckpt_per]} by ${RES[fsync.$kind.ckpt]} checkpoints and ${RES[fsync.$kind.restart]} WAL restarts"
	}
	fsyncs purchase
	fsyncs search
fi
say "SQLite commit rate on this file system (WAL, synchronous=FULL, then NORMAL)..."
read -r RES[commit.full] RES[commit.full_us] RES[commit.full_cpu] < <("$B/bench/commits" "$R/commits.db" 1000 FULL)
read -r RES[commit.normal] RES[commit.normal_us] RES[commit.normal_cpu] < <("$B/bench/commits" "$R/commits.db" 5000 NORMAL)
say "FULL: ${RES[commit.full]} commits/s (${RES[commit.full_us]} µs, CPU ${RES[commit.full_cpu]} µs each); NORMAL: ${RES[commit.normal]} commits/s (CPU ${RES[commit.normal_cpu]} µs each)"

# --- floors: what the platform costs before the service does anything ----------------------

say "floors: libcurl's memory, one loopback HTTP call's client CPU..."
read -r RES[floor.rss0] RES[floor.rss1] < <("$B/bench/floor" rss)
read -r RES[floor.call_cpu] RES[floor.call_rps] < <("$B/bench/floor" http "http://127.0.0.1:$HPORT/api/health" 5000)
say "VmRSS ${RES[floor.rss0]} kB, with libcurl loaded and initialized ${RES[floor.rss1]} kB; a keep-alive GET to hello through lighttpd: ${RES[floor.call_cpu]} µs client CPU (${RES[floor.call_rps]}/s)"

# --- plain CGI ---------------------------------------------------------------------------

if ! skip cgi; then
	say "plain CGI ($CGI_RUNS executions each)..."
	# cgi_time METHOD URI BODY [KEY] -- "<ms per execution> <status>" of
	# purchase.fcgi as CGI: bench/spawn runs it CGI_RUNS times in a row
	# (posix_spawn and wait, nothing else), with the environment a web
	# server would give it.
	cgi_env() {	# cgi_env METHOD URI BODY KEY CMD... -- CMD under the CGI environment
		local method=$1 uri=$2 body=$3 key=$4
		shift 4
		env -i PATH="$PATH" LD_LIBRARY_PATH="$LIBDIR" PURCHASE_CONFIG="$CONF" \
			GATEWAY_INTERFACE=CGI/1.1 SERVER_PROTOCOL=HTTP/1.1 REQUEST_METHOD="$method" \
			REQUEST_URI="$uri" SCRIPT_NAME=/purchase.fcgi CONTENT_TYPE=application/json \
			CONTENT_LENGTH="${#body}" HTTP_AUTHORIZATION="Bearer $key" "$@"
	}
	cgi_time() {
		local method=$1 uri=$2 body=$3 key=${4:-} st ms
		printf '%s' "$body" >"$R/cgi.in"
		st=$(cgi_env "$method" "$uri" "$body" "$key" "$FCGI" <"$R/cgi.in" 2>/dev/null |
			sed -n 's/^Status: \([0-9]*\).*/\1/p' | head -1)
		read -r ms _ < <(cgi_env "$method" "$uri" "$body" "$key" "$B/bench/spawn" "$CGI_RUNS" "$R/cgi.in" "$FCGI")
		echo "$ms $st"
	}
	# The same runner exec'ing /bin/true, and hello.fcgi (started as CGI it
	# finds no FastCGI socket and exits): the exec itself, and the loading
	# of a small libfcgi program, on this machine.
	read -r RES[cgi.true] _ < <("$B/bench/spawn" "$CGI_RUNS" /dev/null /bin/true)
	read -r RES[cgi.hello] _ < <(env -i "$B/bench/spawn" "$CGI_RUNS" /dev/null "$HELLO")
	read -r RES[cgi.linked] _ < <(env -i "$B/bench/spawn" "$CGI_RUNS" /dev/null "$B/bench/linked")
	read -r RES[cgi.linked_db] _ < <(env -i "$B/bench/spawn" "$CGI_RUNS" /dev/null "$B/bench/linked" "$R/purchase.db")
	RES[cgi.libs]=$(ldd "$FCGI" | wc -l)
	read -r RES[cgi.health] RES[cgi.health_status] < <(cgi_time GET /api/health "")
	# An authenticated purchase refused by the checks (a number no search
	# offered): key, body, E.164, in-use and offer look-ups, no provider call.
	read -r RES[cgi.buy] RES[cgi.buy_status] < <(cgi_time POST /api/user/phone-numbers/purchase \
		'{"phone_number":"+12025550123"}' "${KEYS[0]}")
	say "CGI: health ${RES[cgi.health]} ms (status ${RES[cgi.health_status]}), refused purchase ${RES[cgi.buy]} ms (status ${RES[cgi.buy_status]}); /bin/true ${RES[cgi.true]} ms, hello.fcgi exiting ${RES[cgi.hello]} ms"
fi

# --- growth: 1,000,000 rows ---------------------------------------------------------------

if ! skip growth; then
	say "growth: copying the database and adding $GROWTH_ROWS purchases, numbers and offers..."
	G=$R/growth.db
	t0=$(date +%s)
	sqlite3 "$R/purchase.db" "VACUUM INTO '$G'"
	now=$(date +%s)
	sqlite3 "$G" >/dev/null <<SQL
PRAGMA journal_mode=WAL;
PRAGMA synchronous=OFF;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $GROWTH_ROWS)
INSERT INTO purchases (id, account_id, phone_number, country_code, type, price_cents,
	stripe_price_id, sms_capable, stripe_customer, payment_method, state, subscription_id,
	invoice_id, number_sid, period_end, lease_token, lease_until, open, live, created_at,
	updated_at)
SELECT 10000000 + i, 1 + i % $ACCOUNTS, '+1999' || printf('%07d', i), 'US', 'local', 115,
	'price_us_local_monthly', 1, 'cus_growth', 'pm_growth', 'complete',
	'sub_growth' || i, 'in_growth' || i, 'PN' || printf('%032d', i), $now + 86400 * 30, 1, 0,
	0, 1, $now - 86400 * 60 + i % 86400, $now - 86400 * 60 + i % 86400
FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $GROWTH_ROWS)
INSERT INTO numbers (id, account_id, purchase_id, phone_number, country_code, type,
	sms_capable, price_cents, status, subscription_id, number_sid, period_end, created_at,
	updated_at)
SELECT 10000000 + i, 1 + i % $ACCOUNTS, 10000000 + i, '+1999' || printf('%07d', i), 'US',
	'local', 1, 115, 'active', 'sub_growth' || i, 'PN' || printf('%032d', i),
	$now + 86400 * 30, $now - 86400 * 60, $now - 86400 * 60
FROM n;
-- Offers not yet expired (an expired backlog would measure pruning, not size).
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $GROWTH_ROWS)
INSERT INTO offers (account_id, phone_number, country_code, type, price_cents,
	stripe_price_id, sms_capable, expires_at)
SELECT 1 + i % $ACCOUNTS, '+1998' || printf('%07d', i), 'US', 'local', 115,
	'price_us_local_monthly', 1, $now + 86400
FROM n;
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
	# (No ANALYZE: the service never runs it, and with sqlite_stat4 present
	# SQLite re-prepares statements per binding -- not what users have.)
	# The fill ran with synchronous=OFF: flush its hundreds of MB now, or
	# the service's first checkpoint (an fsync of the file) would pay for
	# them and the run would measure the fill, not the size.
	sync "$G"
	RES[growth.fill_s]=$(($(date +%s) - t0))
	RES[growth.size]=$(du -m "$G" | cut -f1)
	say "growth database: ${RES[growth.size]} MB in ${RES[growth.fill_s]} s"
	write_conf "$R/growth.conf" "$G"
	unserve service
	start_service "$PROCS" "$R/growth.conf"
	for _ in $(seq 1 $((PROCS * 4))); do curl -s -o /dev/null "$API/api/health"; done
	say "growth: search..."
	load growth_search "$API$SEARCH_PATH" "$CONNS" "$DURATION" get "$SEARCH_PATH" 200 "$R/keys"
	buy_run growth_purchase "$(calc "${RES[purchase.rps]} * $DURATION * 1.5 + 500" | xargs printf '%.0f')"
	unserve service
	start_service "$PROCS"
fi

# --- provider latency --------------------------------------------------------------------

if ! skip latency; then
	maxp=0
	for p in $LAT_PROCS; do [ "$p" -gt $maxp ] && maxp=$p; done
	say "provider latency ${LAT_MS} ms: sandbox with $((maxp + 16)) processes..."
	unserve sandbox
	serve sandbox "$SPORT" "$SANDBOX_FCGI" $((maxp + 16)) "${SANDBOX_ENV[@]}"
	for p in $LAT_PROCS; do
		# purchases/s is about p / (4 x latency): offer 1.5 times that.
		want=$(calc "$p * 1000 / (4 * $LAT_MS) * $LAT_DURATION * 1.5 + 100" | xargs printf "%.0f")
		offer "$want" "$R/numbers-lat$p"
	done
	for op in customer_get subscription_create number_buy invoice_pay; do
		curl -sf -X POST -H 'Content-Type: application/json' \
			-d "{\"op\":\"$op\",\"fault\":\"delay\",\"count\":-1,\"delay_ms\":$LAT_MS}" \
			"$SANDBOX/_sandbox/faults" >/dev/null || die "cannot arm the delay fault on $op"
	done
	for p in $LAT_PROCS; do
		unserve service
		start_service "$p"
		# Warm-up by searches (a carrier call, not delayed): each worker
		# loads libcurl and connects once before the clock starts -- a
		# cost per process, not per purchase.
		warm=()
		for _ in $(seq 1 $((p * 2))); do
			curl -s -o /dev/null -H "Authorization: Bearer ${KEYS[0]}" "$API$SEARCH_PATH" & warm+=($!)
		done
		wait "${warm[@]}" 2>/dev/null || true
		say "latency: $p processes, $p connections..."
		load "lat$p" "$API/api/user/phone-numbers/purchase" "$p" "$LAT_DURATION" buy "$R/numbers-lat$p" "$THREADS"
	done
	curl -sf -X DELETE "$SANDBOX/_sandbox/faults" >/dev/null || true
fi

# --- the table -------------------------------------------------------------------------------

ms() { calc "$1 / 1000" | xargs printf '%.2f'; }
mib() { calc "$1 / 1024" | xargs printf '%.1f'; }
mark() { if [ "$1" = 1 ]; then echo "met"; else echo "**not met**"; fi; }
ok() { calc "($*) ? 1 : 0" | xargs printf "%.0f"; }

hello_rps=${RES[hello.rps]}
row() {	# row NAME LABEL
	local n=$1 errs
	errs=$((RES[$n.bad] + RES[$n.socket_errors]))
	printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$2" "${RES[$n.rps]}" \
		"$(ms "${RES[$n.p50_us]}")" "$(ms "${RES[$n.p99_us]}")" "${RES[$n.cpu_us]}" \
		"$(mib "${RES[$n.rss]}")" "$(mib "${RES[$n.priv]}")" "$(calc "${RES[$n.rps]} / $hello_rps" | xargs printf '%.2f')" \
		"$errs / ${RES[$n.requests]}" "${RES[$n.busy]}%"
}

rss_all=0
priv_all=0
for n in health search purchase purchase_many growth_search growth_purchase $(for p in $LAT_PROCS; do echo lat$p; done); do
	[ -n "${RES[$n.rss]:-}" ] || continue
	[ "${RES[$n.rss]}" -gt $rss_all ] && rss_all=${RES[$n.rss]}
	[ "${RES[$n.priv]}" -gt $priv_all ] && priv_all=${RES[$n.priv]}
done

{
	echo "# Benchmark results"
	echo
	echo "Generated by \`bench/run.sh\` (issue #4); rerun it to replace this file."
	echo
	echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
	echo "- machine: \`$(uname -a)\`"
	echo "- CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -1), nproc $(nproc); load average before the run: $LOADAVG"
	echo "- software: $("$LIGHTTPD" -v 2>&1 | head -1), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2), SQLite $(sqlite3 --version | cut -d' ' -f1), gcc $(gcc -dumpversion)"
	echo "- command: \`$cmdline\`"
	echo "- load: wrk $THREADS threads, $CONNS connections, ${DURATION} s per scenario; $PROCS FastCGI processes for the service and for hello; sandbox $SANDBOX_PROCS processes; $ACCOUNTS accounts"
	echo
	echo "| scenario | req/s | p50 ms | p99 ms | service CPU µs/req | RSS/worker MiB | private/worker MiB | ratio to hello | errors / requests | machine CPU busy |"
	echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	row hello "hello (ceiling: fixed JSON, same headers)"
	row health "GET /api/health"
	row search "GET search, limit=20"
	row purchase "POST purchase (distinct offered number each)"
	[ -n "${RES[purchase_many.rps]:-}" ] &&
		row purchase_many "POST purchase, $PURCHASE_PROCS processes"
	if [ -n "${RES[growth_search.rps]:-}" ]; then
		row growth_search "search, 1,000,000 rows"
		row growth_purchase "purchase, 1,000,000 rows"
	fi
	echo
	echo "Service CPU is utime+stime of the purchase.fcgi workers alone (/proc/PID/stat) over completed requests; for hello, of the hello.fcgi workers. RSS is the largest VmRSS of the workers after the run (shared libraries included: the same pages in every worker); private is the largest Private_Clean+Private_Dirty (smaps_rollup), what each further worker adds. Machine CPU busy: all cores, every process (wrk, both lighttpds, the sandbox, anything else running)."
	echo
	echo "| measure | value |"
	echo "| --- | --- |"
	echo "| CPU per purchase, µs: service / sandbox / service's lighttpd | ${RES[purchase.cpu_us]} / ${RES[purchase.sandbox_us]} / ${RES[purchase.lighttpd_us]} |"
	echo "| sandbox share of service+sandbox+lighttpd CPU, purchase run | ${RES[purchase.sandbox_share]}% |"
	echo "| sandbox share, search run | ${RES[search.sandbox_share]}% |"
	if [ -n "${RES[fsync.purchase.per]:-}" ]; then
		echo "| fsyncs per purchase (strace, ${RES[fsync.purchase.ok]} sequential 201s): in the request / WAL cycle (2 per checkpoint, 1 per WAL restart) / all | ${RES[fsync.purchase.path_per]} / ${RES[fsync.purchase.ckpt_per]} (${RES[fsync.purchase.ckpt]} checkpoints, ${RES[fsync.purchase.restart]} restarts) / ${RES[fsync.purchase.per]} |"
		echo "| fsyncs per search (strace, ${RES[fsync.search.ok]} sequential 200s): in the request / all | ${RES[fsync.search.path_per]} / ${RES[fsync.search.per]} |"
	fi
	echo "| SQLite WAL commits/s, synchronous=FULL (this file system) | ${RES[commit.full]} (${RES[commit.full_us]} µs each, ${RES[commit.full_cpu]} µs of it CPU) |"
	echo "| SQLite WAL commits/s, synchronous=NORMAL | ${RES[commit.normal]} (${RES[commit.normal_cpu]} µs CPU each) |"
	if [ -n "${RES[fsync.purchase.per]:-}" ]; then
		echo "| purchases/s the FULL commit rate allows at that fsync count | $(calc "${RES[fsync.purchase.per]} > 0 ? ${RES[commit.full]} / ${RES[fsync.purchase.per]} : 0" | xargs printf '%.0f') |"
	fi
	echo "| floor: one keep-alive loopback HTTP GET through libcurl to hello (lighttpd), client CPU | ${RES[floor.call_cpu]} µs (${RES[floor.call_rps]}/s) |"
	echo "| floor: CPU a purchase cannot go below here: 1 FULL and 2 NORMAL commits + 4 provider calls (${RES[commit.full_cpu]} + ${RES[commit.normal_cpu]} × 2 + ${RES[floor.call_cpu]} × 4) | $((RES[commit.full_cpu] + 2 * RES[commit.normal_cpu] + 4 * RES[floor.call_cpu])) µs |"
	echo "| floor: VmRSS of a small process, then with libcurl loaded and initialized (what every provider-calling worker carries) | $(mib "${RES[floor.rss0]}") / $(mib "${RES[floor.rss1]}") MiB |"
	if [ -n "${RES[cgi.health]:-}" ]; then
		echo "| plain CGI, GET /api/health (exec, configuration, database open) | ${RES[cgi.health]} ms |"
		echo "| plain CGI, authenticated purchase refused by the checks (status ${RES[cgi.buy_status]}) | ${RES[cgi.buy]} ms |"
		echo "| the same runner exec'ing /bin/true (the exec itself) / hello.fcgi (exits at once) / bench/linked (SQLite, json-c, libfcgi loaded, exits at once: the floor) / bench/linked opening the service's database and reading one PRAGMA (SQLite's start) | ${RES[cgi.true]} ms / ${RES[cgi.hello]} ms / ${RES[cgi.linked]} ms / ${RES[cgi.linked_db]} ms |"
		echo "| shared objects purchase.fcgi loads (ldd) | ${RES[cgi.libs]} |"
	fi
	if [ -n "${RES[growth_search.rps]:-}" ]; then
		echo "| growth database (${GROWTH_ROWS} each of purchases, numbers, offers) | ${RES[growth.size]} MB, filled in ${RES[growth.fill_s]} s |"
		for k in search purchase; do
			echo "| $k latency at ${GROWTH_ROWS} rows / empty: p50, p99 | $(calc "${RES[growth_$k.p50_us]} / ${RES[$k.p50_us]}" | xargs printf '%.2f'), $(calc "${RES[growth_$k.p99_us]} / ${RES[$k.p99_us]}" | xargs printf '%.2f') |"
		done
	fi
	if [ -n "${LAT_PROCS// /}" ] && ! skip latency; then
		echo
		echo "Provider latency: the sandbox delays customer_get, subscription_create, number_buy and invoice_pay by ${LAT_MS} ms each (a purchase waits ~$((4 * LAT_MS)) ms); wrk connections = processes, ${LAT_DURATION} s each."
		echo
		echo "| processes | purchases/s | per process | p50 ms | p99 ms | RSS/worker MiB | private/worker MiB | service CPU µs/purchase | errors / requests |"
		echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
		for p in $LAT_PROCS; do
			n=lat$p
			echo "| $p | $(calc "${RES[$n.requests]} * 1e6 / ${RES[$n.duration_us]}" | xargs printf '%.1f') | $(calc "${RES[$n.requests]} * 1e6 / ${RES[$n.duration_us]} / $p" | xargs printf '%.2f') | $(ms "${RES[$n.p50_us]}") | $(ms "${RES[$n.p99_us]}") | $(mib "${RES[$n.rss]}") | $(mib "${RES[$n.priv]}") | ${RES[$n.cpu_us]} | $((RES[$n.bad] + RES[$n.socket_errors])) / ${RES[$n.requests]} |"
		done
	fi
	echo
	echo "Targets (2 cores, same run, instant providers):"
	echo
	echo "| target | measured | |"
	echo "| --- | --- | --- |"
	echo "| health ≥ 70% of the hello ceiling | $(calc "100 * ${RES[health.rps]} / $hello_rps" | xargs printf '%.0f')% | $(mark "$(ok "${RES[health.rps]} >= 0.7 * $hello_rps")") |"
	pm=purchase
	[ -n "${RES[purchase_many.rps]:-}" ] && [ "${RES[purchase_many.p99_us]}" -lt "${RES[purchase.p99_us]}" ] && pm=purchase_many
	echo "| purchase service CPU ≤ 250 µs/request | ${RES[purchase.cpu_us]} µs (floor here $((2 * RES[commit.full_cpu] + 4 * RES[floor.call_cpu])) µs) | $(mark "$(ok "${RES[purchase.cpu_us]} <= 250")") |"
	echo "| purchase p99 < 25 ms at $CONNS connections | $(ms "${RES[$pm.p99_us]}") ms (${RES[$pm.procs]} processes, ${RES[$pm.rps]} purchases/s) | $(mark "$(ok "${RES[$pm.p99_us]} < 25000")") |"
	[ -n "${RES[fsync.purchase.per]:-}" ] &&
		echo "| ≤ 2 fsyncs per purchase (in the request; checkpoints add ${RES[fsync.purchase.ckpt_per]}) | ${RES[fsync.purchase.path_per]} | $(mark "$(ok "${RES[fsync.purchase.path_per]} <= 2")") |"
	echo "| RSS < 8 MiB per worker (VmRSS) | health $(mib "${RES[health.rss]}") MiB; provider-calling $(mib "$rss_all") MiB (private $(mib "$priv_all") MiB; libcurl alone $(mib "${RES[floor.rss1]}") MiB) | $(mark "$(ok "$rss_all < 8192")") |"
	[ -n "${RES[cgi.health]:-}" ] &&
		echo "| plain CGI request < 5 ms | ${RES[cgi.health]} ms (health), ${RES[cgi.buy]} ms (refused purchase); floor ${RES[cgi.linked]} ms, with SQLite's start ${RES[cgi.linked_db]} ms | $(mark "$(ok "${RES[cgi.health]} < 5 && ${RES[cgi.buy]} < 5")") |"
	if [ -n "${RES[growth_search.rps]:-}" ]; then
		gs=$(calc "${RES[growth_search.p50_us]} / ${RES[search.p50_us]}" | xargs printf '%.2f')
		gp=$(calc "${RES[growth_purchase.p50_us]} / ${RES[purchase.p50_us]}" | xargs printf '%.2f')
		echo "| ≤ 20% latency growth at ${GROWTH_ROWS} rows (p50) | search ×$gs, purchase ×$gp | $(mark "$(ok "$gs <= 1.2 && $gp <= 1.2")") |"
	fi
	if ! skip latency; then
		set -- $LAT_PROCS
		first=$1
		last=${!#}
		r1=$(calc "${RES[lat$first.requests]} * 1e6 / ${RES[lat$first.duration_us]} / $first")
		rl=$(calc "${RES[lat$last.requests]} * 1e6 / ${RES[lat$last.duration_us]} / $last")
		eff=$(calc "$r1 > 0 ? 100 * $rl / $r1 : 0" | xargs printf '%.0f')
		echo "| with ${LAT_MS} ms providers, purchases/s in proportion to processes up to $last (per-process rate at $last ≥ 80% of at $first) | $eff% | $(mark "$(ok "$eff >= 80")") |"
	fi
	echo
	for n in hello health search purchase purchase_many growth_search growth_purchase $(for p in $LAT_PROCS; do echo lat$p; done); do
		[ -n "${RES[$n.sample]:-}" ] && echo "- $n: first unexpected reply: \`${RES[$n.sample]}\`"
		[ -n "${RES[$n.note]:-}" ] && echo "- $n: ${RES[$n.note]}"
		[ "${RES[$n.exhausted]:-0}" -gt 0 ] && echo "- $n: ran out of offered numbers ${RES[$n.exhausted]} times"
	done
	echo "- whole run: $(($(date +%s) - t_start)) s"
} >"$R/results.md"
cp "$R/results.md" "$OUT"
cat "$OUT"
if [ -n "${BENCH_HOLD:-}" ]; then
	# For profiling by hand: the stack stays up (service at $API, its
	# workers' PIDs below, numbers offered in $R/numbers-hold).
	offer "${BENCH_HOLD_NUMBERS:-20000}" "$R/numbers-hold"
	say "holding for $BENCH_HOLD s: service $API (workers $(children "${SRV_PID[service]}")), sandbox $SANDBOX (workers $(children "${SRV_PID[sandbox]}")), hello http://127.0.0.1:$HPORT, state $R"
	sleep "$BENCH_HOLD"
fi

# --- the PHP peer, on a machine without this run's servers ---------------------------------

if ! skip peer; then
	cleanup
	PIDS=()
	peer_part
fi
