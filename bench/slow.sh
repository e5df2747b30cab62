#!/bin/bash
# slow.sh -- slow providers (issue 13): every Stripe and Twilio reply delayed
# by SLOW_DELAY_MS (1000), N purchases in flight at once (SLOW_N, "64 256
# 512"), while a second client measures health and the number list. One
# command, one run, on this machine:
#
#   ./bench/slow.sh
#
# The fake providers are the shared peer-bench's nginx fakes (copied to
# _build/bench/slow-peer-bench; the team's, with real-shaped Stripe/Twilio
# replies, and the peer's), each reply held by nginx's Lua module
# (ngx.sleep, non-blocking: one nginx worker holds thousands). The product:
# this build's purchase.fcgi, threaded (SLOW_PROCS (1) processes of
# SLOW_THREADS threads, SLOW_SLOTS purchase slots each; by default enough
# slots for N and a quarter more threads for reads), under lighttpd with
# the shipped lighttpd-purchase.conf, the database seeded by
# bench/peer-team/seed.sh. wrk -cN buys distinct numbers for SLOW_DURATION
# seconds (30: a purchase takes 4 of them); meanwhile two more wrk clients (2 connections each) ask for
# /api/health and /api/user/phone-numbers/all, and the workers' memory is
# sampled (RSS and private memory of all the processes, threads). Then one
# purchase more than the slots while they are all taken: its status,
# Retry-After and time. The PHP peer (peer-bench's run-all.sh, setup
# peer-php, with PEER_CHILDREN = N php-fpm children: as many as a purchase
# in flight needs) under the same delay and N for comparison, its children's
# memory sampled the same way.
#
# Writes the table to stdout and to bench/RESULTS-slow.md. Every server is
# stopped by PID (or process group) on exit.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/_build/bench
work=$build/slow-run
peer_src=${PEER_BENCH:-$top/../shared/peer-bench}
peer=$build/slow-peer-bench
delay=${SLOW_DELAY_MS:-1000}
ns=${SLOW_N:-64 256 512}
procs=${SLOW_PROCS:-1}
duration=${SLOW_DURATION:-30}
out=${SLOW_OUT:-$top/bench/RESULTS-slow.md}

"$top/scripts/deps.sh" --test >/dev/null
for p in wrk nginx libnginx-mod-http-lua php-fpm php-sqlite3 php-curl; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="${missing:-} $p"
done
if [ -n "${missing:-}" ]; then
	echo "slow.sh: installing:$missing" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
if [ "${SLOW_BUILD:-1}" != 0 ]; then
	"$top/scripts/build.sh" _build/bench >/dev/null
fi

