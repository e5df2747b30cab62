/*
 * control.c -- the sandbox's own endpoints under /_sandbox/ (no auth; the
 * sandbox listens on loopback only), JSON in and out, and the per-op call
 * and effect counters and fault queue the router uses:
 *
 *   POST   /_sandbox/reset          wipe all state (clock and webhook
 *                                   endpoint included)   200 {"ok":true}
 *   POST   /_sandbox/faults         {"op","fault","count","delay_ms"}
 *   DELETE /_sandbox/faults         clear all faults
 *   POST   /_sandbox/numbers/taken  {"phone_number":"+1..."}
 *   POST   /_sandbox/prices         {"id":"price_...","unit_amount":115}
 *   GET    /_sandbox/ledger         everything the tests assert on
 *   GET    /_sandbox/clock          {"now": unix, "offset": s}  (clock.c)
 *   POST   /_sandbox/clock          {"advance": s} -> {"now","offset","steps"}
 *   POST|GET|DELETE /_sandbox/webhooks, GET /_sandbox/webhooks/pending,
 *   POST   /_sandbox/webhooks/deliver               (webhooks.c)
 *
 * Faults queue per op in arrival order; each is consumed "count" times
 * (-1: until cleared).  Consumption runs inside the request's
 * BEGIN IMMEDIATE transaction, so two processes never share one.  Kinds:
 * timeout_before, timeout_after, 500, 500_after, 429, malformed, huge,
 * delay, and foreign (numbers_available only: the list gains one number
 * of another country and one entry whose phone_number is not E.164).
 *
 * Billing schedule (billing.c, sb_billing_run), run when the clock is
 * advanced, in time order, each step stamped with its own moment:
 *   - an incomplete subscription 23 h after it was created becomes
 *     incomplete_expired (canceled_at = ended_at = that moment) and its
 *     open invoice is voided;
 *   - at current_period_end (periods are 30 days) of an active or
 *     past_due subscription: with cancel_at_period_end it is canceled
 *     (ended_at = the period end, cancellation_details.reason
 *     "cancellation_requested", open invoices voided); otherwise a
 *     renewal invoice (billing_reason subscription_cycle, the
 *     subscription's price amount) is created, the period advances 30
 *     days and the invoice is charged (payment method order: subscription
 *     default_payment_method, subscription default_source, customer
 *     invoice_settings.default_payment_method, customer default_source):
 *     paid -> active; declined -> the invoice stays open (attempt_count 1,
 *     next_payment_attempt + 3 days) and the subscription is past_due;
 *   - an open invoice's next_payment_attempt: charged again; paid ->
 *     active; declined -> retried 3 days later, and after the 4th attempt
 *     in all (manual ones included) the subscription is canceled
 *     (reason "payment_failed", the invoice voided), as Stripe's "cancel
 *     the subscription if all retries fail" setting.
 * One advance may renew a subscription several times.
 */
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "sandbox.h"

#define DEFAULT_TIMEOUT_MS 3000
#define MAX_DELAY_MS 600000

static const char *const kind_names[SB_FAULT__MAX] = {
	[SB_FAULT_NONE] = "none",
	[SB_FAULT_TIMEOUT_BEFORE] = "timeout_before",
	[SB_FAULT_TIMEOUT_AFTER] = "timeout_after",
	[SB_FAULT_500] = "500",
	[SB_FAULT_500_AFTER] = "500_after",
	[SB_FAULT_429] = "429",
	[SB_FAULT_MALFORMED] = "malformed",
	[SB_FAULT_HUGE] = "huge",
	[SB_FAULT_DELAY] = "delay",
	[SB_FAULT_FOREIGN] = "foreign",
};

static enum sb_fault_kind kind_lookup(const char *s)
{
	unsigned i;

	for (i = 1; i < SB_FAULT__MAX; i++)
		if (strcmp(kind_names[i], s) == 0)
			return (enum sb_fault_kind)i;
	return SB_FAULT_NONE;
}

int sb_control_reply_ok(struct sb_ctx *c)
{
	c->json = json_object_new_object();
	if (c->json == NULL)
		return -1;
	json_object_object_add(c->json, "ok", json_object_new_boolean(1));
	c->status = 200;
	return 0;
}

void sb_control_bad_request(struct sb_ctx *c, int status, const char *message)
{
	json_object_put(c->json);
	c->json = json_object_new_object();
	if (c->json != NULL)
		json_object_object_add(c->json, "error", json_object_new_string(message));
	c->status = status;
}

