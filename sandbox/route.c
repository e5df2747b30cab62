/*
 * route.c -- turns one request into one response: finds the operation for
 * method + path, checks the vendor's credentials, counts the call, consumes
 * an armed fault, applies Stripe's idempotency layer, runs the handler in a
 * write transaction, and finally applies the after-work part of the fault
 * (sleep, 500, truncated or huge body).
 *
 * Transaction shape, per request (several processes share the database;
 * a GET with no armed fault takes the lighter run_read path instead):
 *   BEGIN IMMEDIATE; calls[op]++; take fault;
 *     fault skips work (timeout_before, 500, 429) -> COMMIT, sleep, answer
 *     fault is "delay"                             -> COMMIT, sleep, BEGIN
 *   idempotency lookup | SAVEPOINT; handler (error reply: ROLLBACK TO);
 *   effects[op]++; idempotency store; COMMIT
 *   after-work fault (timeout_after sleeps here, outside the transaction)
 *
 * What idempotency stores: the genuine reply of a request whose handler
 * ran and succeeded or declined (2xx, and 402 as Stripe does).  Validation
 * errors (other 4xx) are not stored (Stripe: "no idempotent result is
 * saved because no API endpoint began execution").  After-work faults
 * (500_after, malformed, huge, timeout_after) model a failure between
 * Stripe and the client, so the stored reply is the genuine one and a retry
 * with the same key gets it.
 *
 * Events (events.c) are rows a handler writes inside that savepoint: what
 * undoes a handler's writes undoes its events, and a replay makes none.
 * Control endpoints run in one BEGIN IMMEDIATE transaction each, but
 * /_sandbox/webhooks/deliver, which holds no lock while it posts.  The
 * fault consumed for a request is in c->fault for handlers that apply one
 * themselves ("foreign").
 */
#define _DEFAULT_SOURCE /* nanosleep */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sandbox.h"

#define HUGE_PAD (4u * 1024u * 1024u)

struct route {
	const char *method;
	const char *pattern; /* '/'-separated; "*" captures one segment */
	enum sb_vendor vendor;
	enum sb_op op; /* SB_OP__MAX for control endpoints */
	sb_handler fn;
};

