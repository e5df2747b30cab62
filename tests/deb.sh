#!/bin/bash
# deb.sh -- the Debian package as an admin meets it (issue 12): built with
# dpkg-buildpackage from a copy of the source tree, checked by lintian (no
# error, no warning that debian/ does not justify), installed with dpkg into
# a fresh Debian 12 root (debootstrap minbase with Apache from Debian's
# packages, cached; a copy of it each run), configured as the README says
# (the provider keys in /etc/purchase/purchase.conf, a2enmod proxy_fcgi,
# a2enconf purchase, an account and a key with purchasectl), and a number
# bought over curl through that root's Apache on 127.0.0.1. Then upgraded to
# the same tree rebuilt with one more migration (the data, the admin's
# configuration and its permissions kept; the schema migrated by postinst),
# a second number bought, and purged (nothing left but the system user,
# which policy keeps).
#
# systemd does not run in a chroot: the responders are started the way
# purchase.socket would start them, by the package's own
# examples/purchase-spawn-fcgi (the listening socket as their standard
# input, as the user purchase), and the units are checked with
# systemd-analyze verify.
#
# Needs root (chroot, dpkg), dpkg-buildpackage, debhelper, dh_apache2
# (apache2-dev), lintian and debootstrap; skipped without them, when the
# mirror cannot be reached, or with PURCHASE_SKIP_DEB set (scripts/test.sh
# runs it once, in the plain build). About 90 s with the root cached
# (two package builds, lintian); building the root takes about 60 s more.
: "${abs_top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
. "$abs_top_srcdir/tests/harness.sh"

skip() { echo "1..0 # SKIP $*"; exit 0; }
[ -z "${PURCHASE_SKIP_DEB:-}" ] || skip "PURCHASE_SKIP_DEB is set"
[ "$(id -u)" -eq 0 ] || skip "not root (chroot, dpkg)"
for t in dpkg-buildpackage dh dh_apache2 lintian debootstrap; do
	command -v $t >/dev/null || skip "$t is not installed"
done
[ -f "$abs_top_srcdir/debian/control" ] || skip "no debian/ in the source tree"

version=$(dpkg-parsechangelog -l "$abs_top_srcdir/debian/changelog" -S Version)
upstream=${version%-*}
arch=$(dpkg --print-architecture)

# src DIR -- a copy of the source tree (without builds or VCS) in DIR.
src() {
	mkdir -p "$1" && tar -C "$abs_top_srcdir" --exclude=./_build --exclude=./.git \
		--exclude=./run --exclude=./debian/build --exclude=./autom4te.cache -cf - . |
		tar -C "$1" -xf -
}
# build DIR -- dpkg-buildpackage -us -uc -b in DIR (unit tests off: the
# suite that runs this test has run them); its log is DIR.build.log.
build() {
	(cd "$1" && DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -us -uc -b) \
		>"$1.build.log" 2>&1
}

# --- build, lintian ---------------------------------------------------------

src "$H_DIR/v1/purchase-$upstream"
build "$H_DIR/v1/purchase-$upstream"
ok $? "dpkg-buildpackage -us -uc -b builds (log: v1/purchase-$upstream.build.log)"
deb1=$H_DIR/v1/purchase_${version}_$arch.deb
[ -f "$deb1" ] || { echo "Bail out! no $deb1"; tail -20 "$H_DIR/v1/purchase-$upstream.build.log" >&2; exit 1; }
diag "$(dpkg-deb -f "$deb1" Package Version Depends | tr '\n' ' ')"

lintian --fail-on error,warning -I --pedantic "$H_DIR/v1/purchase_${version}_$arch.changes" \
	>"$H_DIR/lintian.log" 2>&1
ok $? "lintian -I --pedantic: no error, no warning ($(grep -c "^[IP]:" "$H_DIR/lintian.log") informational or pedantic tags, below)"
sed 's/^/#   /' "$H_DIR/lintian.log" | grep -v 'root privileges' >&2

is "$(dpkg-deb -c "$deb1" | awk '{print $6}' | grep -c -E '/usr/include/|\.so(\.[0-9]+)*$|\.a$|/pkgconfig/')" 0 \
	"the library is private: no header, shared object, archive or .pc shipped"

