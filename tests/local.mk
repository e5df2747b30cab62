# tests/ -- make check through automake's TAP driver.
LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh

# Unit tests: one program per library module, linked against the
# convenience library so they reach the internal pur_* functions.
UNIT_TESTS = \
	tests/test-e164 \
	tests/test-json \
	tests/test-form \
	tests/test-config \
	tests/test-sha256 \
	tests/test-auth \
	tests/test-stripe \
	tests/test-twilio \
	tests/test-status \
	tests/test-http \
	tests/test-flow \
	tests/test-reconcile \
	tests/test-router \
	tests/test-store
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS) tests/test-exports.sh
EXTRA_DIST += tests/test-exports.sh \
	tests/data/e164-valid.txt tests/data/e164-invalid.txt

# Data-driven tests find their tables under $srcdir; the export check finds
# the built library under $abs_top_builddir.
AM_TESTS_ENVIRONMENT = srcdir='$(srcdir)'; export srcdir; \
	abs_top_builddir='$(abs_top_builddir)'; export abs_top_builddir;

# Allocation failure at the N-th call for every function that builds an
# answer or parses untrusted bytes (its own malloc; skipped under ASan). It
# reads the vendor replies from the fuzz seeds (tests/fuzz/corpus/).
check_PROGRAMS += tests/test-alloc
TESTS += tests/test-alloc
tests_test_alloc_SOURCES = tests/test-alloc.c tests/tap.h
tests_test_alloc_LDADD = lib/libpurchase-internal.la
tests_test_alloc_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)

tests_test_e164_SOURCES = tests/test-e164.c tests/tap.h
tests_test_e164_LDADD = lib/libpurchase-internal.la
tests_test_e164_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
tests_test_json_SOURCES = tests/test-json.c tests/tap.h
tests_test_json_LDADD = lib/libpurchase-internal.la
tests_test_json_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
tests_test_form_SOURCES = tests/test-form.c tests/tap.h
tests_test_form_LDADD = lib/libpurchase-internal.la
tests_test_form_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
tests_test_config_SOURCES = tests/test-config.c tests/tap.h
tests_test_config_LDADD = lib/libpurchase-internal.la
tests_test_config_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
tests_test_sha256_SOURCES = tests/test-sha256.c tests/tap.h
tests_test_sha256_LDADD = lib/libpurchase-internal.la
tests_test_sha256_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
tests_test_auth_SOURCES = tests/test-auth.c tests/tap.h
tests_test_auth_LDADD = lib/libpurchase-internal.la
tests_test_auth_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
tests_test_stripe_SOURCES = tests/test-stripe.c tests/tap.h tests/hook.h
tests_test_stripe_LDADD = lib/libpurchase-internal.la
tests_test_stripe_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
tests_test_twilio_SOURCES = tests/test-twilio.c tests/tap.h tests/hook.h
tests_test_twilio_LDADD = lib/libpurchase-internal.la
tests_test_twilio_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
tests_test_status_SOURCES = tests/test-status.c tests/tap.h
tests_test_status_LDADD = lib/libpurchase-internal.la
tests_test_status_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
tests_test_flow_SOURCES = tests/test-flow.c tests/tap.h tests/fake.h tests/fixture.h tests/dbshell.h
tests_test_flow_LDADD = lib/libpurchase-internal.la
tests_test_flow_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
tests_test_reconcile_SOURCES = tests/test-reconcile.c tests/tap.h tests/fake.h tests/fixture.h tests/dbshell.h
tests_test_reconcile_LDADD = lib/libpurchase-internal.la
tests_test_reconcile_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
tests_test_router_SOURCES = tests/test-router.c tests/tap.h tests/fake.h tests/fixture.h tests/dbshell.h \
	cgi-bin/request.c cgi-bin/router.c cgi-bin/reply.c
tests_test_router_LDADD = lib/libpurchase-internal.la
tests_test_router_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) -I$(top_srcdir)/cgi-bin
tests_test_store_SOURCES = tests/test-store.c tests/tap.h tests/dbshell.h
tests_test_store_LDADD = lib/libpurchase-internal.la
tests_test_store_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
tests_test_http_SOURCES = tests/test-http.c tests/tap.h
tests_test_http_LDADD = lib/libpurchase-internal.la -lpthread
tests_test_http_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(CURL_CFLAGS) -pthread

# Integration tests: the built binaries under a real lighttpd on loopback,
# driven with curl (tests/harness.sh). They need lighttpd, curl, jq and the
# sqlite3 shell (scripts/deps.sh --test installs them).
AM_TESTS_ENVIRONMENT += abs_top_srcdir='$(abs_top_srcdir)'; export abs_top_srcdir;
# A failing integration test keeps its servers' logs in tests/NAME.sh.logs/
# beside its tests/NAME.sh.log (tests/harness.sh).
AM_TESTS_ENVIRONMENT += H_LOGDIR='$(abs_top_builddir)/tests'; export H_LOGDIR;
clean-local: clean-kept-logs
clean-kept-logs:
	rm -rf tests/*.sh.logs tests/pg-template.lock "$${TMPDIR:-/tmp}"/purchase-pg-template.`id -u`.*
.PHONY: clean-kept-logs
INTEGRATION_TESTS = \
	tests/sandbox-basic.sh \
	tests/sandbox-lifecycle.sh \
	tests/purchase-table.sh \
	tests/search.sh \
	tests/idempotency.sh \
	tests/race.sh \
	tests/crash.sh \
	tests/faults.sh \
	tests/lean.sh \
	tests/numbers.sh \
	tests/life.sh \
	tests/webhooks.sh \
	tests/lifecycle-faults.sh \
	tests/powercut.sh \
	tests/threads.sh
# Issue 14: the suites again on PostgreSQL (each with a server of its own):
# about 2.5 and 2 minutes.
INTEGRATION_TESTS += tests/pg.sh tests/pg-life.sh tests/nodes.sh tests/migrate.sh
TESTS += $(INTEGRATION_TESTS)
EXTRA_DIST += $(INTEGRATION_TESTS) tests/harness.sh tests/freeport.c tests/powercut.c tests/hook.h \
	tests/tap.h

# Deployment (issue #5): the purchase suite and the deployment checks through
# every web server, each started from its shipped configuration in
# apache-conf/ (lighttpd, Apache mod_fcgid, mod_proxy_fcgi + spawn-fcgi,
# plain CGI through the .htaccess); make install into a DESTDIR, then Apache
# from the installed files sells a number; docs/openapi.yaml against live
# answers. Apache is skipped only where it is not installed.
DEPLOY_TESTS = tests/servers.sh tests/install.sh tests/openapi.sh tests/man.sh
# Issue 9: the quick start as printed (a search's price is what the sandbox
# charges); the Apache servers with a build tree their user cannot read.
DEPLOY_TESTS += tests/quickstart.sh tests/unreadable-build.sh
# Issue 12: the shared-hosting bundle (make cgi-bundle) through Apache.
DEPLOY_TESTS += tests/bundle.sh tests/minbase.sh
# Issue 12: the Debian package built, linted, installed into a fresh root with
# Apache, a purchase through it, upgraded with one more migration, purged.
DEPLOY_TESTS += tests/deb.sh
TESTS += $(DEPLOY_TESTS)
EXTRA_DIST += $(DEPLOY_TESTS) tests/deploy-checks.sh tests/yaml2json.awk

# The unit tests alone (no servers): what the Debian package's build runs.
check-unit:
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(UNIT_TESTS) tests/test-alloc'
.PHONY: check-unit
