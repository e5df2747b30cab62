/*
 * ctx.h -- the process-wide context (struct purchase_ctx): what survives
 * from one request to the next -- configuration, the database connection
 * with its prepared statements, the HTTP handle with its open connections --
 * and the per-request id used in log lines.
 */
#ifndef PUR_CTX_H
#define PUR_CTX_H

#include "config.h"
#include "http.h"
#include "purchase.h"
#include "store.h"
#include "stripe.h"
#include "twilio.h"

struct purchase_ctx {
	struct pur_config *cfg;
	struct pur_store *store;
	struct pur_http *http;
	struct pur_stripe stripe;
	struct pur_twilio twilio;
	int schema_ok;          /* schema found current once in this process */
	int retry_after;        /* seconds the last ERATE asks to wait (this request) */
	int events_pending;     /* a webhook recorded work to do after the reply */
	char request_id[64];
	/* Provider calls that succeeded, not yet logged: they go at the end
	 * of the request's next log line (pur_log_ok). */
	char calls[400];
	size_t calls_len;
};

/* A provider call that succeeded, logged with the next line of the same
 * request (one line, one write, rather than one per call); failures are
 * logged at once, by whoever saw them. */
void pur_log_ok(struct purchase_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Sets what purchase_retry_after() answers (clamped to 1..3600 s). */
void pur_ctx_set_retry_after(struct purchase_ctx *ctx, int64_t seconds);

/* ESCHEMA unless the database schema is current (checked once). */
enum purchase_err pur_ctx_ready(struct purchase_ctx *ctx, struct purchase_detail *detail);

/* The current time (Unix seconds); tests may shift it with
 * PURCHASE_TEST_CLOCK_OFFSET in builds with fault injection. */
int64_t pur_now(void);

#endif
