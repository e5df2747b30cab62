/*
 * fake.h -- scripted providers for the C tests of the middle (the purchase
 * flow, reconcile, the router): a hook for pur_http_set_hook that answers
 * each request from a queue of canned replies matched by method and URL
 * substring, in order, and records every request it was handed. No network
 * is touched; the replies are the vendors' real shapes (the tests copy
 * them from the specs).
 *
 *	fake_reset(&f);
 *	fake_on(&f, "GET", "/v1/customers/", 200, CUSTOMER_JSON, 1);
 *	fake_on(&f, "POST", "/v1/subscriptions", 200, SUB_JSON, 1);
 *	pur_http_set_hook(ctx->http, fake_hook, &f);
 *	... purchase_buy(...) ...
 *	is_str(fake_calls(&f), "GET customers,POST subscriptions,...", ...);
 */
#ifndef PUR_TESTS_FAKE_H
#define PUR_TESTS_FAKE_H

#include <stdio.h>
#include <string.h>

#include "http.h"

#define FAKE_UNUSED __attribute__((unused))

#define FAKE_RULES 64
#define FAKE_LOG 128

struct fake_rule {
	const char *method;
	const char *url_part;     /* matched with strstr */
	enum pur_http_outcome outcome;
	long status;
	const char *body;
	int times;                /* how many requests it answers; -1: all */
};

struct fake_req {
	char method[8];
	char url[512];
	char idem[160];
	char form[1024];
};

struct fake {
	struct fake_rule rules[FAKE_RULES];
	int nrules;
	struct fake_req log[FAKE_LOG];
	int nlog;
	int unmatched;            /* requests no rule answered */
	char calls[4096];         /* "METHOD path-tail,..." for assertions */
};

static FAKE_UNUSED void
fake_reset(struct fake *f)
{
	memset(f, 0, sizeof(*f));
}

/* Adds a rule answering the next `times` matching requests. */
static FAKE_UNUSED void
fake_on_outcome(struct fake *f, const char *method, const char *url_part,
    enum pur_http_outcome outcome, long status, const char *body, int times)
{
	struct fake_rule *r;

	if (f->nrules == FAKE_RULES)
		return;
	r = &f->rules[f->nrules++];
	r->method = method;
	r->url_part = url_part;
	r->outcome = outcome;
	r->status = status;
	r->body = body;
	r->times = times;
}

static FAKE_UNUSED void
fake_on(struct fake *f, const char *method, const char *url_part, long status,
    const char *body, int times)
{
	fake_on_outcome(f, method, url_part, PUR_HTTP_REPLY, status, body, times);
}

static void
fake_copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src != NULL ? src : "");
}

/* A short name of a request for the call list: method and the URL's last
 * path segment without the query ("POST subscriptions", "POST pay"). */
static void
fake_note(struct fake *f, const struct pur_http_req *req)
{
	const char *u = req->url, *q = strchr(u, '?'), *e = q ? q : u + strlen(u), *b = e;
	size_t len = strlen(f->calls);

	while (b > u && b[-1] != '/')
		b--;
	snprintf(f->calls + len, sizeof(f->calls) - len, "%s%s %.*s", len ? "," : "",
	    req->method, (int)(e - b), b);
}

static enum purchase_err
fake_hook(void *arg, const struct pur_http_req *req, struct pur_http_reply *r)
{
	struct fake *f = arg;
	int i;

	if (f->nlog < FAKE_LOG) {
		struct fake_req *l = &f->log[f->nlog++];
		fake_copy(l->method, sizeof(l->method), req->method);
		fake_copy(l->url, sizeof(l->url), req->url);
		fake_copy(l->idem, sizeof(l->idem), req->idem_key);
		fake_copy(l->form, sizeof(l->form), req->form);
	}
	fake_note(f, req);
	for (i = 0; i < f->nrules; i++) {
		struct fake_rule *ru = &f->rules[i];
		if (ru->times == 0 || strcmp(ru->method, req->method) != 0 ||
		    strstr(req->url, ru->url_part) == NULL)
			continue;
		if (ru->times > 0)
			ru->times--;
		r->outcome = ru->outcome;
		r->status = ru->status;
		r->elapsed_ms = 1;
		if (ru->body != NULL && pur_buf_add(&r->body, ru->body, strlen(ru->body)) != 0)
			return PURCHASE_ENOMEM;
		return PURCHASE_OK;
	}
	/* Nothing scripted: as if the provider could not be reached. */
	f->unmatched++;
	r->outcome = PUR_HTTP_NOT_SENT;
	return PURCHASE_OK;
}

/* How many logged requests match method and URL part. */
static FAKE_UNUSED int
fake_count(const struct fake *f, const char *method, const char *url_part)
{
	int i, n = 0;

	for (i = 0; i < f->nlog; i++)
		if (strcmp(f->log[i].method, method) == 0 && strstr(f->log[i].url, url_part) != NULL)
			n++;
	return n;
}

#endif
