#!/bin/sh
# test-exports.sh -- the installed libpurchase exports only purchase_*
# symbols (STYLE.md "Naming": libtool -export-symbols-regex '^purchase_').
# TAP output; needs nm (binutils).

lib="${abs_top_builddir:-.}/lib/.libs/libpurchase.so"

echo "1..3"
if ! command -v nm >/dev/null 2>&1; then
	echo "ok 1 # SKIP nm not installed"
	echo "ok 2 # SKIP nm not installed"
	echo "ok 3 # SKIP nm not installed"
	exit 0
fi
if [ -f "$lib" ]; then
	echo "ok 1 - $lib built"
else
	echo "not ok 1 - $lib built"
	echo "not ok 2 - export list readable"
	echo "not ok 3 - only purchase_* exported"
	exit 1
fi

# Defined dynamic symbols; the linker's own markers are not ours.
syms=$(nm -D --defined-only "$lib" | awk 'NF >= 3 { print $3 }' |
	grep -v -E '^(_init|_fini|_edata|_end|__bss_start)$')
if [ -n "$syms" ] && echo "$syms" | grep -q '^purchase_render$'; then
	echo "ok 2 - export list readable (purchase_render among $(echo "$syms" | wc -l) symbols)"
else
	echo "not ok 2 - export list readable"
fi

bad=$(echo "$syms" | grep -v '^purchase_')
if [ -z "$bad" ]; then
	echo "ok 3 - only purchase_* exported"
else
	echo "not ok 3 - only purchase_* exported"
	echo "$bad" | sed 's/^/# unexpected: /'
	exit 1
fi
