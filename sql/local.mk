# sql/ -- schema and seed price list, installed to $(pkgdatadir).
dist_pkgdata_DATA += sql/schema.sql sql/prices.sql