static void bad_request(struct sb_ctx *c, const char *message)
{
	sb_control_bad_request(c, 400, message);
}

/* Parses the body as one JSON object (strict, shallow, nothing trailing);
 * NULL with a 400 reply set otherwise.  Caller puts the result. */
json_object *sb_control_parse_body(struct sb_ctx *c)
{
	struct json_tokener *tok = json_tokener_new_ex(4);
	json_object *o = NULL;

	if (tok == NULL)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, c->req->body, (int)c->req->body_len);
	if (o == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != c->req->body_len ||
	    !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
		bad_request(c, "body must be one JSON object");
	}
	json_tokener_free(tok);
	return o;
}

/* Checks that o has only the listed keys; 0 or -1 with a 400 reply. */
int sb_control_only_keys(struct sb_ctx *c, json_object *o, const char *const *keys, size_t n)
{
	json_object_object_foreach(o, k, v)
	{
		size_t i;

		(void)v;
		for (i = 0; i < n; i++)
			if (strcmp(k, keys[i]) == 0)
				break;
		if (i == n) {
			bad_request(c, "unknown key in body");
			return -1;
		}
	}
	return 0;
}

int sb_control_count(enum sb_op op, int effect)
{
	sqlite3_stmt *st = sb_db_stmt(effect ? SB_ST_EFFECT_INC : SB_ST_CALL_INC);

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, sb_op_name(op), -1, SQLITE_STATIC);
	return sb_db_done(st);
}

int sb_control_count_call(enum sb_op op, int effect)
{
	sqlite3_stmt *st = sb_db_stmt(effect ? SB_ST_CALL_EFFECT_INC : SB_ST_CALL_INC);

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, sb_op_name(op), -1, SQLITE_STATIC);
	return sb_db_done(st);
}

int sb_control_fault_armed(enum sb_op op)
{
	sqlite3_stmt *st = sb_db_stmt(SB_ST_FAULT_FIRST);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, sb_op_name(op), -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int sb_control_take_fault(enum sb_op op, struct sb_fault *f)
{
	sqlite3_stmt *st = sb_db_stmt(SB_ST_FAULT_FIRST);
	sqlite3_int64 id, remaining;
	int rc;

	f->kind = SB_FAULT_NONE;
	f->delay_ms = 0;
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, sb_op_name(op), -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? 0 : -1;
	}
	id = sqlite3_column_int64(st, 0);
	f->kind = kind_lookup((const char *)sqlite3_column_text(st, 1));
	remaining = sqlite3_column_int64(st, 2);
	f->delay_ms = (long)sqlite3_column_int64(st, 3);
	sqlite3_reset(st);
	if (remaining < 0)
		return 0; /* every time until cleared */
	st = sb_db_stmt(remaining <= 1 ? SB_ST_FAULT_DEL : SB_ST_FAULT_DEC);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	return sb_db_done(st);
}

/* POST /_sandbox/reset: 200. */
int sb_control_reset(struct sb_ctx *c)
{
	if (sb_db_wipe() != 0)
		return -1;
	sb_clock_forget();
	return sb_control_reply_ok(c);
}

