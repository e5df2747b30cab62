/*
 * events.c -- Stripe events (API version 2023-08-16,
 * ../shared/specs/stripe_spec3.yaml, schema "event"):
 *
 *   GET /v1/events        list [limit, starting_after, ending_before, type
 *                         (with '*' wildcards), types[], created[...]]
 *   GET /v1/events/{id}   retrieve
 *
 * An event is recorded by sb_event_emit() in the same transaction as the
 * change that causes it, so a request whose writes are rolled back (an
 * error reply, a fault before the work, an idempotent replay) leaves no
 * event.  Its JSON is built once and stored: those exact bytes are what a
 * webhook delivery posts (webhooks.c).  The object shape, in Stripe's key
 * order: id "evt_...", object "event", api_version, created (sandbox
 * clock), data {object (snapshot of the object at that moment),
 * previous_attributes (for *.updated)}, livemode false, pending_webhooks
 * (1 when a webhook endpoint was configured at creation, else 0; the API
 * shows the current count), request {id (the causing request's
 * Request-Id, null for automatic billing), idempotency_key}, type.
 *
 * Types the sandbox emits: customer.updated, customer.subscription.created,
 * customer.subscription.updated, customer.subscription.deleted,
 * invoice.paid, invoice.payment_succeeded, invoice.payment_failed,
 * invoice.voided.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "sandbox.h"

#define LIST_MAX 100
#define TYPES_MAX 20
#define TYPE_MAX 100

static unsigned emitted;

int sb_events_take_emitted(void)
{
	int r = emitted != 0;

	emitted = 0;
	return r;
}

/* 1 if a webhook endpoint is configured, 0 if not, -1 on error. */
static int endpoint_configured(void)
{
	sqlite3_stmt *st = sb_db_stmt(SB_ST_WH_GET);
	int rc;

	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int sb_event_emit(const struct sb_ctx *c, const char *type, const char *object_id,
		  json_object *obj, json_object *prev)
{
	json_object *e = NULL, *data = NULL, *rq = NULL;
	char id[SB_ID_MAX];
	const char *s, *key = c != NULL ? c->req->idem_key : NULL;
	sqlite3_stmt *st;
	size_t n;
	int pending, res = -1;

	if (obj == NULL)
		goto out;
	pending = endpoint_configured();
	if (pending < 0)
		goto out;
	e = json_object_new_object();
	data = json_object_new_object();
	rq = json_object_new_object();
	if (e == NULL || data == NULL || rq == NULL)
		goto out;
	sb_id_new(id, sizeof(id), "evt_", 24);
	json_object_object_add(e, "id", json_object_new_string(id));
	json_object_object_add(e, "object", json_object_new_string("event"));
	json_object_object_add(e, "api_version", json_object_new_string(SB_API_VERSION));
	json_object_object_add(e, "created", json_object_new_int64(sb_clock_now()));
	json_object_object_add(data, "object", obj);
	obj = NULL;
	if (prev != NULL) {
		json_object_object_add(data, "previous_attributes", prev);
		prev = NULL;
	}
	json_object_object_add(e, "data", data);
	data = NULL;
	json_object_object_add(e, "livemode", json_object_new_boolean(0));
	json_object_object_add(e, "pending_webhooks", json_object_new_int(pending));
	json_object_object_add(rq, "id", c != NULL ? json_object_new_string(c->request_id) : NULL);
	json_object_object_add(rq, "idempotency_key",
			       key != NULL && key[0] != '\0' ? json_object_new_string(key) : NULL);
	json_object_object_add(e, "request", rq);
	rq = NULL;
	json_object_object_add(e, "type", json_object_new_string(type));
	s = json_object_to_json_string_length(e, JSON_C_TO_STRING_PLAIN |
						 JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	st = sb_db_stmt(SB_ST_EVT_INS);
	if (s == NULL || st == NULL)
		goto out;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, sb_clock_now());
	if (object_id != NULL)
		sqlite3_bind_text(st, 4, object_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 5, s, (int)n, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 6, pending);
	if (sb_db_done(st) != 0)
		goto out;
	emitted++;
	res = 0;
out:
	json_object_put(e);
	json_object_put(data);
	json_object_put(rq);
	json_object_put(obj);
	json_object_put(prev);
	return res;
}

/* A stored event as the API shows it: pending_webhooks is the count now. */
static json_object *event_object(sqlite3_stmt *st, int payload_col, int pending_col)
{
	struct json_tokener *tok = json_tokener_new();
	json_object *o;

	if (tok == NULL)
		return NULL;
	o = json_tokener_parse_ex(tok, sqlite3_column_blob(st, payload_col),
				  sqlite3_column_bytes(st, payload_col));
	json_tokener_free(tok);
	if (o != NULL)
		json_object_object_add(o, "pending_webhooks",
				       json_object_new_int(sqlite3_column_int(st, pending_col)));
	return o;
}

/* GET /v1/events/{id}: 200 event; 404 resource_missing. */
int sb_stripe_event_get(struct sb_ctx *c)
{
	sqlite3_stmt *st = sb_db_stmt(SB_ST_EVT_GET);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, c->seg[0], -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		c->json = event_object(st, 1, 2);
		sqlite3_reset(st);
		if (c->json == NULL)
			return -1;
		c->status = 200;
		return 0;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return -1;
	sb_stripe_missing(c, 404, "event", c->seg[0], "id");
	return 0;
}

/* Parses a whole-string decimal integer; 0 or -1. */
static int parse_ll(const char *s, long long *out)
{
	char *end = NULL;

	if (s == NULL || *s == '\0')
		return -1;
	*out = strtoll(s, &end, 10);
	return *end == '\0' ? 0 : -1;
}

/* created, created[gt|gte|lt|lte] into the closed range [*lo, *hi];
 * 0, or 1 with an error reply. */
static int created_range(struct sb_ctx *c, long long *lo, long long *hi)
{
	static const char *const ops[] = { "gt", "gte", "lt", "lte" };
	size_t i, n;
	long long v;

	*lo = INT64_MIN;
	*hi = INT64_MAX;
	for (i = 0; i < c->form.n; i++) {
		const char *k = c->form.pairs[i].key, *inner;
		unsigned j;

		if (strcmp(k, "created") == 0) {
			if (parse_ll(c->form.pairs[i].val, &v) != 0)
				goto bad;
			*lo = v > *lo ? v : *lo;
			*hi = v < *hi ? v : *hi;
			continue;
		}
		inner = sb_form_bracket(k, "created", &n);
		if (inner == NULL) {
			if (strncmp(k, "created[", 8) == 0)
				goto bad;
			continue;
		}
		for (j = 0; j < 4; j++)
			if (strlen(ops[j]) == n && strncmp(inner, ops[j], n) == 0)
				break;
		if (j == 4 || parse_ll(c->form.pairs[i].val, &v) != 0 || v == INT64_MIN ||
		    v == INT64_MAX)
			goto bad;
		if (j == 0 && v + 1 > *lo)
			*lo = v + 1;
		if (j == 1 && v > *lo)
			*lo = v;
		if (j == 2 && v - 1 < *hi)
			*hi = v - 1;
		if (j == 3 && v < *hi)
			*hi = v;
	}
	return 0;
bad:
	sb_stripe_error(c, 400, "invalid_request_error", NULL, "created",
			"Invalid created: an integer, or created[gt], created[gte], "
			"created[lt], created[lte] integers.");
	return 1;
}

/* Event type names and patterns: [a-z0-9_.*], 1..TYPE_MAX characters. */
static int type_ok(const char *s, int wildcard)
{
	size_t n = strlen(s);

	return n > 0 && n <= TYPE_MAX &&
	       strspn(s, wildcard ? "abcdefghijklmnopqrstuvwxyz0123456789_.*" :
				    "abcdefghijklmnopqrstuvwxyz0123456789_.") == n;
}

/* The seq of event id (a cursor); 1 found, 0 missing, -1 error. */
static int cursor_seq(const char *id, long long *seq)
{
	sqlite3_stmt *st = sb_db_stmt(SB_ST_EVT_GET);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*seq = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* GET /v1/events: 200 list object (url "/v1/events"), newest first;
 * has_more when more events match beyond this page (older ones, or with
 * ending_before newer ones).  400 invalid_request_error for a bad limit
 * (1..100), both cursors, an unknown cursor (resource_missing), a bad type
 * or types[] (at most 20; not both), a bad created filter. */
int sb_stripe_event_list(struct sb_ctx *c)
{
	const char *lim = sb_form_get(&c->form, "limit");
	const char *after = sb_form_get(&c->form, "starting_after");
	const char *before = sb_form_get(&c->form, "ending_before");
	const char *type = sb_form_get(&c->form, "type");
	const char *types[TYPES_MAX];
	json_object *page[LIST_MAX], *res = NULL, *data = NULL;
	long long limit = 10, lo_seq = -1, hi_seq = INT64_MAX, c_lo, c_hi;
	size_t i, ntypes = 0;
	int rc, n = 0, more = 0, asc = before != NULL;
	sqlite3_stmt *st;

	if (lim != NULL && (parse_ll(lim, &limit) != 0 || limit < 1 || limit > LIST_MAX)) {
		sb_stripe_error(c, 400, "invalid_request_error", NULL, "limit",
				"Invalid integer: limit must be between 1 and 100.");
		return 0;
	}
	if (after != NULL && before != NULL) {
		sb_stripe_error(c, 400, "invalid_request_error", NULL, "ending_before",
				"You may only specify one of these parameters: "
				"ending_before, starting_after.");
		return 0;
	}
	for (i = 0; i < c->form.n; i++) {
		if (!sb_form_is_array_key(c->form.pairs[i].key, "types"))
			continue;
		if (ntypes == TYPES_MAX || !type_ok(c->form.pairs[i].val, 0)) {
			sb_stripe_error(c, 400, "invalid_request_error", NULL, "types",
					"Invalid types: at most 20 event type names.");
			return 0;
		}
		types[ntypes++] = c->form.pairs[i].val;
	}
	if (type != NULL && (!type_ok(type, 1) || ntypes > 0)) {
		sb_stripe_error(c, 400, "invalid_request_error", NULL, "type",
				ntypes > 0 ? "You may pass either type or types, but not both." :
					     "Invalid type: an event type, '*' for wildcards.");
		return 0;
	}
	if (created_range(c, &c_lo, &c_hi))
		return 0;
	if (after != NULL || before != NULL) {
		const char *cur = after != NULL ? after : before;
		long long seq = 0;

		rc = strlen(cur) < SB_ID_MAX ? cursor_seq(cur, &seq) : 0;
		if (rc < 0)
			return -1;
		if (rc == 0) {
			sb_stripe_missing(c, 400, "event", cur,
					  after != NULL ? "starting_after" : "ending_before");
			return 0;
		}
		if (after != NULL)
			hi_seq = seq;
		else
			lo_seq = seq;
	}

	st = sb_db_stmt(asc ? SB_ST_EVT_LIST_ASC : SB_ST_EVT_LIST_DESC);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, hi_seq);
	sqlite3_bind_int64(st, 2, lo_seq);
	if (type != NULL)
		sqlite3_bind_text(st, 3, type, -1, SQLITE_TRANSIENT); /* '*' is GLOB's */
	sqlite3_bind_int64(st, 4, c_lo);
	sqlite3_bind_int64(st, 5, c_hi);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 2);

		if (ntypes > 0) {
			for (i = 0; i < ntypes; i++)
				if (strcmp(types[i], t) == 0)
					break;
			if (i == ntypes)
				continue;
		}
		if (n == limit) {
			more = 1;
			break;
		}
		page[n] = event_object(st, 3, 4);
		if (page[n] == NULL)
			break;
		n++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		goto fail;
	if (rc == SQLITE_ROW && !more)
		goto fail; /* event_object failed */
	res = json_object_new_object();
	data = json_object_new_array();
	if (res == NULL || data == NULL)
		goto fail;
	for (i = 0; i < (size_t)n; i++)
		json_object_array_add(data, page[asc ? (size_t)n - 1 - i : i]);
	n = 0;
	json_object_object_add(res, "object", json_object_new_string("list"));
	json_object_object_add(res, "data", data);
	json_object_object_add(res, "has_more", json_object_new_boolean(more));
	json_object_object_add(res, "url", json_object_new_string("/v1/events"));
	c->json = res;
	c->status = 200;
	return 0;
fail:
	for (i = 0; i < (size_t)n; i++)
		json_object_put(page[i]);
	json_object_put(res);
	json_object_put(data);
	return -1;
}
