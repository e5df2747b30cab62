#!/bin/sh
# run.sh CORPORA DIR TARGET... -- runs each libFuzzer target DIR/fuzz-TARGET
# for FUZZ_TIME seconds (default 30) on a fresh copy of CORPORA/TARGET/
# (DIR/work/TARGET/corpus; the seeds in the tree are never written), one
# after the other (the machine's cores are the other tests').
#
# A target fails when libFuzzer exits non-zero (a crash, a failed property,
# a leak, a timeout, an out-of-memory) or any sanitizer report appears in
# its log. Then the end of the log and every saved input (crash-, leak-,
# timeout-, oom-) are printed, the inputs with xxd, so CI shows them; they
# stay in DIR/work/TARGET/ to be replayed: DIR/fuzz-TARGET FILE.
#
# Prints one line per target, "fuzz: PASS|FAIL TARGET: N executions in Ts
# (S seeds, U units)", and writes the same lines to DIR/results (what
# scripts/test.sh counts). Exits 1 when any target failed.
set -u
corpora=$1
dir=$2
shift 2
time=${FUZZ_TIME:-30}
status=0
: >"$dir/results"
# Leaks are reported (and fail) when each run ends; UndefinedBehaviorSanitizer
# aborts at the first report (-fno-sanitize-recover) so libFuzzer saves it.
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS UBSAN_OPTIONS
for t; do
	prog=$dir/fuzz-$t
	work=$dir/work/$t
	rm -rf "$work"
	mkdir -p "$work/corpus"
	seeds=0
	if [ -d "$corpora/$t" ]; then
		cp "$corpora/$t"/* "$work/corpus/" 2>/dev/null
		seeds=$(ls "$work/corpus" | wc -l)
	fi
	start=$(date +%s)
	"$prog" -max_total_time="$time" -print_final_stats=1 -max_len=8192 -timeout=10 \
		-rss_limit_mb=2048 -artifact_prefix="$work/" "$work/corpus" >"$work/log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
	units=$(ls "$work/corpus" | wc -l)
	result=PASS
	if [ $rc -ne 0 ] || grep -q 'ERROR: \(Address\|Leak\|Undefined\)Sanitizer\|runtime error:\|property failed' "$work/log"; then
		result=FAIL
		status=1
	fi
	line="fuzz: $result $t: ${execs:-?} executions in ${secs}s ($seeds seeds, $units units)"
	echo "$line"
	echo "$line" >>"$dir/results"
	if [ $result = FAIL ]; then
		# The report from its first line, without ASan's shadow-byte map.
		echo "fuzz: $t: libFuzzer exited $rc; from $work/log:"
		if grep -q 'ERROR: \|runtime error:\|property failed' "$work/log"; then
			sed -n '/ERROR: \|runtime error:\|property failed/,$p' "$work/log"
		else
			tail -40 "$work/log"
		fi | sed '/^Shadow bytes around/,/^==[0-9]*==ABORTING/d' | head -80 | sed 's/^/  | /'
		for f in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
			[ -f "$f" ] || continue
			echo "fuzz: $t: input $f ($(wc -c <"$f") bytes):"
			xxd "$f" | head -64 | sed 's/^/  | /'
		done
	fi
done
exit $status