/* POST /_sandbox/faults: 200 with the armed fault; 400 bad body. */
int sb_control_faults_set(struct sb_ctx *c)
{
	static const char *const keys[] = { "op", "fault", "count", "delay_ms" };
	json_object *o = sb_control_parse_body(c), *v;
	enum sb_op op;
	enum sb_fault_kind kind;
	int64_t count = 1, delay;
	sqlite3_stmt *st;
	int res = 0;

	if (o == NULL)
		return c->json != NULL ? 0 : -1;
	if (sb_control_only_keys(c, o, keys, 4) != 0)
		goto out;
	if (!json_object_object_get_ex(o, "op", &v) || !json_object_is_type(v, json_type_string) ||
	    (op = sb_op_lookup(json_object_get_string(v))) == SB_OP__MAX) {
		bad_request(c, "\"op\" must be one of the operation names");
		goto out;
	}
	if (!json_object_object_get_ex(o, "fault", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    (kind = kind_lookup(json_object_get_string(v))) == SB_FAULT_NONE) {
		bad_request(c, "\"fault\" must be timeout_before, timeout_after, 500, "
			       "500_after, 429, malformed, huge, delay or foreign");
		goto out;
	}
	if (kind == SB_FAULT_FOREIGN && op != SB_OP_NUMBERS_AVAILABLE) {
		bad_request(c, "\"foreign\" applies to numbers_available only");
		goto out;
	}
	if (json_object_object_get_ex(o, "count", &v)) {
		if (!json_object_is_type(v, json_type_int) ||
		    ((count = json_object_get_int64(v)) < 1 && count != -1)) {
			bad_request(c, "\"count\" must be a positive integer or -1");
			goto out;
		}
	}
	delay = kind == SB_FAULT_TIMEOUT_BEFORE || kind == SB_FAULT_TIMEOUT_AFTER ?
			DEFAULT_TIMEOUT_MS :
			0;
	if (json_object_object_get_ex(o, "delay_ms", &v)) {
		if (!json_object_is_type(v, json_type_int) ||
		    (delay = json_object_get_int64(v)) < 0 || delay > MAX_DELAY_MS) {
			bad_request(c, "\"delay_ms\" must be an integer from 0 to 600000");
			goto out;
		}
	}
	st = sb_db_stmt(SB_ST_FAULT_INS);
	if (st == NULL) {
		res = -1;
		goto out;
	}
	sqlite3_bind_text(st, 1, sb_op_name(op), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, kind_names[kind], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, count);
	sqlite3_bind_int64(st, 4, delay);
	if (sb_db_done(st) != 0 || sb_control_reply_ok(c) != 0) {
		res = -1;
		goto out;
	}
	json_object_object_add(c->json, "op", json_object_new_string(sb_op_name(op)));
	json_object_object_add(c->json, "fault", json_object_new_string(kind_names[kind]));
	json_object_object_add(c->json, "count", json_object_new_int64(count));
	json_object_object_add(c->json, "delay_ms", json_object_new_int64(delay));
out:
	json_object_put(o);
	return res;
}

/* DELETE /_sandbox/faults: 200. */
int sb_control_faults_clear(struct sb_ctx *c)
{
	if (sb_db_done(sb_db_stmt(SB_ST_FAULT_CLEAR)) != 0)
		return -1;
	return sb_control_reply_ok(c);
}

/* POST /_sandbox/numbers/taken {"phone_number":"+..."}: 200; 400. */
int sb_control_taken(struct sb_ctx *c)
{
	static const char *const keys[] = { "phone_number" };
	json_object *o = sb_control_parse_body(c), *v;
	const char *pn;
	struct sb_number n;
	sqlite3_stmt *st;
	int res = 0;

	if (o == NULL)
		return c->json != NULL ? 0 : -1;
	if (sb_control_only_keys(c, o, keys, 1) != 0)
		goto out;
	if (!json_object_object_get_ex(o, "phone_number", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    (pn = json_object_get_string(v))[0] != '+' || strlen(pn) > 16 ||
	    strspn(pn + 1, "0123456789") != strlen(pn + 1)) {
		bad_request(c, "\"phone_number\" must be an E.164 string");
		goto out;
	}
	st = sb_db_stmt(SB_ST_TAKEN_INS);
	if (st == NULL || (sqlite3_bind_text(st, 1, pn, -1, SQLITE_TRANSIENT), sb_db_done(st)) != 0) {
		res = -1;
		goto out;
	}
	if (sb_numbers_lookup(pn, &n) == 0 && sb_twilio_mark_unavailable(&n) != 0) {
		res = -1;
		goto out;
	}
	res = sb_control_reply_ok(c);
out:
	json_object_put(o);
	return res;
}

/* POST /_sandbox/prices {"id":"price_...","unit_amount":N}: 200; 400. */
int sb_control_prices(struct sb_ctx *c)
{
	static const char *const keys[] = { "id", "unit_amount" };
	json_object *o = sb_control_parse_body(c), *id, *amt;
	sqlite3_stmt *st;
	int res = 0;

	if (o == NULL)
		return c->json != NULL ? 0 : -1;
	if (sb_control_only_keys(c, o, keys, 2) != 0)
		goto out;
	if (!json_object_object_get_ex(o, "id", &id) || !json_object_is_type(id, json_type_string) ||
	    strncmp(json_object_get_string(id), "price_", 6) != 0 ||
	    strlen(json_object_get_string(id)) >= SB_ID_MAX ||
	    !json_object_object_get_ex(o, "unit_amount", &amt) ||
	    !json_object_is_type(amt, json_type_int) || json_object_get_int64(amt) < 0 ||
	    json_object_get_int64(amt) > 99999999) {
		bad_request(c, "need \"id\" (price_...) and \"unit_amount\" (cents)");
		goto out;
	}
	st = sb_db_stmt(SB_ST_PRICE_PUT);
	if (st == NULL) {
		res = -1;
		goto out;
	}
	sqlite3_bind_text(st, 1, json_object_get_string(id), -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, json_object_get_int64(amt));
	res = sb_db_done(st) != 0 ? -1 : sb_control_reply_ok(c);
out:
	json_object_put(o);
	return res;
}

static json_object *col_str(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ?
		       NULL :
		       json_object_new_string((const char *)sqlite3_column_text(st, i));
}

static json_object *col_int(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ?
		       NULL :
		       json_object_new_int64(sqlite3_column_int64(st, i));
}

/* Runs a ledger query (st, bound by the caller or from rows()), adding
 * one object per row built by fn. */
static int rows_of(sqlite3_stmt *st, json_object *arr, json_object *(*fn)(sqlite3_stmt *st))
{
	int rc;

	if (st == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_object *o = fn(st);

		if (o == NULL) {
			sqlite3_reset(st);
			return -1;
		}
		json_object_array_add(arr, o);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int rows(enum sb_stmt id, json_object *arr, json_object *(*fn)(sqlite3_stmt *st))
{
	return rows_of(sb_db_stmt(id), arr, fn);
}

static json_object *cus_row(sqlite3_stmt *st)
{
	json_object *o = json_object_new_object();

	if (o != NULL) {
		json_object_object_add(o, "id", col_str(st, 0));
		json_object_object_add(o, "default_payment_method", col_str(st, 1));
		json_object_object_add(o, "default_source", col_str(st, 2));
	}
	return o;
}

static json_object *sub_row(sqlite3_stmt *st)
{
	json_object *o = json_object_new_object(), *meta = json_object_new_object();
	sqlite3_stmt *ms = sb_db_stmt(SB_ST_META_LIST);

	if (o == NULL || meta == NULL || ms == NULL) {
		json_object_put(o);
		json_object_put(meta);
		return NULL;
	}
	json_object_object_add(o, "id", col_str(st, 0));
	json_object_object_add(o, "customer", col_str(st, 1));
	json_object_object_add(o, "status", col_str(st, 2));
	json_object_object_add(o, "price", col_str(st, 3));
	sqlite3_bind_text(ms, 1, (const char *)sqlite3_column_text(st, 0), -1, SQLITE_TRANSIENT);
	while (sqlite3_step(ms) == SQLITE_ROW)
		json_object_object_add(meta, (const char *)sqlite3_column_text(ms, 0),
				       col_str(ms, 1));
	sqlite3_reset(ms);
	json_object_object_add(o, "metadata", meta);
	json_object_object_add(o, "latest_invoice", col_str(st, 4));
	json_object_object_add(o, "cancel_at_period_end",
			       json_object_new_boolean(sqlite3_column_int(st, 5)));
	json_object_object_add(o, "default_payment_method", col_str(st, 6));
	json_object_object_add(o, "default_source", col_str(st, 7));
	json_object_object_add(o, "created", col_int(st, 8));
	json_object_object_add(o, "current_period_start", col_int(st, 9));
	json_object_object_add(o, "current_period_end", col_int(st, 10));
	json_object_object_add(o, "canceled_at", col_int(st, 11));
	json_object_object_add(o, "ended_at", col_int(st, 12));
	json_object_object_add(o, "cancellation_reason", col_str(st, 13));
	return o;
}

static json_object *inv_row(sqlite3_stmt *st)
{
	json_object *o = json_object_new_object();

	if (o != NULL) {
		json_object_object_add(o, "id", col_str(st, 0));
		json_object_object_add(o, "subscription", col_str(st, 1));
		json_object_object_add(o, "status", col_str(st, 2));
		json_object_object_add(o, "paid", json_object_new_boolean(
			strcmp((const char *)sqlite3_column_text(st, 2), "paid") == 0));
		json_object_object_add(o, "amount_due", col_int(st, 3));
		json_object_object_add(o, "amount_paid", col_int(st, 4));
		json_object_object_add(o, "attempt_count", col_int(st, 5));
		json_object_object_add(o, "billing_reason", col_str(st, 6));
		json_object_object_add(o, "created", col_int(st, 7));
		json_object_object_add(o, "paid_at", col_int(st, 8));
		json_object_object_add(o, "voided_at", col_int(st, 9));
		json_object_object_add(o, "next_payment_attempt", col_int(st, 10));
		json_object_object_add(o, "charged_with", col_str(st, 11));
	}
	return o;
}

static json_object *num_row(sqlite3_stmt *st)
{
	json_object *o = json_object_new_object();

	if (o != NULL) {
		json_object_object_add(o, "sid", col_str(st, 0));
		json_object_object_add(o, "phone_number", col_str(st, 1));
		json_object_object_add(o, "status", col_str(st, 2));
		json_object_object_add(o, "bought_at", col_int(st, 3));
		json_object_object_add(o, "released_at", col_int(st, 4));
		json_object_object_add(o, "carrier_charges", col_int(st, 5));
	}
	return o;
}

static json_object *taken_row(sqlite3_stmt *st)
{
	return col_str(st, 0);
}

static json_object *evt_row(sqlite3_stmt *st)
{
	json_object *o = json_object_new_object();

	if (o != NULL) {
		json_object_object_add(o, "id", col_str(st, 0));
		json_object_object_add(o, "type", col_str(st, 1));
		json_object_object_add(o, "created", col_int(st, 2));
		json_object_object_add(o, "object", col_str(st, 3));
		json_object_object_add(o, "pending", json_object_new_boolean(sqlite3_column_int(st, 4)));
	}
	return o;
}

static json_object *dlv_row(sqlite3_stmt *st)
{
	json_object *o = json_object_new_object();

	if (o != NULL) {
		json_object_object_add(o, "event", col_str(st, 0));
		json_object_object_add(o, "attempted_at", col_int(st, 1));
		json_object_object_add(o, "status", col_int(st, 2));
	}
	return o;
}

/* GET /_sandbox/ledger: 200 {now, customers, subscriptions, invoices,
 * numbers (with carrier_charges), taken, events, deliveries, calls,
 * effects}.  Times are the sandbox clock's but deliveries' attempted_at
 * (real time, like webhook signatures). */
int sb_control_ledger(struct sb_ctx *c)
{
	json_object *o = json_object_new_object();
	json_object *cus = json_object_new_array(), *subs = json_object_new_array();
	json_object *invs = json_object_new_array(), *nums = json_object_new_array();
	json_object *taken = json_object_new_array(), *calls = json_object_new_object();
	json_object *effects = json_object_new_object(), *evts = json_object_new_array();
	json_object *dlvs = json_object_new_array();
	sqlite3_stmt *st;
	int rc, res = -1;

	if (!o || !cus || !subs || !invs || !nums || !taken || !calls || !effects || !evts ||
	    !dlvs)
		goto out;
	st = sb_db_stmt(SB_ST_LEDGER_NUM);
	if (st != NULL) {
		sqlite3_bind_int64(st, 1, sb_clock_now());
		sqlite3_bind_int64(st, 2, SB_PERIOD_SECONDS);
	}
	if (rows(SB_ST_LEDGER_CUS, cus, cus_row) || rows(SB_ST_LEDGER_SUB, subs, sub_row) ||
	    rows(SB_ST_LEDGER_INV, invs, inv_row) || rows_of(st, nums, num_row) ||
	    rows(SB_ST_LEDGER_TAKEN, taken, taken_row) || rows(SB_ST_LEDGER_EVT, evts, evt_row) ||
	    rows(SB_ST_LEDGER_DLV, dlvs, dlv_row))
		goto out;
	st = sb_db_stmt(SB_ST_LEDGER_COUNTERS);
	if (st == NULL)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(st, 1);

		json_object_object_add(strcmp(kind, "calls") == 0 ? calls : effects,
				       (const char *)sqlite3_column_text(st, 0),
				       json_object_new_int64(sqlite3_column_int64(st, 2)));
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		goto out;
	json_object_object_add(o, "now", json_object_new_int64(sb_clock_now()));
	json_object_object_add(o, "customers", cus);
	json_object_object_add(o, "subscriptions", subs);
	json_object_object_add(o, "invoices", invs);
	json_object_object_add(o, "numbers", nums);
	json_object_object_add(o, "taken", taken);
	json_object_object_add(o, "events", evts);
	json_object_object_add(o, "deliveries", dlvs);
	json_object_object_add(o, "calls", calls);
	json_object_object_add(o, "effects", effects);
	c->json = o;
	c->status = 200;
	return 0;
out:
	if (c->json == NULL) {
		json_object_put(o);
		json_object_put(cus);
		json_object_put(subs);
		json_object_put(invs);
		json_object_put(nums);
		json_object_put(taken);
		json_object_put(calls);
		json_object_put(effects);
		json_object_put(evts);
		json_object_put(dlvs);
	}
	return res;
}
