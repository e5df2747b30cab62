#!/bin/bash
# bundle.sh -- the shared-hosting bundle (issue 12), as its user has it:
# `make cgi-bundle` builds purchase-VERSION-cgi-ARCH.tar.gz; its binaries
# need nothing but the C library (ldd, printed); unpacked, with its own
# .htaccess, they serve the purchase table through Apache plain mod_cgi and
# mod_fcgid -- no LD_LIBRARY_PATH, nothing from the build tree -- and its
# purchasectl creates the database.
: "${abs_top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
. "$abs_top_srcdir/tests/harness.sh"

if ! h_bundle_possible; then
	echo "1..0 # SKIP configure found no static libfcgi/json-c/SQLite (or sanitizers are on)"
	exit 0
fi

h_bundle
rc=$?
ok "$([ $rc -ne 1 ]; echo $?)" "make cgi-bundle"
ok "$([ $rc -eq 0 ]; echo $?)" "it built ${BUNDLE_TARBALL##*/}"
top=$BUNDLE
for f in README.md public_html/shop/purchase.fcgi public_html/shop/.htaccess private/purchasectl \
	private/purchase.conf.example private/sql/schema.sql private/sql/prices.sql; do
	ok "$([ -s "$top/$f" ]; echo $?)" "the bundle holds $f"
done

# The C library family only: the loader, libc, libm, libdl, libpthread.
for b in public_html/shop/purchase.fcgi private/purchasectl; do
	deps=$(env -u LD_LIBRARY_PATH ldd "$top/$b")
	echo "$deps" | sed "s|^|# ldd $b: |" >&2
	others=$(echo "$deps" | grep -v -E '^\s*(linux-vdso\.so|/lib64/ld-linux|/lib/ld-linux|(libc|libm|libdl|libpthread|librt)\.so\.[0-9]+ )' || true)
	is "$others" "" "$b needs nothing but the C library"
done

# Its .htaccess, with the user's path to the configuration in place of the
# example's (step 3 of its README), as the template the harness fills in.
sed 's|"/home/USER/purchase/purchase.conf"|"@sysconfdir@/purchase.conf"|' \
	"$top/public_html/shop/.htaccess" >"$H_DIR/htaccess-bundle.in"
ok "$(grep -q '@sysconfdir@/purchase.conf' "$H_DIR/htaccess-bundle.in"; echo $?)" \
	".htaccess: SetEnv PURCHASE_CONFIG is the line to change"

for s in apache-cgi apache-htaccess-fcgid; do
	missing=$(h_server_missing "$s")
	if [ -n "$missing" ]; then
		H_TESTNO=$((H_TESTNO + 1))
		echo "ok $H_TESTNO - [$s] # SKIP not installed:$missing"
		continue
	fi
	h_subrun "$s" purchase-table.sh PURCHASE_FCGI="$top/public_html/shop/purchase.fcgi" \
		PURCHASECTL="$top/private/purchasectl" H_HTACCESS="$H_DIR/htaccess-bundle.in" \
		SANDBOX_FCGI="$SANDBOX_FCGI" LD_LIBRARY_PATH=
done

plan "$H_TESTNO"
h_done