# The same tree with one more migration (a table, an index), packaged as the
# next Debian revision.
v2=$H_DIR/v2/purchase-$upstream
src "$v2"
schema=$(sed -n 's/^#define PUR_SCHEMA_VERSION \([0-9]*\)$/\1/p' "$v2/lib/store.h")
probe=sql/$(printf '%03d' $((schema + 1)))-deb-upgrade-probe.sql
cat >"$v2/$probe" <<'EOF'
-- tests/deb.sh: the migration the upgraded package brings.
CREATE TABLE upgrade_probe (id INTEGER PRIMARY KEY, note TEXT NOT NULL);
INSERT INTO upgrade_probe (note) VALUES ('migrated');
EOF
sed -i "s|^\(PUR_MIGRATIONS = .*\)\$|\1 $probe|" "$v2/lib/local.mk"
sed -i "s|^\(dist_pkgdata_DATA += .*\)\$|\1 $probe|" "$v2/sql/local.mk"
sed -i "s/^#define PUR_SCHEMA_VERSION $schema\$/#define PUR_SCHEMA_VERSION $((schema + 1))/" "$v2/lib/store.h"
version2=${version%-*}-$((${version##*-} + 1))
{
	printf 'purchase (%s) unstable; urgency=medium\n\n  * tests/deb.sh: one more migration.\n\n' "$version2"
	printf ' -- Purchase Developers <purchase@example.org>  %s\n\n' "$(date -R)"
	cat "$abs_top_srcdir/debian/changelog"
} >"$v2/debian/changelog"
grep -q "$probe" "$v2/lib/local.mk" && grep -q "$probe" "$v2/sql/local.mk" &&
	grep -q "PUR_SCHEMA_VERSION $((schema + 1))" "$v2/lib/store.h"
ok $? "the upgrade's tree: migration $((schema + 1)) added (lib/local.mk, sql/local.mk, lib/store.h)"
build "$v2"
ok $? "the upgrade builds: $version2"
deb2=$H_DIR/v2/purchase_${version2}_$arch.deb

# --- a fresh root, the package installed -----------------------------------

base=$(h_debroot apache-bookworm apache2,adduser,libfcgi0ldbl,libjson-c5,libsqlite3-0,libcurl4,spawn-fcgi) ||
	skip "debootstrap failed (no mirror?): $(tail -1 "$H_DIR"/debootstrap-*.log)"
R=$H_DIR/root
cp -a "$base" "$R" || { echo "Bail out! cannot copy the root"; exit 1; }
# As in any chroot: maintainer scripts do not start services here.
printf '#!/bin/sh\nexit 101\n' >"$R/usr/sbin/policy-rc.d" && chmod +x "$R/usr/sbin/policy-rc.d"
in_root() { env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 chroot "$R" "$@"; }

cp "$deb1" "$deb2" "$R/tmp/"
in_root dpkg -i "/tmp/${deb1##*/}" >"$H_DIR/dpkg-install.log" 2>&1
ok $? "dpkg -i into a fresh Debian 12 root with Apache"
in_root dpkg -s purchase 2>/dev/null | grep -q '^Status: install ok installed'
ok $? "installed: ok installed"

uid=$(in_root id -u purchase 2>/dev/null)
ok "$([ -n "$uid" ] && [ "$uid" -lt 1000 ]; echo $?)" "a system user purchase (uid $uid)"
is "$(in_root stat -c '%a %U:%G' /etc/purchase/purchase.conf)" "640 root:purchase" \
	"/etc/purchase/purchase.conf: 0640 root:purchase (dpkg-statoverride)"
in_root dpkg-query -W -f='${Conffiles}\n' purchase | grep -q ' /etc/purchase/purchase.conf '
ok $? "it is a conffile"
is "$(in_root stat -c '%a %U:%G' /var/lib/purchase /var/lib/purchase/purchase.db | tr '\n' ' ')" \
	"750 purchase:purchase 644 purchase:purchase " "/var/lib/purchase and the database: the user's"
is "$(sqlite3 "$R/var/lib/purchase/purchase.db" 'PRAGMA user_version')" "$schema" \
	"postinst ran purchasectl init: schema version $schema"
ok "$([ "$(sqlite3 "$R/var/lib/purchase/purchase.db" 'select count(*) from prices')" -gt 0 ]; echo $?)" \
	"and loaded the price list"
for l in sockets.target.wants/purchase.socket timers.target.wants/purchase-recover.timer; do
	[ -L "$R/etc/systemd/system/$l" ]
	ok $? "enabled: $l"
done
if command -v systemd-analyze >/dev/null; then
	(cd "$R/lib/systemd/system" && systemd-analyze verify --man=no purchase.socket purchase@1.service \
		purchase-recover.service purchase-recover.timer) >"$H_DIR/verify.log" 2>&1
	# (it may not find the binaries, which are in the root, not on the host)
	if grep -v -E 'is not executable|No such file|Command .* is not|ExecStart= path' "$H_DIR/verify.log" |
		grep -q .; then
		ok 1 "systemd-analyze verify: $(head -3 "$H_DIR/verify.log" | tr '\n' ' ')"
	else
		ok 0 "systemd-analyze verify: the four units"
	fi
else
	h_skip 1 "no systemd-analyze"
fi
in_root man -w purchasectl >/dev/null 2>&1 || [ -f "$R/usr/share/man/man8/purchasectl.8.gz" ]
ok $? "man pages: purchasectl(8)"

# --- configured as the admin does ----------------------------------------

h_sandbox || { echo "Bail out! cannot start the sandbox"; exit 1; }
sed -i -e "s|^stripe_secret_key = .*|stripe_secret_key = sk_test_sandbox|" \
	-e "s|^twilio_auth_token = .*|twilio_auth_token = sandbox_token|" "$R/etc/purchase/purchase.conf"
cat >>"$R/etc/purchase/purchase.conf" <<EOF
# tests/deb.sh: the sandbox stands in for Stripe and Twilio
stripe_api_base = $SANDBOX
twilio_api_base = $SANDBOX
purchase_rate_per_minute = 0
search_rate_per_minute = 0
EOF
port=$(h_freeport)
BASE=http://127.0.0.1:$port
echo "Listen 127.0.0.1:$port" >"$R/etc/apache2/ports.conf"
[ ! -e "$R/etc/apache2/conf-enabled/purchase.conf" ]
ok $? "the Apache configuration is installed, not enabled before the admin enables it"
in_root a2enmod -q proxy_fcgi >"$H_DIR/a2en.log" 2>&1 && in_root a2enconf -q purchase >>"$H_DIR/a2en.log" 2>&1
ok $? "a2enmod proxy_fcgi && a2enconf purchase"
in_root apache2ctl configtest >"$H_DIR/configtest.log" 2>&1
ok $? "apache2ctl configtest: $(tail -1 "$H_DIR/configtest.log")"

# start_responders -- what purchase.socket does: the listening socket, the
# responders on it as purchase (the shipped spawn-fcgi wrapper).
start_responders() {
	local p
	mkdir -p "$R/var/log/purchase" && chown "$uid" "$R/var/log/purchase"
	in_root env PURCHASE_CHILDREN=2 /usr/share/purchase/examples/purchase-spawn-fcgi \
		>>"$H_DIR/spawn.log" 2>&1 || return 1
	for p in $(cat "$R/run/purchase/purchase.pid"); do H_PIDS+=("$p"); done
}
stop_responders() {
	local p
	for p in $(cat "$R/run/purchase/purchase.pid" 2>/dev/null); do kill "$p" 2>/dev/null; done
	for p in $(cat "$R/run/purchase/purchase.pid" 2>/dev/null); do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	done
}
start_apache() {
	in_root apache2ctl start >"$H_DIR/apache-start.log" 2>&1 || return 1
	for _ in $(seq 50); do [ -s "$R/run/apache2/apache2.pid" ] && break; sleep 0.1; done
	H_PIDS+=("$(cat "$R/run/apache2/apache2.pid")")
	h_wait_http "$port" "$R/var/log/apache2/error.log"
}
stop_apache() {
	local p
	p=$(cat "$R/run/apache2/apache2.pid" 2>/dev/null) || return 0
	kill "$p" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
}
# Apache's and the responders' logs beside ours, for h_keep_logs.
trap 'mkdir -p "$H_DIR/apache"; cp "$R"/var/log/apache2/error.log "$H_DIR/apache/" 2>/dev/null;
	cp "$R"/var/log/purchase/purchase.log "$H_DIR/apache/responder.log" 2>/dev/null; h_cleanup' EXIT

start_responders
ok $? "the responders on /run/purchase/purchase.sock as purchase"
is "$(in_root stat -c '%a %U:%G' /run/purchase/purchase.sock 2>/dev/null)" "660 purchase:www-data" \
	"the socket: 0660, group www-data (Apache's user connects)"
start_apache
ok $? "Apache started in the root on 127.0.0.1:$port"

h_req GET /api/health ""
is "$H_STATUS" 200 "health through Apache: 200"

# buy -- an account and key made with purchasectl (as root, as the README
# shows: SQLite gives the files it creates to the database's owner), a
# search, a purchase through Apache; sets NUM.
buy() {
	local cus id key
	cus=$(h_customer pm_card_visa) &&
		id=$(in_root purchasectl account create --name "deb $1" --stripe-customer "$cus") &&
		key=$(in_root purchasectl key create --account "$id")
	ok $? "[$1] purchasectl account create, key create (as root)"
	h_search "$key" "country_code=US&limit=5"
	is "$H_STATUS" 200 "[$1] search through Apache: 200"
	NUM=$(echo "$H_BODY" | jq -r '.data[0].phone_number')
	h_buy "$key" "$NUM"
	is "$H_STATUS $(echo "$H_BODY" | jq -r .data.phone_number)" "201 $NUM" "[$1] purchase through Apache: 201"
	is "$(h_ledger | jq -r --arg n "$NUM" '[.numbers[] | select(.phone_number == $n)][-1].status')" owned \
		"[$1] the number is held at the carrier"
}
buy install
first=$NUM
# (a root-owned -wal or -shm file would lock the service out)
is "$(in_root find /var/lib/purchase ! -user purchase | wc -l)" 0 "every file of /var/lib/purchase is the user's"

# --- upgrade -----------------------------------------------------------------

in_root dpkg -i "/tmp/${deb2##*/}" >"$H_DIR/dpkg-upgrade.log" 2>&1
ok $? "upgrade: dpkg -i $version2"
is "$(sqlite3 "$R/var/lib/purchase/purchase.db" 'PRAGMA user_version')" "$((schema + 1))" \
	"postinst migrated the database to version $((schema + 1))"
is "$(sqlite3 "$R/var/lib/purchase/purchase.db" 'select note from upgrade_probe')" migrated \
	"the migration ran once"
is "$(sqlite3 "$R/var/lib/purchase/purchase.db" "select status from numbers where phone_number = '$first'")" \
	active "the data is kept: the first number is still active"
grep -q "^stripe_api_base = $SANDBOX" "$R/etc/purchase/purchase.conf"
ok $? "the admin's configuration is kept"
is "$(in_root stat -c '%a %U:%G' /etc/purchase/purchase.conf)" "640 root:purchase" "and its permissions"
stop_responders
start_responders
ok $? "the responders restarted on the new binary (as the socket's restart does)"
buy upgrade

# --- purge ---------------------------------------------------------------------

stop_apache
stop_responders
in_root dpkg --purge purchase >"$H_DIR/dpkg-purge.log" 2>&1
ok $? "dpkg --purge purchase"
left=$(cd "$R" && ls -d etc/purchase var/lib/purchase run/purchase usr/libexec/purchase usr/share/purchase \
	usr/share/doc/purchase usr/sbin/purchasectl etc/apache2/conf-available/purchase.conf \
	etc/apache2/conf-enabled/purchase.conf lib/systemd/system/purchase* \
	etc/systemd/system/*/purchase* 2>/dev/null | tr '\n' ' ')
is "$left" "" "nothing of the package is left"
is "$(in_root dpkg-statoverride --list | grep -c purchase)" 0 "no statoverride left"
in_root id -u purchase >/dev/null 2>&1
ok $? "the system user stays (policy: files it owns may remain elsewhere)"
in_root apache2ctl configtest >/dev/null 2>&1
ok $? "Apache's configuration still valid after the purge"

plan "$H_TESTNO"
h_done