rm -rf "$work" "$peer"
mkdir -p "$work/logs"
cp -r "$peer_src" "$peer"
rm -rf "$peer/run" "$peer/build"
cp "$top"/bench/peer-team/* "$peer/team/"
# A purchase takes seconds here: wrk's default 2 s timeout would count the
# peer's as socket errors.
sed -i 's|wrk -t"$THREADS"|wrk --timeout 30s -t"$THREADS"|' "$peer/run-all.sh"
grep -q 'wrk --timeout 30s' "$peer/run-all.sh" || { echo "slow.sh: cannot set wrk's timeout in run-all.sh" >&2; exit 1; }

# The delay: the Lua module, before any location's `return` (rewrite phase,
# not postponed), for every request of both fakes.
lua_mods="load_module /usr/lib/nginx/modules/ndk_http_module.so;\nload_module /usr/lib/nginx/modules/ngx_http_lua_module.so;"
for f in nginx-fake.conf.in nginx-fake-team.conf.in; do
	sed -i -e "0,/^daemon off;/s||daemon off;\n$lua_mods|" \
		-e "0,/^http {/s||http {\n    rewrite_by_lua_no_postpone on;\n    rewrite_by_lua_block { ngx.sleep($delay / 1000) }|" \
		"$peer/conf/$f"
	grep -q ngx.sleep "$peer/conf/$f" || { echo "slow.sh: cannot add the delay to $f" >&2; exit 1; }
done

me=slow.sh
. "$top/bench/lib.sh"
trap bench_stop EXIT

# mem PIDS... -- "RSS-MiB private-MiB threads" of those processes together.
mem() {
	local p rss=0 priv=0 thr=0 r pc pd t
	for p in "$@"; do
		r=$(awk '/^Rss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null) || continue
		pc=$(awk '/^Private_Clean:/ {print $2}' "/proc/$p/smaps_rollup")
		pd=$(awk '/^Private_Dirty:/ {print $2}' "/proc/$p/smaps_rollup")
		t=$(awk '/^Threads:/ {print $2}' "/proc/$p/status")
		rss=$((rss + r)) priv=$((priv + pc + pd)) thr=$((thr + t))
	done
	echo "$((rss / 1024)) $((priv / 1024)) $thr"
}
# sample_mem SECONDS OUT CMD -- the largest of mem over the processes CMD
# prints (pids), sampled every 0.5 s for SECONDS.
sample_mem() {
	local end=$(($(date +%s) + $1)) best="0 0 0" m
	while [ "$(date +%s)" -lt "$end" ]; do
		m=$(mem $($3))
		[ "$(echo "$m" | cut -d' ' -f2)" -gt "$(echo "$best" | cut -d' ' -f2)" ] && best=$m
		sleep 0.5
	done
	echo "$best" >"$2"
}
# --- the product -----------------------------------------------------------

fake_start "$peer" "$peer/conf/nginx-fake-team.conf.in"
t=$(curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:$fport/v1/customers/cus_x")
echo "slow.sh: the fake provider answers in ${t}s (delay $delay ms)" >&2

results=()
for n in $ns; do
	# Slots for N (with several processes, a quarter more: lighttpd
	# spreads the connections over them unevenly), an eighth more threads
	# and 8 for the reads.
	slots=${SLOW_SLOTS:-$(((n + procs - 1) / procs * (procs > 1 ? 5 : 4) / 4))}
	threads=${SLOW_THREADS:-$((slots + slots / 8 + 8))}
	db=$work/product-$n.db
	TEAM_SEED_PER_PREFIX=$((n * duration)) PURCHASE_BUILD=$build PURCHASE_PRICES=$top/sql/prices.sql \
		sh "$top/bench/peer-team/seed.sh" "$db" >"$work/logs/seed-$n.out"
	cat >"$work/product-$n.conf" <<EOF
database = $db
stripe_api_base = http://127.0.0.1:$fport
stripe_secret_key = sk_test_bench_fake
twilio_api_base = http://127.0.0.1:$fport
twilio_account_sid = AC00000000000000000000000000be0001
twilio_auth_token = bench_fake_token
purchase_rate_per_minute = 0
search_rate_per_minute = 0
provider_timeout_ms = $((delay * 3 + 2000))
EOF
	NODE_ENV=${SLOW_ENV:-} NODE_WRAP=${SLOW_WRAP:-} node_start "$work/product-$n" "$work/product-$n.conf" "$procs" \
		-e "s|\"PURCHASE_THREADS\" *=> *\"[0-9]*\"|\"PURCHASE_THREADS\" => \"$threads\", \"PURCHASE_SLOTS\" => \"$slots\"|"
	grep -q "\"PURCHASE_SLOTS\" => \"$slots\"" "$work/product-$n/purchase.conf" ||
		{ echo "slow.sh: the shipped lighttpd configuration sets no PURCHASE_THREADS" >&2; exit 1; }
	lpid=$NODE_PID port=$NODE_PORT
	key=$(cat "$db.key")
	base=http://127.0.0.1:$port
	workers() { pgrep -P "$lpid" | tr '\n' ' '; }

	echo "slow.sh: N=$n: $procs processes x $threads threads, $slots purchase slots each" >&2
	BENCH_KEY=$key wrk -t2 -c"$n" -d"${duration}s" --timeout 30s --latency \
		-s "$peer/lua/purchase-team.lua" "$base/api/user/phone-numbers/purchase" -- 0 \
		>"$work/logs/wrk-$n.out" 2>&1 &
	wpid=$!
	sleep 2
	wrk -t1 -c2 -d"$((duration - 4))s" --latency "$base/api/health" >"$work/logs/health-$n.out" 2>&1 &
	hpid=$!
	wrk -t1 -c2 -d"$((duration - 4))s" --latency -H "Authorization: Bearer $key" \
		"$base/api/user/phone-numbers/all${SLOW_LIST_QUERY-?per_page=25}" >"$work/logs/list-$n.out" 2>&1 &
	lspid=$!
	sample_mem "$((duration - 4))" "$work/logs/mem-$n.out" workers &
	mpid=$!
	# One look inside, half way: where the memory is (bench/slow.sh's
	# SLOW_SMAPS=1).
	if [ "${SLOW_SMAPS:-0}" != 0 ]; then
		(sleep $((duration / 2)); for p in $(workers); do cat "/proc/$p/smaps"; done >"$work/logs/smaps-$n.out") &
	fi
	wait "$wpid" "$hpid" "$lspid" "$mpid"
	# Past the limit: more purchases at once than all the slots (wrk,
	# offset past the numbers bought above) while 10 more purchases, one
	# every 0.2 s, are timed: first from clients that wait as Retry-After
	# asks (purchase-retry.lua), then from clients that ask again at once
	# (a storm of 503s: the machine busy answering them).
	over_n=$((slots * procs + 64))
	over_phase() { # NAME SCRIPT OFFSET PROBE-DIGITS
		# (the purchases the last wrk left in flight end first)
		sleep $((delay * 4 / 1000 + 1))
		BENCH_KEY=$key wrk -t2 -c"$over_n" -d6s --timeout 30s --latency \
			-s "$2" "$base/api/user/phone-numbers/purchase" -- "$3" \
			>"$work/logs/wrk-$1-$n.out" 2>&1 &
		local w=$! i
		sleep 2
		for i in $(seq 10); do
			curl -s -o "$work/logs/$1-$n-$i.body" -D "$work/logs/$1-$n-$i.head" -w '%{http_code} %{time_total}\n' \
				-X POST -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
				--data-binary "{\"phone_number\":\"+14153249$4$((i - 1))\"}" \
				"$base/api/user/phone-numbers/purchase"
			sleep 0.2
		done >"$work/logs/$1-$n.probes"
		wait "$w"
		# "9 x 503 (9 with Retry-After) in median M ms, max X ms, 1 x 201
		# (a slot had come free); K non-2xx, E sock err" (of the clients)
		local ra bad err
		ra=$(cat "$work/logs/$1-$n-"*.head | tr -d '\r' | grep -ci '^retry-after: [0-9]' || true)
		read -r _ _ _ bad err < <(wrk_line "$work/logs/wrk-$1-$n.out")
		sort -k2 -n "$work/logs/$1-$n.probes" | awk -v ra="$ra" -v bad="$bad" -v err="$err" '
			$1 == 503 { t[++k] = $2 * 1000; next }
			{ other[$1]++ }
			END { for (c in other) s = s ", " other[c] " x " c " (a slot had come free)"
			      printf "%d x 503 (%d with Retry-After) in median %.1f ms, max %.1f ms%s; %d non-2xx, %d sock err",
			          k, ra, k ? (t[int((k + 1) / 2)] + t[int(k / 2) + 1]) / 2 : 0, t[k], s, bad, err }'
	}
	over_wait=$(over_phase retry "$top/bench/purchase-retry.lua" $((n * duration / 2)) 96)
	over_storm=$(over_phase storm "$peer/lua/purchase-team.lua" $((n * duration * 3 / 4)) 97)
	read -r rps p50 p99 bad err < <(wrk_line "$work/logs/wrk-$n.out")
	read -r _ hp50 hp99 hbad herr < <(wrk_line "$work/logs/health-$n.out")
	read -r _ lp50 lp99 lbad lerr < <(wrk_line "$work/logs/list-$n.out")
	read -r rss priv thr <"$work/logs/mem-$n.out"
	ideal=$(awk -v n="$n" -v p="$p50" 'BEGIN { printf "%.0f", n / (p / 1000) }')
	results+=("| product | $n | $procs x $threads ($slots slots) | $rps | $ideal | $(awk -v a="$rps" -v b="$ideal" 'BEGIN{printf "%.2f", a/b}') | $p50 | $p99 | $hp50 / $hp99 | $lp50 / $lp99 | $rss | $priv | $thr | $bad / $err | $over_n clients waiting as asked: $over_wait | $over_n clients asking again at once: $over_storm |")
	echo "slow.sh:   ${results[-1]}" >&2
	kill "$lpid"
	wait "$lpid" 2>/dev/null || true
done

# --- the PHP peer, same fake delay -----------------------------------------

fpm_children() { pgrep -f 'php-fpm: pool' | tr '\n' ' '; }

for n in $([ "${SLOW_PEER:-1}" != 0 ] && echo "$ns"); do
	(cd "$peer" && PEER_CHILDREN=$n ROUNDS=1 THREADS=2 CONNS=$n DURATION=$duration WARMUP=1 \
		PORT_BASE=$((19300 + n % 97)) ./run-all.sh peer-php) >"$work/logs/peer-$n.out" 2>&1 &
	rpid=$!
	sleep $((duration / 2 + 3))
	sample_mem 3 "$work/logs/peer-mem-$n.out" fpm_children
	wait "$rpid" || true
	line=$(awk -F'\t' '$2 == "peer-php"' "$peer"/run/results-*.tsv 2>/dev/null | tail -1 || true)
	rps=$(echo "$line" | awk -F'\t' '{print $3}')
	p50=$(echo "$line" | awk -F'\t' '{print $4}')
	p99=$(echo "$line" | awk -F'\t' '{print $5}')
	rm -f "$peer"/run/results-*.tsv
	read -r rss priv thr <"$work/logs/peer-mem-$n.out"
	results+=("| peer-php | $n | $n php-fpm children | ${rps:--} | | | ${p50:--} | ${p99:--} | | | $rss | $priv | $thr | | | |")
	echo "slow.sh:   ${results[-1]}" >&2
done

{
	echo "# Slow providers: every provider reply delayed $delay ms"
	echo
	echo "Generated by \`bench/slow.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC') ($(nproc) cores; load at the end: $(cut -d' ' -f1-3 /proc/loadavg)). Command: \`SLOW_N='$ns' SLOW_PROCS=$procs SLOW_DURATION=$duration ./bench/slow.sh\`."
	echo
	echo "| setup | N in flight | processes x threads | purchases/s | N / p50 latency | ratio | p50 ms | p99 ms | health p50 / p99 ms | list p50 / p99 ms | RSS MiB | private MiB | threads | non-2xx / sock err | past the slots: 10 purchases timed, clients honouring Retry-After | the same, clients retrying at once |"
	echo "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"
	printf '%s\n' "${results[@]}"
	echo
	echo "Memory: the largest sample (every 0.5 s while the load ran) of the workers' RSS and private memory (Private_Clean + Private_Dirty of /proc/PID/smaps_rollup), all processes together; the peer's: its php-fpm children. The ratio is purchases/s over N / (median purchase latency): 1.00 when every slot is busy all the time."
} | tee "$out"
