#!/bin/bash
# man.sh -- the man pages (built from docs/*.in with the configured paths)
# render without a single warning from man/groff, and are filled in.
: "${abs_top_builddir:=$(pwd)}"
pages="docs/purchase.fcgi.8 docs/purchasectl.8 docs/purchase.conf.5"
if ! command -v man >/dev/null; then
	echo "1..0 # SKIP man is not installed"
	exit 0
fi
echo "1..6"
n=0
for p in $pages; do
	f=$abs_top_builddir/$p
	# Line-filling warnings depend on how long the configured paths are
	# (make distcheck installs under a deep temporary prefix), not on the
	# markup: they are not counted.
	out=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l "$f" 2>&1 >/dev/null |
		grep -v "cannot adjust line\|can't break line")
	n=$((n + 1))
	if [ -f "$f" ] && [ -z "$out" ]; then echo "ok $n - $p renders without warnings"; else
		echo "not ok $n - $p renders without warnings"; printf '%s\n' "$out" | sed 's/^/#   /'; fi
	n=$((n + 1))
	if [ -f "$f" ] && ! grep -q '@[a-zA-Z_]*@' "$f"; then echo "ok $n - $p is filled in"; else
		echo "not ok $n - $p is filled in"; fi
done