static const struct route routes[] = {
	{ "POST", "/v1/customers", SB_VENDOR_STRIPE, SB_OP_CUSTOMER_CREATE,
	  sb_stripe_customer_create },
	{ "GET", "/v1/customers/*", SB_VENDOR_STRIPE, SB_OP_CUSTOMER_GET,
	  sb_stripe_customer_get },
	{ "POST", "/v1/customers/*", SB_VENDOR_STRIPE, SB_OP_CUSTOMER_UPDATE,
	  sb_stripe_customer_update },
	{ "POST", "/v1/customers/*/sources", SB_VENDOR_STRIPE, SB_OP_SOURCE_CREATE,
	  sb_stripe_source_create },
	{ "POST", "/v1/payment_methods/*/attach", SB_VENDOR_STRIPE,
	  SB_OP_PAYMENT_METHOD_ATTACH, sb_stripe_pm_attach },
	{ "POST", "/v1/subscriptions", SB_VENDOR_STRIPE, SB_OP_SUBSCRIPTION_CREATE,
	  sb_stripe_sub_create },
	/* The exact list path before the one-segment patterns (match() needs
	 * the whole path, so "/v1/subscriptions/" never matches it). */
	{ "GET", "/v1/subscriptions", SB_VENDOR_STRIPE, SB_OP_SUBSCRIPTION_LIST,
	  sb_stripe_sub_list },
	{ "GET", "/v1/subscriptions/search", SB_VENDOR_STRIPE, SB_OP_SUBSCRIPTION_SEARCH,
	  sb_stripe_sub_search },
	{ "GET", "/v1/subscriptions/*", SB_VENDOR_STRIPE, SB_OP_SUBSCRIPTION_GET,
	  sb_stripe_sub_get },
	{ "POST", "/v1/subscriptions/*", SB_VENDOR_STRIPE, SB_OP_SUBSCRIPTION_UPDATE,
	  sb_stripe_sub_update },
	{ "DELETE", "/v1/subscriptions/*", SB_VENDOR_STRIPE, SB_OP_SUBSCRIPTION_CANCEL,
	  sb_stripe_sub_cancel },
	{ "GET", "/v1/invoices/*", SB_VENDOR_STRIPE, SB_OP_INVOICE_GET,
	  sb_stripe_invoice_get },
	{ "POST", "/v1/invoices/*/pay", SB_VENDOR_STRIPE, SB_OP_INVOICE_PAY,
	  sb_stripe_invoice_pay },
	{ "POST", "/v1/invoices/*/void", SB_VENDOR_STRIPE, SB_OP_INVOICE_VOID,
	  sb_stripe_invoice_void },
	{ "GET", "/v1/events", SB_VENDOR_STRIPE, SB_OP_EVENT_LIST, sb_stripe_event_list },
	{ "GET", "/v1/events/*", SB_VENDOR_STRIPE, SB_OP_EVENT_GET, sb_stripe_event_get },
	{ "GET", "/2010-04-01/Accounts/*/AvailablePhoneNumbers/*/*", SB_VENDOR_TWILIO,
	  SB_OP_NUMBERS_AVAILABLE, sb_twilio_available },
	{ "POST", "/2010-04-01/Accounts/*/IncomingPhoneNumbers.json", SB_VENDOR_TWILIO,
	  SB_OP_NUMBER_BUY, sb_twilio_buy },
	{ "GET", "/2010-04-01/Accounts/*/IncomingPhoneNumbers.json", SB_VENDOR_TWILIO,
	  SB_OP_NUMBER_LIST, sb_twilio_list },
	{ "DELETE", "/2010-04-01/Accounts/*/IncomingPhoneNumbers/*", SB_VENDOR_TWILIO,
	  SB_OP_NUMBER_RELEASE, sb_twilio_release },
	{ "POST", "/_sandbox/reset", SB_VENDOR_CONTROL, SB_OP__MAX, sb_control_reset },
	{ "POST", "/_sandbox/faults", SB_VENDOR_CONTROL, SB_OP__MAX, sb_control_faults_set },
	{ "DELETE", "/_sandbox/faults", SB_VENDOR_CONTROL, SB_OP__MAX,
	  sb_control_faults_clear },
	{ "POST", "/_sandbox/numbers/taken", SB_VENDOR_CONTROL, SB_OP__MAX, sb_control_taken },
	{ "POST", "/_sandbox/prices", SB_VENDOR_CONTROL, SB_OP__MAX, sb_control_prices },
	{ "GET", "/_sandbox/ledger", SB_VENDOR_CONTROL, SB_OP__MAX, sb_control_ledger },
	{ "GET", "/_sandbox/clock", SB_VENDOR_CONTROL, SB_OP__MAX, sb_control_clock_get },
	{ "POST", "/_sandbox/clock", SB_VENDOR_CONTROL, SB_OP__MAX, sb_control_clock_advance },
	{ "POST", "/_sandbox/webhooks", SB_VENDOR_CONTROL, SB_OP__MAX, sb_control_webhooks_set },
	{ "GET", "/_sandbox/webhooks", SB_VENDOR_CONTROL, SB_OP__MAX, sb_control_webhooks_get },
	{ "DELETE", "/_sandbox/webhooks", SB_VENDOR_CONTROL, SB_OP__MAX,
	  sb_control_webhooks_delete },
	{ "GET", "/_sandbox/webhooks/pending", SB_VENDOR_CONTROL, SB_OP__MAX,
	  sb_control_webhooks_pending },
	{ "POST", "/_sandbox/webhooks/deliver", SB_VENDOR_CONTROL, SB_OP__MAX,
	  sb_control_webhooks_deliver },
};

/* Control handlers that run their own transactions instead of the one
 * sb_route_handle wraps around the others: a webhook delivery must hold
 * no lock while its POST is in flight (the receiver may call back). */
