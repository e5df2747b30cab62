# cgi-bin/ -- purchase.fcgi, the FastCGI/CGI responder.
cgibin_PROGRAMS += cgi-bin/purchase.fcgi
cgi_bin_purchase_fcgi_SOURCES = cgi-bin/main.c cgi-bin/request.c cgi-bin/request.h \
	cgi-bin/reply.c cgi-bin/reply.h cgi-bin/router.c cgi-bin/router.h
cgi_bin_purchase_fcgi_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(FCGI_CFLAGS)
cgi_bin_purchase_fcgi_LDADD = lib/libpurchase.la $(JSONC_LIBS) $(FCGI_LIBS)
