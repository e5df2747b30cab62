#!/bin/bash
# test.sh -- sets everything up on Debian 12 and runs the whole suite:
# the build with warnings as errors, then `make check` (unit tests and the
# integration tests against real lighttpd, curl and SQLite), then the same
# suite built with AddressSanitizer and UndefinedBehaviorSanitizer
# (SANITIZE=0 skips that pass), then every fuzz target for 30 s (FUZZ=0
# skips them, FUZZ_TIME sets the seconds), then make distcheck (DISTCHECK=0
# skips it).
# Each failed test is named once, with its first failure and the first
# complaints of its servers' logs, which are kept beside its log
# (_build/*/tests/NAME.sh.logs/). Ends with one line "N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/deps.sh" --test || exit 1

passed=0
failed=0
status=0
run_suite() {	# run_suite DIR CONFIGURE-ARGS...
	local dir=$1
	shift
	echo "test.sh: building $dir ($*)" >&2
	if ! "$top/scripts/build.sh" "$dir" --enable-werror --enable-fault-injection "$@"; then
		echo "test.sh: build failed in $dir" >&2
		failed=$((failed + 1))
		status=1
		return
	fi
	make -C "$top/$dir" -s -j2 check >"$top/$dir/check.out" 2>&1
	local rc=$?
	[ $rc -eq 0 ] || status=1
	# Count TAP test points from automake's .trs files.
	local p f trs
	p=$(cat "$top/$dir"/tests/*.trs 2>/dev/null | grep -c '^:test-result: PASS')
	f=$(cat "$top/$dir"/tests/*.trs 2>/dev/null | grep -c '^:test-result: \(FAIL\|ERROR\|XPASS\)')
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
		# make check failed before any test did (a test program did not build)
		f=1
		echo "test.sh: make check failed in $dir; the end of its output:" >&2
		tail -20 "$top/$dir/check.out" | sed 's/^/test.sh:   /' >&2
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	echo "test.sh: $dir: $p passed, $f failed" >&2
	for trs in "$top/$dir"/tests/*.trs; do
		grep -q '^:test-result: \(FAIL\|ERROR\|XPASS\)' "$trs" 2>/dev/null && report_failed "$trs"
	done
}

# report_failed TRS -- one failed test, once: its name and how many of its
# points failed, the first failure and the first of its diagnostics, where
# its log is, and the first distinct complaints (not notices, not requests
# answered 2xx-4xx) of each of its servers' logs, which the harness keeps
# beside it (tests/NAME.sh.logs/) when a test fails.
report_failed() {
	local trs=$1 log=${1%.trs}.log n all f
	n=$(grep -c '^:test-result: \(FAIL\|ERROR\|XPASS\)' "$trs")
	all=$(grep -c '^:test-result:' "$trs")
	echo "test.sh: FAILED ${log#"$top/"}: $n of its $all points" >&2
	{
		grep -m1 '^\(not ok\|Bail out!\)' "$log"
		grep '^#' "$log" | grep -v '^# SKIP' | head -n 12
	} | cut -c1-240 | sed 's/^/test.sh:     /' >&2
	[ -d "${log}s" ] || return 0
	echo "test.sh:   its servers' logs: ${log#"$top/"}s/" >&2
	find "${log}s" -type f \( -name error.log -o -name responder.log -o -name startup.log \
		-o -name spawn.log \) ! -path '*/sandbox/*' -size +0 | sort | head -n 8 | while IFS= read -r f; do
		echo "test.sh:   ... ${f#"${log}s/"}:" >&2
		sed -E 's/^\[[^]]*\] //; s/\[pid [0-9]+(:tid [0-9]+)?\] //; s/\[client [^]]*\] //;
			s/^[0-9-]+ [0-9:]+: //' "$f" |
			grep -v -E ':(notice|info|debug)\]|server (started|stopped)|req=[^ ]+ [A-Z]+ [^ ]+ [2-4][0-9][0-9]( |$)' |
			awk '!seen[$0]++' | head -n 3 | cut -c1-240 | sed 's/^/test.sh:     /' >&2
	done
}

run_suite _build/test
if [ "${SANITIZE:-1}" != 0 ]; then
	# (tests/deb.sh builds the package from the sources, without
	# sanitizers: once, in the plain build, is enough)
	PURCHASE_SKIP_DEB=1 MIGRATE_NUMBERS=${MIGRATE_NUMBERS:-2000} ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		run_suite _build/asan --enable-sanitizers
fi
# Fuzzing (FUZZ=0 skips it): every libFuzzer target of tests/fuzz/, built
# with clang and ASan+UBSan in the plain build's directory, runs FUZZ_TIME
# seconds (30) on a copy of its seeds; each target is one test point. A
# crash, leak or sanitizer report fails it, and the input is printed (xxd).
if [ "${FUZZ:-1}" != 0 ]; then
	echo "test.sh: fuzzing, ${FUZZ_TIME:-30} s per target" >&2
	rm -f "$top/_build/test/tests/fuzz/results"
	make -C "$top/_build/test" -s fuzz FUZZ_TIME="${FUZZ_TIME:-30}" >"$top/_build/fuzz.log" 2>&1
	grep '^fuzz:\|^  |' "$top/_build/fuzz.log" | sed 's/^/test.sh:   /' >&2
	if [ -s "$top/_build/test/tests/fuzz/results" ]; then
		p=$(grep -c '^fuzz: PASS' "$top/_build/test/tests/fuzz/results")
		f=$(grep -c '^fuzz: FAIL' "$top/_build/test/tests/fuzz/results")
	else
		p=0
		f=1
		echo "test.sh: the fuzz targets did not build; the end of its log:" >&2
		tail -40 "$top/_build/fuzz.log" >&2
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	echo "test.sh: fuzz: $p passed, $f failed" >&2
fi
# The release tarball builds and passes its tests from a clean unpack
# (make distcheck; DISTCHECK=0 skips it).
if [ "${DISTCHECK:-1}" != 0 ]; then
	echo "test.sh: make distcheck" >&2
	if PURCHASE_SKIP_DEB=1 make -C "$top/_build/test" -s distcheck >"$top/_build/distcheck.log" 2>&1; then
		passed=$((passed + 1))
		echo "test.sh: distcheck passed" >&2
	else
		failed=$((failed + 1))
		echo "test.sh: distcheck FAILED; the end of its log:" >&2
		tail -40 "$top/_build/distcheck.log" >&2
	fi
fi
[ "$failed" -gt 0 ] && status=1
echo "$passed passed, $failed failed"
exit $status