static int own_txn(const struct route *r)
{
	return r->fn == sb_control_webhooks_deliver;
}

static const char *const op_names[SB_OP__MAX] = {
	[SB_OP_CUSTOMER_CREATE] = "customer_create",
	[SB_OP_CUSTOMER_GET] = "customer_get",
	[SB_OP_CUSTOMER_UPDATE] = "customer_update",
	[SB_OP_PAYMENT_METHOD_ATTACH] = "payment_method_attach",
	[SB_OP_SUBSCRIPTION_CREATE] = "subscription_create",
	[SB_OP_SUBSCRIPTION_GET] = "subscription_get",
	[SB_OP_SUBSCRIPTION_LIST] = "subscription_list",
	[SB_OP_SUBSCRIPTION_SEARCH] = "subscription_search",
	[SB_OP_SUBSCRIPTION_UPDATE] = "subscription_update",
	[SB_OP_SUBSCRIPTION_CANCEL] = "subscription_cancel",
	[SB_OP_INVOICE_GET] = "invoice_get",
	[SB_OP_INVOICE_PAY] = "invoice_pay",
	[SB_OP_INVOICE_VOID] = "invoice_void",
	[SB_OP_SOURCE_CREATE] = "source_create",
	[SB_OP_EVENT_LIST] = "event_list",
	[SB_OP_EVENT_GET] = "event_get",
	[SB_OP_NUMBERS_AVAILABLE] = "numbers_available",
	[SB_OP_NUMBER_BUY] = "number_buy",
	[SB_OP_NUMBER_LIST] = "number_list",
	[SB_OP_NUMBER_RELEASE] = "number_release",
};

const char *sb_op_name(enum sb_op op)
{
	return (unsigned)op < SB_OP__MAX ? op_names[op] : NULL;
}

enum sb_op sb_op_lookup(const char *name)
{
	unsigned i;

	for (i = 0; i < SB_OP__MAX; i++)
		if (strcmp(op_names[i], name) == 0)
			return (enum sb_op)i;
	return SB_OP__MAX;
}

/* Matches path against pattern, capturing "*" segments into c->seg.
 * Returns 1 on a match. */
static int match(const char *pattern, const char *path, struct sb_ctx *c)
{
	int nseg = 0;

	while (*pattern && *path) {
		if (*pattern == '*') {
			size_t n = strcspn(path, "/");

			if (n == 0 || n >= SB_SEG_MAX || nseg >= SB_MAX_SEGS)
				return 0;
			memcpy(c->seg[nseg], path, n);
			c->seg[nseg][n] = '\0';
			nseg++;
			pattern++;
			path += n;
			continue;
		}
		if (*pattern != *path)
			return 0;
		pattern++;
		path++;
	}
	return *pattern == '\0' && *path == '\0';
}

static enum sb_vendor vendor_of(const char *path)
{
	if (strncmp(path, "/v1/", 4) == 0)
		return SB_VENDOR_STRIPE;
	if (strncmp(path, "/2010-04-01/", 12) == 0)
		return SB_VENDOR_TWILIO;
	if (strncmp(path, "/_sandbox/", 10) == 0)
		return SB_VENDOR_CONTROL;
	return SB_VENDOR_NONE;
}

static void plain_error(struct sb_ctx *c, int status, const char *message)
{
	c->status = status;
	json_object_put(c->json);
	c->json = json_object_new_object();
	if (c->json != NULL)
		json_object_object_add(c->json, "error", json_object_new_string(message));
}

