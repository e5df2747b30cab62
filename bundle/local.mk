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
	$(srcdir)/sql/004-check-lists.sql \
	$(srcdir)/sql/prices.sql
EXTRA_DIST += bundle/README.md
CLEANFILES += bundle/purchase.fcgi bundle/purchasectl $(BUNDLE_NAME).tar.gz .cgi-bundle.lock

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
# Staged in a directory of its own and renamed into place, so that two
# makes at once (two test suites, say) never see each other's half-built
# tree or tarball.
cgi-bundle: bundle/purchase.fcgi bundle/purchasectl $(BUNDLE_FILES) \
	  $(srcdir)/apache-conf/htaccess-cgi.in $(srcdir)/apache-conf/purchase.conf.example.in
	$(AM_V_GEN)st=bundle/stage.$$$$ && top=$$st/$(BUNDLE_NAME) && \
	  rm -rf $$st && \
	  $(MKDIR_P) $$top/public_html/shop $$top/private/sql && \
	  cp bundle/purchase.fcgi $$top/public_html/shop/purchase.fcgi && \
	  sed -e 's|@sysconfdir[@]|$(BUNDLE_HOME)|g' $(srcdir)/apache-conf/htaccess-cgi.in \
	    >$$top/public_html/shop/.htaccess && \
	  cp bundle/purchasectl $$top/private/purchasectl && \
	  sed -e 's|@localstatedir[@]/lib/purchase|$(BUNDLE_HOME)|g' -e 's|@[a-z]*dir[@]|$(BUNDLE_HOME)|g' \
	    -e 's|@PACKAGE_VERSION[@]|$(PACKAGE_VERSION)|g' \
	    $(srcdir)/apache-conf/purchase.conf.example.in >$$top/private/purchase.conf.example && \
	  cp $(srcdir)/sql/*.sql $$top/private/sql/ && \
	  sed -e 's|@PACKAGE_VERSION[@]|$(PACKAGE_VERSION)|g' -e 's|@BUNDLE_NAME[@]|$(BUNDLE_NAME)|g' \
	    $(srcdir)/bundle/README.md >$$top/README.md && \
	  chmod 755 $$top/public_html/shop/purchase.fcgi $$top/private/purchasectl && \
	  chmod 700 $$top/private && \
	  tar -C $$st -czf $$st/bundle.tar.gz $(BUNDLE_NAME) && \
	  mv -f $$st/bundle.tar.gz $(BUNDLE_NAME).tar.gz && \
	  rm -rf $$st && \
	  echo "cgi-bundle: $(BUNDLE_NAME).tar.gz"

clean-local: bundle-clean
bundle-clean:
	-rm -rf bundle/purchase-*-cgi-* bundle/stage.*

.PHONY: cgi-bundle bundle-clean
