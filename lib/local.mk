# lib/ -- libpurchase. Every module is compiled once into a convenience
# library (tests link it to reach internal pur_* functions); the installed
# shared library wraps it and exports only purchase_* symbols.
noinst_LTLIBRARIES += lib/libpurchase-internal.la
lib_libpurchase_internal_la_SOURCES = \
	lib/purchase.h \
	lib/error.c lib/error.h \
	lib/buf.c lib/buf.h \
	lib/sha256.c lib/sha256.h \
	lib/config.c lib/config.h \
	lib/e164.c lib/e164.h \
	lib/json.c lib/json.h \
	lib/form.c lib/form.h \
	lib/http.c lib/http.h \
	lib/stripe.c lib/stripe.h \
	lib/twilio.c lib/twilio.h \
	lib/store.c lib/store.h \
	lib/store-vfs.c lib/store-vfs.h \
	lib/store-pg.c lib/store-pg.h \
	lib/store-copy.c \
	lib/auth.c lib/auth.h \
	lib/ctx.c lib/ctx.h \
	lib/status.c \
	lib/render.c \
	lib/search.c \
	lib/flow.h \
	lib/purchase.c \
	lib/numbers.c lib/numbers.h \
	lib/release.c \
	lib/webhook.c \
	lib/reconcile.c \
	lib/admin.c
lib_libpurchase_internal_la_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(CURL_CFLAGS) $(SQLITE_CFLAGS) $(LIBPQ_CFLAGS) -fvisibility=default
lib_libpurchase_internal_la_LIBADD = $(JSONC_LIBS) $(SQLITE_LIBS)

lib_LTLIBRARIES += lib/libpurchase.la
lib_libpurchase_la_SOURCES =
lib_libpurchase_la_LIBADD = lib/libpurchase-internal.la
lib_libpurchase_la_LDFLAGS = $(AM_LDFLAGS) -version-info $(LIBPURCHASE_LT_VERSION) -export-symbols-regex '^purchase_'
include_HEADERS += lib/purchase.h

pkgconfigdir = $(libdir)/pkgconfig
pkgconfig_DATA = lib/libpurchase.pc

# The schema is embedded in the library, generated from sql/ so that the
# files stay the one source of truth: schema.sql is version 1, and each
# sql/NNN-*.sql migration (in order) makes version NNN.
PUR_MIGRATIONS = sql/schema.sql sql/002-purchase-nonces-states.sql sql/003-number-lifecycle.sql sql/004-check-lists.sql
# PostgreSQL's schema at the current version (lib/store.c, migrate_pg).
PUR_PG_SCHEMA = sql/pg/schema.sql
BUILT_SOURCES = lib/schema-sql.h
nodist_lib_libpurchase_internal_la_SOURCES = lib/schema-sql.h
CLEANFILES += lib/schema-sql.h
lib/schema-sql.h: $(addprefix $(top_srcdir)/,$(PUR_MIGRATIONS) $(PUR_PG_SCHEMA))
	$(AM_V_GEN)mkdir -p lib && { \
	  echo '/* Generated from $(PUR_MIGRATIONS) by the build. Do not edit. */'; \
	  echo 'static const char *const pur_migrations[] = {'; \
	  for f in $(PUR_MIGRATIONS); do \
	    sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $(top_srcdir)/$$f; \
	    echo ','; \
	  done; \
	  echo '};'; \
	  echo 'static const char pur_pg_schema[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $(top_srcdir)/$(PUR_PG_SCHEMA); \
	  echo ';'; } > $@.tmp && mv $@.tmp $@
