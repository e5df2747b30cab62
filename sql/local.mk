# sql/ -- schema and seed price list, installed to $(pkgdatadir).
dist_pkgdata_DATA += sql/schema.sql sql/002-purchase-nonces-states.sql sql/003-number-lifecycle.sql sql/004-check-lists.sql sql/prices.sql
pgsqldir = $(pkgdatadir)/pg
dist_pgsql_DATA = sql/pg/schema.sql
