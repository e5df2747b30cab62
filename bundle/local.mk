# bundle/ -- make cgi-bundle: purchase-VERSION-cgi-ARCH.tar.gz, for shared
# hosting. purchase.fcgi and purchasectl are linked here again from the
# same objects as the installed ones, but with the library's own archive
# and libfcgi, json-c and SQLite's static archives (configure: BUNDLE_LIBS)
# instead of shared libraries, as Fossil ships SQLite inside its binary:
# the host needs the C library only (libcurl is loaded at run time, as
# always: a host without it answers provider calls with 500 and says why).
# The installed build keeps the shared library.
BUNDLE_NAME = purchase-$(PACKAGE_VERSION)-cgi-$(host_cpu)
BUNDLE_SYSLIBS = -lm -ldl -lpthread
BUNDLE_LINK = $(CCLD) $(AM_CFLAGS) $(CFLAGS) $(AM_LDFLAGS) $(LDFLAGS)
BUNDLE_FILES = $(srcdir)/bundle/README.md $(srcdir)/sql/schema.sql \
	$(srcdir)/sql/002-purchase-nonces-states.sql $(srcdir)/sql/003-number-lifecycle.sql \
	$(srcdir)/sql/prices.sql
EXTRA_DIST += bundle/README.md
CLEANFILES += bundle/purchase.fcgi bundle/purchasectl $(BUNDLE_NAME).tar.gz

bundle/purchase.fcgi: $(cgi_bin_purchase_fcgi_OBJECTS) lib/libpurchase-internal.la
	@test -n "$(BUNDLE_LIBS)" || { echo "cgi-bundle: configure found no static libfcgi, json-c, SQLite (or sanitizers are on)" >&2; exit 1; }
	@$(MKDIR_P) bundle
	$(AM_V_CCLD)$(BUNDLE_LINK) -o $@ $(cgi_bin_purchase_fcgi_OBJECTS) \
	  lib/.libs/libpurchase-internal.a $(BUNDLE_LIBS) $(BUNDLE_SYSLIBS)

bundle/purchasectl: $(tools_purchasectl_OBJECTS) lib/libpurchase-internal.la
	@test -n "$(BUNDLE_LIBS)" || { echo "cgi-bundle: configure found no static libfcgi, json-c, SQLite (or sanitizers are on)" >&2; exit 1; }
	@$(MKDIR_P) bundle
	$(AM_V_CCLD)$(BUNDLE_LINK) -o $@ $(tools_purchasectl_OBJECTS) \
	  lib/.libs/libpurchase-internal.a $(BUNDLE_LIBS) $(BUNDLE_SYSLIBS)

# The .htaccess names the configuration by a path the user changes (step 3
# of bundle/README.md); the example configuration puts the database beside
# it, outside the web space.
BUNDLE_HOME = /home/USER/purchase
cgi-bundle: bundle/purchase.fcgi bundle/purchasectl $(BUNDLE_FILES) \
	  $(srcdir)/apache-conf/htaccess-cgi.in $(srcdir)/apache-conf/purchase.conf.example.in
	$(AM_V_GEN)rm -rf bundle/$(BUNDLE_NAME) && \
	  $(MKDIR_P) bundle/$(BUNDLE_NAME)/public_html/shop bundle/$(BUNDLE_NAME)/private/sql && \
	  cp bundle/purchase.fcgi bundle/$(BUNDLE_NAME)/public_html/shop/purchase.fcgi && \
	  sed -e 's|@sysconfdir[@]|$(BUNDLE_HOME)|g' $(srcdir)/apache-conf/htaccess-cgi.in \
	    >bundle/$(BUNDLE_NAME)/public_html/shop/.htaccess && \
	  cp bundle/purchasectl bundle/$(BUNDLE_NAME)/private/purchasectl && \
	  sed -e 's|@localstatedir[@]/lib/purchase|$(BUNDLE_HOME)|g' -e 's|@[a-z]*dir[@]|$(BUNDLE_HOME)|g' \
	    -e 's|@PACKAGE_VERSION[@]|$(PACKAGE_VERSION)|g' \
	    $(srcdir)/apache-conf/purchase.conf.example.in >bundle/$(BUNDLE_NAME)/private/purchase.conf.example && \
	  cp $(srcdir)/sql/*.sql bundle/$(BUNDLE_NAME)/private/sql/ && \
	  sed -e 's|@PACKAGE_VERSION[@]|$(PACKAGE_VERSION)|g' -e 's|@BUNDLE_NAME[@]|$(BUNDLE_NAME)|g' \
	    $(srcdir)/bundle/README.md >bundle/$(BUNDLE_NAME)/README.md && \
	  chmod 755 bundle/$(BUNDLE_NAME)/public_html/shop/purchase.fcgi bundle/$(BUNDLE_NAME)/private/purchasectl && \
	  chmod 700 bundle/$(BUNDLE_NAME)/private && \
	  tar -C bundle -czf $(BUNDLE_NAME).tar.gz $(BUNDLE_NAME) && \
	  rm -rf bundle/$(BUNDLE_NAME) && \
	  echo "cgi-bundle: $(BUNDLE_NAME).tar.gz"

clean-local: bundle-clean
bundle-clean:
	-rm -rf bundle/purchase-*-cgi-*

.PHONY: cgi-bundle bundle-clean
