# sandbox/local.mk -- sandbox.fcgi, the stateful Stripe/Twilio stand-in
# (DESIGN.md section 6).  Built, not installed; tests run it under lighttpd.
noinst_PROGRAMS += sandbox/sandbox.fcgi
sandbox_sandbox_fcgi_SOURCES = \
	sandbox/sandbox.h \
	sandbox/main.c \
	sandbox/route.c \
	sandbox/auth.c \
	sandbox/form.c \
	sandbox/idem.c \
	sandbox/db.c \
	sandbox/ids.c \
	sandbox/stripe.c \
	sandbox/billing.c \
	sandbox/events.c \
	sandbox/webhooks.c \
	sandbox/hmac.c \
	sandbox/clock.c \
	sandbox/numbers.c \
	sandbox/twilio.c \
	sandbox/control.c
# libcurl only for webhook deliveries (webhooks.c).
sandbox_sandbox_fcgi_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(SQLITE_CFLAGS) $(FCGI_CFLAGS) \
	$(CURL_CFLAGS)
sandbox_sandbox_fcgi_LDADD = $(JSONC_LIBS) $(SQLITE_LIBS) $(FCGI_LIBS) $(CURL_LIBS)
