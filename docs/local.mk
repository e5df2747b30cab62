# docs/ -- man pages (templates filled in with the configured paths, like
# apache-conf/) and the OpenAPI document of the HTTP API, checked against
# live responses by tests/openapi.sh.
man5_MANS = docs/purchase.conf.5
man8_MANS = docs/purchase.fcgi.8 docs/purchasectl.8
CLEANFILES += $(man5_MANS) $(man8_MANS)
EXTRA_DIST += $(man5_MANS:=.in) $(man8_MANS:=.in)
dist_pkgdata_DATA += docs/openapi.yaml

docs/%: $(srcdir)/docs/%.in Makefile
	$(AM_V_GEN)mkdir -p docs && $(purchase_subst) $< >$@.tmp && mv $@.tmp $@
