#!/bin/bash
# threads.sh -- the threaded FastCGI worker (issue 13): one process,
# PURCHASE_THREADS=4 and PURCHASE_SLOTS=2, behind the shipped lighttpd
# configuration; the sandbox holds every carrier purchase for 1.5 s. While
# two purchases wait on it in that one process: health, search and the
# number list are answered at once, and a third purchase is answered 503
# purchases_busy with Retry-After at once; then the two end 201, each
# number sold once, and a purchase after them gets its slot back. (Two,
# not more: the sandbox's lighttpd runs at most 4 processes, and a
# search must find one free.) Then the
# purchase table, the race and the idempotency suites through the same
# threaded worker (h_subrun).
: "${abs_top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
. "$abs_top_srcdir/tests/harness.sh"

H_THREADS=4 H_SLOTS=2 h_start 1 || { echo "Bail out! cannot start the stack"; exit 1; }
read -r A_ID A_KEY < <(h_account pm_card_visa)
is "$(pgrep -c -P "${H_PIDS[-1]}")" 1 "one responder process (lighttpd's one child)"

h_search "$A_KEY" "limit=10"
mapfile -t nums < <(echo "$H_BODY" | jq -r '.data[].phone_number')
is "${#nums[@]}" 10 "ten numbers offered"

h_fault number_buy delay 2 1500
t0=$(date +%s%N)
for i in 0 1; do
	curl -s -o "$H_DIR/buy$i.body" -w '%{http_code} %{time_total}\n' -X POST \
		-H "Authorization: Bearer $A_KEY" -H 'Content-Type: application/json' \
		--data-binary "{\"phone_number\":\"${nums[$i]}\"}" "$BASE/api/user/phone-numbers/purchase" \
		>"$H_DIR/buy$i.out" &
	pids[i]=$!
done
# (until the two hold their slots: claimed, so on their way to the carrier)
for _ in $(seq 100); do
	[ "$(h_sql 'select count(*) from purchases where open = 1')" -ge 2 ] && break
	sleep 0.02
done
sleep 0.1
lat() {	# lat PATH KEY -- the status and seconds of one GET
	curl -s -o /dev/null -w '%{http_code} %{time_total}' ${2:+-H "Authorization: Bearer $2"} "$BASE$1"
}
worst=0
for _ in $(seq 20); do
	read -r st t < <(lat /api/health "")
	[ "$st" = 200 ] || worst=99
	worst=$(echo "$t $worst" | awk '{print ($1 > $2) ? $1 : $2}')
done
ok "$(awk -v w="$worst" 'BEGIN{exit !(w < 0.1)}'; echo $?)" "while two purchases wait: 20 health checks, each 200 in under 100 ms (worst ${worst}s)"
read -r st t < <(lat /api/user/phone-numbers/all "$A_KEY")
ok "$([ "$st" = 200 ] && awk -v t="$t" 'BEGIN{exit !(t < 0.1)}'; echo $?)" "and the number list: $st in ${t}s"
read -r st t < <(lat "/api/user/phone-numbers/search?limit=3" "$A_KEY")
ok "$([ "$st" = 200 ] && awk -v t="$t" 'BEGIN{exit !(t < 0.2)}'; echo $?)" "and a search: $st in ${t}s"

h_buy "$A_KEY" "${nums[2]}" -w '%{http_code} %{time_total}'
read -r st t <<<"$H_STATUS"
is "$st $(echo "$H_BODY" | jq -r .code)" "503 purchases_busy" "a third purchase: 503 purchases_busy"
# At once: the service's own time for it (its log line) under 50 ms, and
# the client's, which also counts curl's start and lighttpd on a loaded
# machine (65 ms once, under ASan, with CI's other suites), far from the
# 1.5 s the two purchases wait at the carrier.
rid=$(h_header X-Request-Id)
for _ in $(seq 50); do	# (the line may follow the reply by a moment)
	ms=$(grep "req=$rid POST /api/user/phone-numbers/purchase 503 " "$H_ERRLOG" |
		sed -n 's/.* 503 \([0-9.]*\)ms.*/\1/p')
	[ -n "$ms" ] && break
	sleep 0.02
done
ok "$([ -n "$ms" ] && awk -v m="$ms" -v t="$t" 'BEGIN{exit !(m < 50 && t < 0.5)}'; echo $?)" \
	"at once: ${ms:-?} ms in the service, ${t}s at the client"
is "$(h_header Retry-After)" 1 "with Retry-After: 1"
is "$(h_sql "select count(*) from purchases where phone_number = '${nums[2]}'")" 0 "and nothing of it was recorded"
h_buy "pur_000000000000_000000000000000000000000000000000000000000000000" "${nums[2]}"
is "$H_STATUS $(echo "$H_BODY" | jq -r .code)" "503 purchases_busy" \
	"past the slots the key is not even looked up: a wrong one gets the same 503"
is "$(h_sql 'select count(*) from purchases where open = 1')" 2 "all of this while the two were waiting on the carrier"

for i in 0 1; do wait "${pids[i]}"; done
elapsed=$((($(date +%s%N) - t0) / 1000000))
is "$(cut -d' ' -f1 "$H_DIR"/buy?.out | sort | uniq -c | awk '{print $1 " " $2}')" "2 201" \
	"the two purchases: 201 each"
ok "$([ "$elapsed" -lt 3000 ]; echo $?)" "in parallel: both in ${elapsed} ms (1.5 s each at the carrier)"
is "$(h_sql "select count(distinct phone_number) from numbers where status = 'active'")" 2 "two numbers, each sold once"

h_buy "$A_KEY" "${nums[3]}"
is "$H_STATUS" 201 "the slots are free again: a purchase, 201"
is "$(grep -c 'POST /api/user/phone-numbers/purchase ' "$H_ERRLOG")" 5 "one log line per purchase request"

# The suites through the threaded worker: 2 processes of 8 threads, every
# one a purchase slot (race.sh sends 50 purchases at once: a 503 would be
# right, but not what it checks).
for s in ${H_SUBRUNS-purchase-table.sh race.sh idempotency.sh}; do
	h_subrun lighttpd "$s" H_THREADS=8 H_SLOTS=8
done

plan "$H_TESTNO"
h_done
