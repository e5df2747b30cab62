/*
 * hook.h -- a canned HTTP exchange for the provider-client tests: the hook
 * given to pur_http_set_hook records the request it is handed (copies, as
 * the client frees its buffers when the call returns) and answers with the
 * reply the test set up. No network is touched.
 */
#ifndef PUR_TESTS_HOOK_H
#define PUR_TESTS_HOOK_H

#include <string.h>

#include "http.h"

struct canned {
	/* the reply to give */
	enum purchase_err ret;          /* what the hook returns */
	enum pur_http_outcome outcome;
	long status;
	const char *body;               /* NULL: no body */
	/* the reply to every later call, when then_body is set (a client
	 * that asks again: cancel refused, then the subscription read) */
	long then_status;
	const char *then_body;
	/* the request seen */
	int calls;
	char method[16];
	char url[2048];
	char bearer[256];
	char user[256];
	char pass[256];
	char idem[256];
	char form[4096];
	char version[32];
	int has_bearer, has_user, has_idem, has_form, has_version;
};

static void
canned_copy(char *dst, size_t n, const char *src, int *has)
{
	size_t l;

	dst[0] = '\0';
	if (has != NULL)
		*has = src != NULL;
	if (src == NULL)
		return;
	l = strlen(src);
	if (l >= n)
		l = n - 1;
	memcpy(dst, src, l);
	dst[l] = '\0';
}

static enum purchase_err
canned_hook(void *arg, const struct pur_http_req *req, struct pur_http_reply *r)
{
	struct canned *c = arg;

	c->calls++;
	canned_copy(c->method, sizeof(c->method), req->method, NULL);
	canned_copy(c->url, sizeof(c->url), req->url, NULL);
	canned_copy(c->bearer, sizeof(c->bearer), req->bearer, &c->has_bearer);
	canned_copy(c->user, sizeof(c->user), req->user, &c->has_user);
	canned_copy(c->pass, sizeof(c->pass), req->pass, NULL);
	canned_copy(c->idem, sizeof(c->idem), req->idem_key, &c->has_idem);
	canned_copy(c->form, sizeof(c->form), req->form, &c->has_form);
	canned_copy(c->version, sizeof(c->version), req->version, &c->has_version);
	r->outcome = c->outcome;
	r->status = c->status;
	r->elapsed_ms = 7;
	if (c->calls > 1 && c->then_body != NULL) {
		r->outcome = PUR_HTTP_REPLY;
		r->status = c->then_status;
		return pur_buf_add(&r->body, c->then_body, strlen(c->then_body)) != 0 ?
		    PURCHASE_ENOMEM : PURCHASE_OK;
	}
	if (c->body != NULL && pur_buf_add(&r->body, c->body, strlen(c->body)) != 0)
		return PURCHASE_ENOMEM;
	return c->ret;
}

/* Sets up the next reply (and forgets the last request). */
static void
canned_set(struct canned *c, long status, const char *body)
{
	memset(c, 0, sizeof(*c));
	c->ret = PURCHASE_OK;
	c->outcome = PUR_HTTP_REPLY;
	c->status = status;
	c->body = body;
}

#endif
