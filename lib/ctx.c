/*
 * ctx.c -- opening and closing the process-wide context; logging; health.
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "ctx.h"
#include "error.h"
#include "flow.h"

#define REPLY_MAX (1024 * 1024)

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

int64_t
pur_now(void)
{
	int64_t t = (int64_t)time(NULL) + pur_store_clock_offset();
#ifdef PURCHASE_FAULT_INJECTION
	const char *off = getenv("PURCHASE_TEST_CLOCK_OFFSET");
	if (off != NULL)
		t += strtoll(off, NULL, 10);
#endif
	return t;
}

enum purchase_err
purchase_ctx_open(const char *config_path, struct purchase_ctx **out,
    struct purchase_detail *d)
{
	struct purchase_ctx *ctx;
	enum purchase_err err;

	*out = NULL;
	if (config_path == NULL || *config_path == '\0')
		config_path = getenv("PURCHASE_CONFIG");
	if (config_path == NULL || *config_path == '\0')
		config_path = SYSCONFDIR "/purchase.conf";
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
		return PURCHASE_ENOMEM;
	if ((err = pur_config_load(config_path, &ctx->cfg, d)) != PURCHASE_OK)
		goto fail;
	if ((err = pur_store_open(ctx->cfg->database, ctx->cfg->busy_timeout_ms, &ctx->store, d)) !=
	    PURCHASE_OK)
		goto fail;
	if ((ctx->http = pur_http_new(ctx->cfg->provider_connect_timeout_ms,
	         ctx->cfg->provider_timeout_ms, REPLY_MAX)) == NULL) {
		err = pur_error_set(d, PURCHASE_ENOMEM, "cannot set up libcurl");
		goto fail;
	}
	/* No snapshot held across a provider's reply time. */
	pur_http_set_before(ctx->http, pur_store_reads_done, ctx->store);
	ctx->stripe.http = ctx->twilio.http = ctx->http;
	ctx->stripe.cfg = ctx->twilio.cfg = ctx->cfg;
	*out = ctx;
	return PURCHASE_OK;
fail:
	purchase_ctx_free(ctx);
	return err;
}

void
purchase_ctx_free(struct purchase_ctx *ctx)
{
	if (ctx == NULL)
		return;
	pur_http_free(ctx->http);
	pur_store_close(ctx->store);
	pur_config_free(ctx->cfg);
	free(ctx);
}

const char *
purchase_ctx_config_path(const struct purchase_ctx *ctx)
{
	return ctx->cfg->path;
}

void
purchase_ctx_set_request_id(struct purchase_ctx *ctx, const char *id)
{
	/* What the request that ends had not logged yet, under its own id;
	 * and the read transaction it may have left open (its key's). */
	if (ctx->calls_len > 0)
		purchase_log(ctx, "done");
	pur_store_reads_done(ctx->store);
	snprintf(ctx->request_id, sizeof(ctx->request_id), "%s", id ? id : "");
	ctx->retry_after = 0;
}

void
pur_ctx_set_retry_after(struct purchase_ctx *ctx, int64_t seconds)
{
	ctx->retry_after = seconds < 1 ? 1 : seconds > 3600 ? 3600 : (int)seconds;
}

int
purchase_retry_after(const struct purchase_ctx *ctx)
{
	return ctx != NULL && ctx->retry_after > 0 ? ctx->retry_after : 1;
}

void
purchase_log(struct purchase_ctx *ctx, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	static _Atomic pid_t pid;
	pid_t me;

	/* getpid() once per process, not a syscall per log line. Process
	 * managers exec each worker afresh, and nothing here forks after
	 * logging, so the cached value stays right (any thread may store it:
	 * the same value). */
	if ((me = pid) == 0)
		pid = me = getpid();
	n = snprintf(line, sizeof(line), "purchase[%ld]: req=%s ", (long)me,
	    ctx && ctx->request_id[0] ? ctx->request_id : "-");
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (ctx != NULL && ctx->calls_len > 0) {
		n = (int)strlen(line);
		snprintf(line + n, sizeof(line) - (size_t)n, " [%s]", ctx->calls);
		ctx->calls_len = 0;
		ctx->calls[0] = '\0';
	}
	/* One write per line, so lines of concurrent processes do not mix. */
	n = (int)strlen(line);
	if ((size_t)n < sizeof(line) - 1)
		line[n++] = '\n';
	else
		line[sizeof(line) - 2] = '\n', n = sizeof(line) - 1;
	(void)!write(STDERR_FILENO, line, (size_t)n);
}

void
pur_log_ok(struct purchase_ctx *ctx, const char *fmt, ...)
{
	char one[160];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(one, sizeof(one), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(one))
		n = (int)sizeof(one) - 1;
	/* No room: what is pending goes out now, on a line of its own. */
	if (ctx->calls_len + 2 + (size_t)n >= sizeof(ctx->calls))
		purchase_log(ctx, "calls");
	if (ctx->calls_len > 0) {
		memcpy(ctx->calls + ctx->calls_len, ", ", 2);
		ctx->calls_len += 2;
	}
	memcpy(ctx->calls + ctx->calls_len, one, (size_t)n);
	ctx->calls_len += (size_t)n;
	ctx->calls[ctx->calls_len] = '\0';
}

enum purchase_err
pur_ctx_ready(struct purchase_ctx *ctx, struct purchase_detail *d)
{
	enum purchase_err err;
	int v;

	if (ctx->schema_ok)
		return PURCHASE_OK;
	if ((err = pur_store_schema_version(ctx->store, &v)) != PURCHASE_OK)
		return pur_error_set(d, err, "cannot read schema version");
	if (v != PUR_SCHEMA_VERSION)
		return pur_error_set(d, PURCHASE_ESCHEMA, "schema version %d, want %d "
		    "(run purchasectl init)", v, PUR_SCHEMA_VERSION);
	ctx->schema_ok = 1;
	return PURCHASE_OK;
}

enum purchase_err
purchase_health(struct purchase_ctx *ctx, struct purchase_detail *d)
{
	ctx->schema_ok = 0;
	return pur_ctx_ready(ctx, d);
}

void
purchase_reply_free(struct purchase_reply *r)
{
	if (r == NULL)
		return;
	free(r->body);
	r->body = NULL;
	r->len = 0;
}

void
purchase_offers_free(struct purchase_offers *o)
{
	if (o == NULL)
		return;
	free(o->v);
	o->v = NULL;
	o->n = 0;
}

void
purchase_idle(struct purchase_ctx *ctx, int last)
{
	struct purchase_detail d = {""};
	int done = 0, left = 0;

	if (ctx == NULL)
		return;
	pur_store_reads_done(ctx->store);
	/* A webhook was answered: now its work (DESIGN §3a: "answer, then
	 * re-fetch"). What is left, recovery finds. */
	if (ctx->events_pending) {
		ctx->events_pending = 0;
		if (pur_webhook_work(ctx, 16, &done, &left, &d) != PURCHASE_OK)
			purchase_log(ctx, "webhook work: %s", d.text);
	}
	pur_store_checkpoint(ctx->store, last);
	/* The database connection back to the pool (the webhook's work took
	 * one) before the thread waits for its next request: a worker's
	 * threads share a few. */
	pur_store_reads_done(ctx->store);
}