/* The vendor's error body for a fault or internal failure. */
static void vendor_error(struct sb_ctx *c, enum sb_vendor v, int status)
{
	if (v == SB_VENDOR_STRIPE) {
		if (status == 429)
			sb_stripe_error(c, 429, "invalid_request_error", "rate_limit", NULL,
					"Request rate limit exceeded. Learn more about rate limits "
					"here https://stripe.com/docs/rate-limits.");
		else if (status == 504)
			sb_stripe_error(c, 504, "api_error", NULL, NULL,
					"The request timed out. Please try again.");
		else
			sb_stripe_error(c, status, "api_error", NULL, NULL,
					"Sorry, something went wrong. We've already been notified "
					"of the problem, but if you need any help, you can reach us "
					"at support.stripe.com/contact.");
	} else if (v == SB_VENDOR_TWILIO) {
		if (status == 429)
			sb_twilio_error(c, 429, 20429, "Too Many Requests");
		else if (status == 504)
			sb_twilio_error(c, 504, 20500, "Gateway Timeout");
		else
			sb_twilio_error(c, status, 20500, "Internal Server Error");
	} else {
		plain_error(c, status, "internal error");
	}
}

static void not_found(struct sb_ctx *c, enum sb_vendor v, int wrong_method)
{
	char msg[SB_MAX_PATH + 160];

	if (v == SB_VENDOR_STRIPE) {
		snprintf(msg, sizeof(msg),
			 "Unrecognized request URL (%s: %s). Please see https://stripe.com/docs "
			 "or we can help at https://support.stripe.com/.",
			 c->req->method, c->req->path);
		sb_stripe_error(c, 404, "invalid_request_error", NULL, NULL, msg);
	} else if (v == SB_VENDOR_TWILIO) {
		if (wrong_method) {
			sb_twilio_error(c, 405, 20004, "Method not allowed");
		} else {
			snprintf(msg, sizeof(msg), "The requested resource %s was not found",
				 c->req->path);
			sb_twilio_error(c, 404, 20404, msg);
		}
	} else {
		plain_error(c, wrong_method ? 405 : 404,
			    wrong_method ? "method not allowed" : "not found");
	}
}

static void sleep_ms(long ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !sb_stopping)
		;
}

