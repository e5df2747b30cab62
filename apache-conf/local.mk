# apache-conf/ -- web-server configurations (Apache mod_fcgid, mod_proxy_fcgi
# with systemd socket units or spawn-fcgi, shared-hosting .htaccess; lighttpd
# and nginx) and the example purchase.conf. Each is a template (*.in) filled
# in with the configured paths and installed to $(examplesdir); the tests
# fill the same templates with their own paths (tests/harness.sh).
examplesdir = $(pkgdatadir)/examples
PURCHASE_EXAMPLE_FILES = \
	apache-conf/purchase-fcgid.conf \
	apache-conf/purchase-proxy-fcgi.conf \
	apache-conf/htaccess-cgi \
	apache-conf/lighttpd-purchase.conf \
	apache-conf/nginx-purchase.conf \
	apache-conf/purchase.socket \
	apache-conf/purchase@.service \
	apache-conf/purchase-recover.service \
	apache-conf/purchase-recover.timer \
	apache-conf/purchase.conf.example
PURCHASE_EXAMPLE_PROGS = apache-conf/purchase-spawn-fcgi
examples_DATA = $(PURCHASE_EXAMPLE_FILES)
examples_SCRIPTS = $(PURCHASE_EXAMPLE_PROGS)
CLEANFILES += $(PURCHASE_EXAMPLE_FILES) $(PURCHASE_EXAMPLE_PROGS)
EXTRA_DIST += $(PURCHASE_EXAMPLE_FILES:=.in) $(PURCHASE_EXAMPLE_PROGS:=.in)

# The placeholders every template may use (and tests/harness.sh fills in).
purchase_subst = sed \
	-e 's|@cgibindir[@]|$(cgibindir)|g' \
	-e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	-e 's|@runstatedir[@]|$(runstatedir)|g' \
	-e 's|@localstatedir[@]|$(localstatedir)|g' \
	-e 's|@pkgdatadir[@]|$(pkgdatadir)|g' \
	-e 's|@sbindir[@]|$(sbindir)|g' \
	-e 's|@PACKAGE_VERSION[@]|$(PACKAGE_VERSION)|g'

apache-conf/%: $(srcdir)/apache-conf/%.in Makefile
	$(AM_V_GEN)mkdir -p apache-conf && $(purchase_subst) $< >$@.tmp && \
	  if test -x $<; then chmod +x $@.tmp; fi && mv $@.tmp $@
apache-conf/purchase-spawn-fcgi: $(srcdir)/apache-conf/purchase-spawn-fcgi.in Makefile
	$(AM_V_GEN)mkdir -p apache-conf && $(purchase_subst) $< >$@.tmp && \
	  chmod +x $@.tmp && mv $@.tmp $@
