#!/bin/bash
# test.sh -- sets everything up on Debian 12 and runs the whole suite:
# the build with warnings as errors, then `make check` (unit tests and the
# integration tests against real lighttpd, curl and SQLite), then the same
# suite built with AddressSanitizer and UndefinedBehaviorSanitizer
# (SANITIZE=0 skips that pass), then every fuzz target for 30 s (FUZZ=0
# skips them, FUZZ_TIME sets the seconds), then make distcheck (DISTCHECK=0
# skips it).
# Ends with one line "N passed, N failed".
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
	make -C "$top/$dir" -s -j2 check >/dev/null 2>&1
	[ $? -eq 0 ] || status=1
	# Count TAP test points from automake's .trs files.
	local p f
	p=$(cat "$top/$dir"/tests/*.trs 2>/dev/null | grep -c '^:test-result: PASS')
	f=$(cat "$top/$dir"/tests/*.trs 2>/dev/null | grep -c '^:test-result: \(FAIL\|ERROR\|XPASS\)')
	passed=$((passed + p))
	failed=$((failed + f))
	echo "test.sh: $dir: $p passed, $f failed" >&2
	grep -h '^\(not ok\|Bail out\)' "$top/$dir"/tests/*.log 2>/dev/null | sed 's/^/test.sh:   /' >&2
	if [ -f "$top/$dir/test-suite.log" ] && [ "$f" -gt 0 -o $status -ne 0 ]; then
		sed -n '1,200p' "$top/$dir/test-suite.log" >&2
	fi
}

run_suite _build/test
if [ "${SANITIZE:-1}" != 0 ]; then
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
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
	if make -C "$top/_build/test" -s distcheck >"$top/_build/distcheck.log" 2>&1; then
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