/* Serialises c->json into resp->body (NULL json = empty body). */
static int serialise(struct sb_ctx *c, struct sb_response *resp)
{
	const char *s;
	size_t n;

	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
	resp->status = c->status;
	if (c->json == NULL)
		return 0;
	s = json_object_to_json_string_length(
		c->json, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	if (s == NULL)
		return -1;
	resp->body = malloc(n + 1);
	if (resp->body == NULL)
		return -1;
	memcpy(resp->body, s, n + 1);
	resp->body_len = n;
	return 0;
}

/* Builds an error through c and serialises it; on allocation failure the
 * body stays empty with the status set. */
static void finish_error(struct sb_ctx *c, struct sb_response *resp, enum sb_vendor v,
			 int status)
{
	vendor_error(c, v, status);
	if (serialise(c, resp) != 0)
		resp->status = status;
}

static void fault_malformed(struct sb_response *resp)
{
	if (resp->body_len >= 2) {
		resp->body_len /= 2;
		resp->body[resp->body_len] = '\0';
	} else {
		char *b = realloc(resp->body, 3);

		if (b == NULL)
			return;
		memcpy(b, "{\"", 3);
		resp->body = b;
		resp->body_len = 2;
	}
	if (resp->status != 200 && resp->status != 201)
		resp->status = 200;
}

static void fault_huge(struct sb_response *resp)
{
	static const char head[] = "{\"sandbox_padding\":\"";
	size_t hl = sizeof(head) - 1;
	int has_obj = resp->body_len >= 2 && resp->body[0] == '{';
	size_t rest = has_obj ? resp->body_len - 1 : 0;
	size_t n = hl + HUGE_PAD + 2 + rest + 1;
	char *b = malloc(n + 1), *p;

	if (b == NULL)
		return;
	p = b;
	memcpy(p, head, hl);
	p += hl;
	memset(p, 'x', HUGE_PAD);
	p += HUGE_PAD;
	*p++ = '"';
	if (has_obj && resp->body[1] != '}') {
		*p++ = ',';
		memcpy(p, resp->body + 1, rest);
		p += rest;
	} else {
		*p++ = '}';
	}
	*p = '\0';
	free(resp->body);
	resp->body = b;
	resp->body_len = (size_t)(p - b);
	if (resp->status != 200 && resp->status != 201)
		resp->status = 200;
}

/* Idempotency keys are echoed in a header: printable ASCII, <= 255. */
static int idem_key_ok(const char *k)
{
	size_t n = 0;

	for (; *k; k++, n++)
		if (*k < 0x20 || *k > 0x7e || n >= 255)
			return 0;
	return n > 0;
}

/* The read path: a GET changes nothing but counters, so unless a fault is
 * armed for its op it runs without the write lock, which several sandbox
 * processes would otherwise take in turn for every request:
 *   BEGIN (deferred: a WAL read snapshot); any fault armed for op?
 *     yes -> end it, return 0: the caller takes run_op's locking path
 *     no  -> handler; end it; one autocommit upsert of calls[op] (and
 *            effects[op]) -- a write lock held for one statement
 * The counters are written before the reply leaves, so a client that has
 * its answer sees them in the ledger.  A fault armed between the check
 * and the handler is as if it had been armed just after this request.
 * Returns 1 when it answered. */
static int run_read(struct sb_ctx *c, const struct route *r, int authed,
		    struct sb_response *resp)
{
	int armed, effect, failed;

	if (!authed) {
		/* Like run_op: counted, and a fault is not consumed. */
		if (sb_control_count(r->op, 0) != 0 || serialise(c, resp) != 0)
			finish_error(c, resp, r->vendor, 500);
		return 1;
	}
	if (sb_db_begin_read() != 0)
		goto internal;
	armed = sb_control_fault_armed(r->op);
	if (armed != 0) {
		sb_db_rollback();
		if (armed < 0)
			goto internal;
		return 0;
	}
	failed = r->fn(c) != 0 || serialise(c, resp) != 0;
	sb_db_rollback(); /* ends the read transaction; it wrote nothing */
	if (failed)
		goto internal;
	effect = (resp->status >= 200 && resp->status < 400) || resp->status == 402;
	if (sb_control_count_call(r->op, effect) != 0)
		goto internal_uncounted;
	return 1;

internal:
	/* The call is counted even when it failed, as in run_op. */
	if (sb_control_count(r->op, 0) != 0)
		fprintf(stderr, "sandbox: cannot count a %s call\n", sb_op_name(r->op));
internal_uncounted:
	finish_error(c, resp, r->vendor, 500);
	return 1;
}

static void run_op(struct sb_ctx *c, const struct route *r, int authed,
		   struct sb_response *resp)
{
	const struct sb_request *req = c->req;
	struct sb_fault f = { SB_FAULT_NONE, 0 };
	int use_idem = r->vendor == SB_VENDOR_STRIPE && strcmp(req->method, "POST") == 0 &&
		       req->idem_key != NULL && req->idem_key[0] != '\0';
	int effect;

	if (sb_db_begin() != 0)
		goto internal;
	if (sb_control_count(r->op, 0) != 0)
		goto internal_rb;
	if (!authed || (use_idem && !idem_key_ok(req->idem_key))) {
		if (sb_db_commit() != 0)
			goto internal;
		if (authed)
			sb_stripe_error(c, 400, "idempotency_error", NULL, NULL,
					"Invalid Idempotency-Key: it must be 1 to 255 printable "
					"ASCII characters.");
		if (serialise(c, resp) != 0)
			goto internal;
		return;
	}
	if (use_idem) {
		size_t n = strlen(req->idem_key);

		memcpy(resp->idem_key, req->idem_key, n + 1);
	}
	if (sb_control_take_fault(r->op, &f) != 0)
		goto internal_rb;
	c->fault = f.kind; /* "foreign" is applied by the handler itself */
	switch (f.kind) {
	case SB_FAULT_TIMEOUT_BEFORE:
	case SB_FAULT_500:
	case SB_FAULT_429:
		if (sb_db_commit() != 0)
			goto internal;
		if (f.kind == SB_FAULT_TIMEOUT_BEFORE)
			sleep_ms(f.delay_ms);
		if (f.kind == SB_FAULT_429)
			resp->retry_after = 1;
		finish_error(c, resp, r->vendor,
			     f.kind == SB_FAULT_TIMEOUT_BEFORE ? 504 :
			     f.kind == SB_FAULT_429		 ? 429 :
								   500);
		return;
	case SB_FAULT_DELAY:
		if (sb_db_commit() != 0)
			goto internal;
		sleep_ms(f.delay_ms);
		if (sb_db_begin() != 0)
			goto internal;
		break;
	default:
		break;
	}

	if (use_idem) {
		char *body = NULL;
		size_t len = 0;
		int status = 0;
		char msg[512];

		switch (sb_idem_lookup(req, &status, &body, &len)) {
		case SB_IDEM_REPLAY:
			if (sb_db_commit() != 0) {
				free(body);
				goto internal;
			}
			free(resp->body);
			resp->body = body;
			resp->body_len = len;
			resp->status = status;
			resp->replayed = 1;
			goto after;
		case SB_IDEM_MISMATCH:
			if (sb_db_commit() != 0)
				goto internal;
			snprintf(msg, sizeof(msg),
				 "Keys for idempotent requests can only be used with the same "
				 "parameters they were first used with. Try using a key other "
				 "than '%s' if you meant to execute a different request.",
				 req->idem_key);
			sb_stripe_error(c, 400, "idempotency_error", NULL, NULL, msg);
			if (serialise(c, resp) != 0)
				goto internal;
			return;
		case SB_IDEM_NONE:
			break;
		default:
			goto internal_rb;
		}
	}

	/* A handler that answers with an error (other than a 402 decline,
	 * which records the attempt) leaves no trace: its writes are undone,
	 * the call counter and the consumed fault stay. */
	if (sb_db_savepoint() != 0)
		goto internal_rb;
	if (r->fn(c) != 0 || serialise(c, resp) != 0) {
		if (sb_db_undo() != 0 || sb_db_commit() != 0)
			goto internal_rb;
		goto internal;
	}
	effect = (resp->status >= 200 && resp->status < 400) || resp->status == 402;
	if (!effect && sb_db_undo() != 0)
		goto internal_rb;
	if (effect && sb_control_count(r->op, 1) != 0)
		goto internal_rb;
	if (use_idem && effect && !c->no_store &&
	    sb_idem_store(req, resp->status, resp->body, resp->body_len) != 0)
		goto internal_rb;
	if (sb_db_commit() != 0)
		goto internal;

after:
	switch (f.kind) {
	case SB_FAULT_TIMEOUT_AFTER:
		sleep_ms(f.delay_ms);
		break;
	case SB_FAULT_500_AFTER:
		finish_error(c, resp, r->vendor, 500);
		break;
	case SB_FAULT_MALFORMED:
		fault_malformed(resp);
		break;
	case SB_FAULT_HUGE:
		fault_huge(resp);
		break;
	default:
		break;
	}
	return;

internal_rb:
	sb_db_rollback();
internal:
	resp->replayed = 0;
	finish_error(c, resp, r->vendor, 500);
}

static int check_auth(struct sb_ctx *c, const struct route *r, struct sb_response *resp)
{
	const struct sb_config *cfg = c->cfg;
	const char *auth = c->req->authorization;

	if (r->vendor == SB_VENDOR_STRIPE) {
		char masked[64], msg[160];

		if (sb_auth_bearer(auth, cfg->stripe_key))
			return 1;
		if (auth == NULL || auth[0] == '\0') {
			sb_stripe_error(c, 401, "invalid_request_error", NULL, NULL,
					"You did not provide an API key. You need to provide your "
					"API key in the Authorization header, using Bearer auth "
					"(e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
					"https://stripe.com/docs/api#authentication for details, or "
					"we can help at https://support.stripe.com/.");
			return 0;
		}
		sb_auth_mask_bearer(auth, masked, sizeof(masked));
		snprintf(msg, sizeof(msg), "Invalid API Key provided: %s", masked);
		sb_stripe_error(c, 401, "invalid_request_error", NULL, NULL, msg);
		return 0;
	}
	if (r->vendor == SB_VENDOR_TWILIO) {
		/* The account in the path must be the authenticated one. */
		if (sb_auth_basic(auth, cfg->twilio_sid, cfg->twilio_token) &&
		    strcmp(c->seg[0], cfg->twilio_sid) == 0)
			return 1;
		sb_twilio_error(c, 401, 20003, "Authenticate");
		resp->www_auth = 1;
		return 0;
	}
	return 1;
}

void sb_route_handle(const struct sb_config *cfg, const struct sb_request *req,
		     struct sb_response *resp)
{
	struct sb_ctx c;
	const struct route *r = NULL;
	enum sb_vendor v = vendor_of(req->path);
	int path_matched = 0, authed;
	size_t i;

	memset(&c, 0, sizeof(c));
	c.cfg = cfg;
	c.req = req;
	c.request_id = resp->request_id;
	resp->status = 500;
	resp->vendor = v;
	if (v == SB_VENDOR_TWILIO)
		sb_id_new_hex(resp->request_id, sizeof(resp->request_id), "RQ", 32);
	else
		sb_id_new(resp->request_id, sizeof(resp->request_id), "req_", 14);
	sb_clock_forget(); /* the clock's offset is read afresh per request */

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!match(routes[i].pattern, req->path, &c))
			continue;
		path_matched = 1;
		if (strcmp(routes[i].method, req->method) == 0) {
			r = &routes[i];
			break;
		}
	}
	if (r == NULL) {
		not_found(&c, v, path_matched);
		serialise(&c, resp);
		goto out;
	}

	/* Parameters: the form body for POST, else the query string. */
	if (strcmp(req->method, "POST") == 0 && r->vendor != SB_VENDOR_CONTROL) {
		const char *ct = req->content_type;

		if (req->body_len > 0 &&
		    (ct == NULL ||
		     strncmp(ct, "application/x-www-form-urlencoded", 33) != 0)) {
			if (r->vendor == SB_VENDOR_STRIPE)
				sb_stripe_error(&c, 400, "invalid_request_error", NULL, NULL,
						"Invalid request: the body must be "
						"application/x-www-form-urlencoded.");
			else
				sb_twilio_error(&c, 400, 20001,
						"Invalid request: the body must be "
						"application/x-www-form-urlencoded.");
			serialise(&c, resp);
			goto out;
		}
		if (sb_form_parse(&c.form, req->body, req->body_len) != 0)
			goto bad_params;
	} else if (r->vendor != SB_VENDOR_CONTROL) {
		if (sb_form_parse(&c.form, req->query, strlen(req->query)) != 0)
			goto bad_params;
	}

	if (r->vendor == SB_VENDOR_CONTROL && own_txn(r)) {
		if (r->fn(&c) != 0 || serialise(&c, resp) != 0)
			finish_error(&c, resp, v, 500);
		goto out;
	}
	if (r->vendor == SB_VENDOR_CONTROL) {
		if (sb_db_begin() != 0 || r->fn(&c) != 0 || serialise(&c, resp) != 0) {
			sb_db_rollback();
			finish_error(&c, resp, v, 500);
		} else if (sb_db_commit() != 0) {
			finish_error(&c, resp, v, 500);
		}
		goto out;
	}

	authed = check_auth(&c, r, resp);
	if (strcmp(req->method, "GET") != 0 || !run_read(&c, r, authed, resp))
		run_op(&c, r, authed, resp);
	goto out;

bad_params:
	if (r->vendor == SB_VENDOR_STRIPE)
		sb_stripe_error(&c, 400, "invalid_request_error", NULL, NULL,
				"Invalid request: malformed or oversized form encoding.");
	else
		sb_twilio_error(&c, 400, 20001,
				"Invalid request: malformed or oversized form encoding.");
	serialise(&c, resp);
out:
	sb_form_free(&c.form);
	json_object_put(c.json);
}
