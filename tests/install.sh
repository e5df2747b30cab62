#!/bin/bash
# install.sh -- make install into a DESTDIR puts everything where it belongs
# (binary in a cgi-bin directory, purchasectl in sbin, library, header and
# libpurchase.pc, schema and prices in pkgdatadir, examples, man pages), the
# installed library links, and Apache + mod_fcgid started from the INSTALLED
# configuration (purchase-fcgid.conf, filled in only for the DESTDIR paths
# and the port), serving the INSTALLED binary, with a database made by the
# INSTALLED purchasectl from the INSTALLED price list, sells a number to
# curl, and the process that sold it is the installed binary on the
# installed library (run as root, Apache's user need not be able to read the
# build tree, and does not). The sandbox runs from the build tree.
: "${abs_top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
. "$abs_top_srcdir/tests/harness.sh"

missing=$(h_server_missing apache-fcgid)
if [ -n "$missing" ]; then
	echo "1..0 # SKIP not installed:$missing"
	exit 0
fi

dest=$H_DIR/destdir
# A make started by make check must not share its parent's job server.
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL "${MAKE:-make}" -s -C "$abs_top_builddir" install \
	DESTDIR="$dest" >"$H_DIR/install.log" 2>&1
rc=$?
ok $rc "make install DESTDIR=..."
[ $rc -eq 0 ] || { sed 's/^/#   /' "$H_DIR/install.log" >&2; echo "Bail out! make install failed"; exit 1; }

found() { find "$dest" "$@" | head -1; }
fcgi=$(found -name purchase.fcgi -type f)
ctl=$(found -name purchasectl -type f)
lib=$(found -name 'libpurchase.so' )
pc=$(found -name libpurchase.pc)
hdr=$(found -name purchase.h)
prices=$(found -name prices.sql)
examples=$(found -type d -name examples)
ok "$(case $fcgi in */cgi-bin/purchase.fcgi) [ -x "$fcgi" ];; *) false;; esac; echo $?)" \
	"purchase.fcgi in a cgi-bin directory (${fcgi#$dest})"
ok "$(case $ctl in */sbin/purchasectl) [ -x "$ctl" ];; *) false;; esac; echo $?)" "purchasectl in sbin"
ok "$([ -n "$lib" ] && [ -n "$hdr" ] && [ "$(dirname "$pc")" = "$(dirname "$lib")/pkgconfig" ]; echo $?)" \
	"libpurchase.so, purchase.h and libpurchase.pc"
pkgdata=$(dirname "$prices")
ok "$([ -f "$pkgdata/schema.sql" ] && [ -f "$pkgdata/openapi.yaml" ]; echo $?)" \
	"schema.sql, prices.sql and openapi.yaml in pkgdatadir"
want="htaccess-cgi lighttpd-purchase.conf nginx-purchase.conf purchase-fcgid.conf purchase-proxy-fcgi.conf purchase-recover.service purchase-recover.timer purchase-spawn-fcgi purchase.conf.example purchase.socket purchase@.service"
is "$(ls "$examples" 2>/dev/null | tr '\n' ' ' | sed 's/ $//')" "$want" "the examples in $(echo "${examples#$dest}")"
ok "$(! grep -l '@[a-z_]*@' "$examples"/* >/dev/null; echo $?)" "the examples are filled in"
man=$(found -type d -name man)
ok "$([ -f "$man/man5/purchase.conf.5" ] && [ -f "$man/man8/purchase.fcgi.8" ] && [ -f "$man/man8/purchasectl.8" ]; echo $?)" \
	"man pages in man5 and man8"
ok "$(grep -q "^Version: " "$pc" && grep -q '^Libs: .*-lpurchase' "$pc"; echo $?)" "libpurchase.pc"

# A program built against the installed header and library.
cat >"$H_DIR/use.c" <<'EOF2'
#include <stdio.h>
#include <purchase.h>
int main(void) { puts(purchase_strerror(PURCHASE_OK)); return 0; }
EOF2
libdir=$(dirname "$lib")
export LD_LIBRARY_PATH=$libdir
# A sanitizer build's library needs its runtime in the program too.
san=$(sed -n 's/^SAN_LDFLAGS = //p' "$abs_top_builddir/Makefile")
cc $san -I"$(dirname "$hdr")" -o "$H_DIR/use" "$H_DIR/use.c" -L"$libdir" -lpurchase 2>&1 | sed 's/^/#   /' >&2
ok "$("$H_DIR/use" >/dev/null; echo $?)" "a program links against the installed library"

# The stack, from the installed files.
h_sandbox || { echo "Bail out! no sandbox"; exit 1; }
h_config
PURCHASECTL=$ctl
"$ctl" init
ok $? "installed purchasectl init"
"$ctl" prices load "$prices"
ok $? "installed purchasectl prices load (the installed prices.sql)"

port=$(h_freeport)
BASE=http://127.0.0.1:$port
dir=$H_DIR/apache
mkdir -p "$dir"
conf_installed=$(sed -n 's/^FcgidInitialEnv PURCHASE_CONFIG "\(.*\)"/\1/p' "$examples/purchase-fcgid.conf")
cgibindir=$(dirname "$fcgi")
sed -e "s|\"${cgibindir#$dest}|\"$cgibindir|g" -e "s|\"$conf_installed\"|\"$PURCHASE_CONFIG\"|" \
	"$examples/purchase-fcgid.conf" >"$dir/purchase-fcgid.conf"
H_FCGI_LIBPATH=$libdir
h_apache "$dir" "$port" "$dir/purchase-fcgid.conf" fcgid
ok $? "Apache + mod_fcgid started from the installed purchase-fcgid.conf"

h_req GET /api/health ""
is "$H_STATUS" 200 "health"
read -r A_ID A_KEY < <(h_account pm_card_visa)
h_search "$A_KEY" "limit=1"
is "$H_STATUS" 200 "search"
n=$(echo "$H_BODY" | jq -r '.data[0].phone_number')
h_buy "$A_KEY" "$n"
is "$H_STATUS $(echo "$H_BODY" | jq -r .data.phone_number)" "201 $n" "a number bought through the installed service"
is "$(h_ledger | jq --arg n "$n" '[.numbers[] | select(.phone_number == $n and .status == "owned")] | length')" 1 \
	"the sandbox shows it owned"
grep -q "^purchase\[[0-9]*\]: req=[^ ]* POST /api/user/phone-numbers/purchase 201" "$H_ERRLOG"
ok $? "the purchase is in Apache's error log"

# What served it is the installed binary on the installed library, read by
# Apache's user (www-data when root) from the DESTDIR: not the build tree's,
# which that user may not be able to read (a clone in a private home).
libs=""
for p in $(pgrep -x purchase.fcgi); do
	[ "$(readlink "/proc/$p/exe")" = "$fcgi" ] || continue
	libs="$libs $(awk '$6 ~ /libpurchase\.so/ { print $6 }' "/proc/$p/maps" | sort -u)"
done
libs=$(echo $libs | tr ' ' '\n' | sort -u)
ok "$([ -n "$libs" ] && ! echo "$libs" | grep -qv "^$libdir/"; echo $?)" \
	"the responder is the installed binary on the installed library (${libs#$dest})"

plan "$H_TESTNO"
h_done
