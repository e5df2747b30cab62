# lib.sh -- what bench/pg.sh and bench/slow.sh share: free ports, the
# peer-bench's nginx fake, a node (lighttpd with the shipped
# lighttpd-purchase.conf and this build's purchase.fcgi), wrk's figures,
# and stopping every server they started, by PID.
#
# Sourced (bash) after setting top (the checkout), build (_build/bench),
# work (the run's directory) and me (the script's name, for messages).
# Servers started go into PIDS; bench_stop (the EXIT trap's) stops them.

PIDS=()
bench_stop() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	sleep 0.5
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
}

freeport() {
	[ -x "$work/freeport" ] || cc -o "$work/freeport" "$top/tests/freeport.c"
	"$work/freeport"
}

wait_port() {
	local i
	for i in $(seq 100); do
		curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0
		sleep 0.05
	done
	echo "$me: nothing answers on port $1" >&2
	return 1
}

# wrk_line FILE -- "req/s p50-ms p99-ms non2xx errors" from wrk --latency output
wrk_line() {
	awk '
	/Requests\/sec:/ { rps = $2 }
	/^ +50%/ { p50 = $2 } /^ +99%/ { p99 = $2 }
	/Non-2xx or 3xx responses:/ { bad = $5 }
	/Socket errors:/ { err = $4 + $6 + $8 + $10; gsub(",", "", err) }
	function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
	END { printf "%.0f %.1f %.1f %d %d\n", rps, ms(p50), ms(p99), bad, err }' "$1"
}

# fake_start PEER CONF.IN -- the peer-bench's nginx fake from that
# template (one worker), on a free port: sets fport.
fake_start() {
	fport=$(freeport)
	sed -e "s|@BENCH@|$1|g" -e "s|@RUN@|$work|g" -e "s|@NAME@|fake|g" -e "s|@PORT@|$fport|g" \
		-e "s|@WORKERS@|1|g" "$2" >"$work/fake.conf"
	mkdir -p "$work/fake.rt" "$work/logs"
	nginx -e "$work/logs/fake.error.log" -p "$work/fake.rt" -c "$work/fake.conf" &
	PIDS+=($!)
	wait_port "$fport"
}

# node_start DIR CONF PROCS [SED-ARG...] -- a lighttpd in DIR serving
# this build's purchase.fcgi with configuration CONF through the shipped
# lighttpd-purchase.conf, PROCS FastCGI processes (more sed arguments
# change that file further); the responder's command is prefixed with
# $NODE_ENV (environment) and $NODE_WRAP (a wrapper). Sets NODE_PORT and
# NODE_PID (also in PIDS).
node_start() {
	local d=$1 conf=$2 procs=$3
	shift 3
	NODE_PORT=$(freeport)
	mkdir -p "$d/www" "$d/cgi-bin" "$d/run/purchase"
	cat >"$d/cgi-bin/purchase.fcgi" <<EOF
#!/bin/sh
${NODE_ENV:-} LD_LIBRARY_PATH=$build/lib/.libs exec ${NODE_WRAP:-} $build/cgi-bin/.libs/purchase.fcgi
EOF
	chmod +x "$d/cgi-bin/purchase.fcgi"
	sed -e "s|@cgibindir@|$d/cgi-bin|g" -e "s|@runstatedir@|$d/run|g" \
		-e "s|@sysconfdir@/purchase.conf|$conf|g" \
		-e "s|\"max-procs\" *=> *[0-9]*|\"max-procs\" => $procs|" \
		"$@" "$top/apache-conf/lighttpd-purchase.conf.in" >"$d/purchase.conf"
	cat >"$d/lighttpd.conf" <<EOF
server.bind = "127.0.0.1"
server.port = $NODE_PORT
server.document-root = "$d/www"
server.errorlog = "$d/error.log"
server.max-fds = 16384
server.max-connections = 8192
server.max-keep-alive-requests = 100000
include "$d/purchase.conf"
EOF
	lighttpd -D -f "$d/lighttpd.conf" &
	NODE_PID=$!
	PIDS+=($NODE_PID)
	wait_port "$NODE_PORT"
}
