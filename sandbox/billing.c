/*
 * billing.c -- Stripe subscriptions and invoices (API version 2023-08-16,
 * ../shared/specs/stripe_spec3.yaml):
 *
 *   POST   /v1/subscriptions                 create (one item)
 *   GET    /v1/subscriptions                 list (status, customer, limit,
 *                                            starting_after, expand)
 *   GET    /v1/subscriptions/{id}            retrieve
 *   GET    /v1/subscriptions/search          query=metadata['k']:'v'
 *   POST   /v1/subscriptions/{id}            cancel_at_period_end, metadata,
 *                                            default_payment_method
 *   DELETE /v1/subscriptions/{id}            cancel (voids the open invoice)
 *   GET    /v1/invoices/{id}                 retrieve
 *   POST   /v1/invoices/{id}/pay             charge the payment method
 *
 * A subscription has one item and one invoice (its first).  Prices need
 * not exist: any "price_..." id costs 100 cents in usd unless set with
 * POST /_sandbox/prices.  payment_behavior: allow_incomplete (Stripe's
 * default; charges now, a decline leaves the subscription incomplete),
 * default_incomplete (no charge; invoice open), error_if_incomplete (a
 * decline is a 402 and nothing is created).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "sandbox.h"

#define PERIOD_SECONDS (30 * 86400)
#define DEFAULT_AMOUNT 100
#define META_MAX_KEYS 50
#define META_KEY_MAX 40
#define META_VALUE_MAX 500

static json_object *str_or_null(const unsigned char *s)
{
	return s != NULL ? json_object_new_string((const char *)s) : NULL;
}

static json_object *int_or_null(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL ?
		       NULL :
		       json_object_new_int64(sqlite3_column_int64(st, col));
}

/* 1 if the request asks to expand name ("expand[]=name"). */
static int wants_expand(const struct sb_ctx *c, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < c->form.n; i++) {
		const char *v = c->form.pairs[i].val;

		if (sb_form_is_array_key(c->form.pairs[i].key, "expand") &&
		    strncmp(v, name, n) == 0 && (v[n] == '\0' || v[n] == '.'))
			return 1;
	}
	return 0;
}

static json_object *price_json(const char *id, long long amount, long long created)
{
	json_object *p = json_object_new_object(), *rec = json_object_new_object();
	char dec[32];

	if (p == NULL || rec == NULL) {
		json_object_put(p);
		json_object_put(rec);
		return NULL;
	}
	json_object_object_add(p, "id", json_object_new_string(id));
	json_object_object_add(p, "object", json_object_new_string("price"));
	json_object_object_add(p, "active", json_object_new_boolean(1));
	json_object_object_add(p, "billing_scheme", json_object_new_string("per_unit"));
	json_object_object_add(p, "created", json_object_new_int64(created));
	json_object_object_add(p, "currency", json_object_new_string("usd"));
	json_object_object_add(p, "livemode", json_object_new_boolean(0));
	json_object_object_add(p, "lookup_key", NULL);
	json_object_object_add(p, "metadata", json_object_new_object());
	json_object_object_add(p, "nickname", NULL);
	json_object_object_add(p, "product", json_object_new_string("prod_sandbox"));
	json_object_object_add(rec, "aggregate_usage", NULL);
	json_object_object_add(rec, "interval", json_object_new_string("month"));
	json_object_object_add(rec, "interval_count", json_object_new_int(1));
	json_object_object_add(rec, "trial_period_days", NULL);
	json_object_object_add(rec, "usage_type", json_object_new_string("licensed"));
	json_object_object_add(p, "recurring", rec);
	json_object_object_add(p, "tax_behavior", json_object_new_string("unspecified"));
	json_object_object_add(p, "tiers_mode", NULL);
	json_object_object_add(p, "transform_quantity", NULL);
	json_object_object_add(p, "type", json_object_new_string("recurring"));
	json_object_object_add(p, "unit_amount", json_object_new_int64(amount));
	snprintf(dec, sizeof(dec), "%lld", amount);
	json_object_object_add(p, "unit_amount_decimal", json_object_new_string(dec));
	return p;
}

/* Loads an invoice.  1 found, 0 missing, -1 error. */
static int invoice_json(const char *id, json_object **out)
{
	sqlite3_stmt *st = sb_db_stmt(SB_ST_INV_GET);
	json_object *o, *lines, *data, *line, *period, *trans, *tax;
	const char *status, *iid;
	long long due, paid, created;
	char line_id[SB_ID_MAX + 8], url[SB_ID_MAX + 32];
	int rc;

	*out = NULL;
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? 0 : -1;
	}
	o = json_object_new_object();
	lines = json_object_new_object();
	data = json_object_new_array();
	line = json_object_new_object();
	period = json_object_new_object();
	trans = json_object_new_object();
	tax = json_object_new_object();
	if (!o || !lines || !data || !line || !period || !trans || !tax) {
		json_object_put(o);
		json_object_put(lines);
		json_object_put(data);
		json_object_put(line);
		json_object_put(period);
		json_object_put(trans);
		json_object_put(tax);
		sqlite3_reset(st);
		return -1;
	}
	iid = (const char *)sqlite3_column_text(st, 0);
	status = (const char *)sqlite3_column_text(st, 3);
	due = sqlite3_column_int64(st, 4);
	paid = sqlite3_column_int64(st, 5);
	created = sqlite3_column_int64(st, 8);
	json_object_object_add(o, "id", json_object_new_string(iid));
	json_object_object_add(o, "object", json_object_new_string("invoice"));
	json_object_object_add(o, "account_country", json_object_new_string("US"));
	json_object_object_add(o, "account_name", json_object_new_string("Sandbox"));
	json_object_object_add(o, "amount_due", json_object_new_int64(due));
	json_object_object_add(o, "amount_paid", json_object_new_int64(paid));
	json_object_object_add(o, "amount_remaining",
			       json_object_new_int64(strcmp(status, "void") == 0 ? 0 : due - paid));
	json_object_object_add(o, "amount_shipping", json_object_new_int(0));
	json_object_object_add(o, "attempt_count",
			       json_object_new_int64(sqlite3_column_int64(st, 6)));
	json_object_object_add(o, "attempted",
			       json_object_new_boolean(sqlite3_column_int64(st, 6) > 0));
	json_object_object_add(o, "auto_advance",
			       json_object_new_boolean(strcmp(status, "open") == 0));
	json_object_object_add(tax, "enabled", json_object_new_boolean(0));
	json_object_object_add(tax, "status", NULL);
	json_object_object_add(o, "automatic_tax", tax);
	json_object_object_add(o, "billing_reason",
			       json_object_new_string("subscription_create"));
	json_object_object_add(o, "charge", str_or_null(sqlite3_column_text(st, 7)));
	json_object_object_add(o, "collection_method",
			       json_object_new_string("charge_automatically"));
	json_object_object_add(o, "created", json_object_new_int64(created));
	json_object_object_add(o, "currency", json_object_new_string("usd"));
	json_object_object_add(o, "customer", str_or_null(sqlite3_column_text(st, 2)));
	json_object_object_add(o, "default_payment_method", NULL);
	json_object_object_add(o, "default_tax_rates", json_object_new_array());
	json_object_object_add(o, "description", NULL);
	json_object_object_add(o, "ending_balance",
			       strcmp(status, "open") == 0 ? json_object_new_int(0) : NULL);
	json_object_object_add(o, "hosted_invoice_url", NULL);

	snprintf(line_id, sizeof(line_id), "il_%s", iid + (strncmp(iid, "in_", 3) == 0 ? 3 : 0));
	json_object_object_add(line, "id", json_object_new_string(line_id));
	json_object_object_add(line, "object", json_object_new_string("line_item"));
	json_object_object_add(line, "amount", json_object_new_int64(due));
	json_object_object_add(line, "currency", json_object_new_string("usd"));
	json_object_object_add(line, "description", NULL);
	json_object_object_add(line, "livemode", json_object_new_boolean(0));
	json_object_object_add(line, "metadata", json_object_new_object());
	json_object_object_add(period, "end", json_object_new_int64(sqlite3_column_int64(st, 10)));
	json_object_object_add(period, "start", json_object_new_int64(sqlite3_column_int64(st, 9)));
	json_object_object_add(line, "period", period);
	json_object_object_add(line, "proration", json_object_new_boolean(0));
	json_object_object_add(line, "quantity", json_object_new_int(1));
	json_object_object_add(line, "subscription", str_or_null(sqlite3_column_text(st, 1)));
	json_object_object_add(line, "type", json_object_new_string("subscription"));
	json_object_array_add(data, line);
	json_object_object_add(lines, "object", json_object_new_string("list"));
	json_object_object_add(lines, "data", data);
	json_object_object_add(lines, "has_more", json_object_new_boolean(0));
	json_object_object_add(lines, "total_count", json_object_new_int(1));
	snprintf(url, sizeof(url), "/v1/invoices/%s/lines", iid);
	json_object_object_add(lines, "url", json_object_new_string(url));
	json_object_object_add(o, "lines", lines);

	json_object_object_add(o, "livemode", json_object_new_boolean(0));
	json_object_object_add(o, "metadata", json_object_new_object());
	json_object_object_add(o, "next_payment_attempt", NULL);
	json_object_object_add(o, "number", NULL);
	json_object_object_add(o, "paid", json_object_new_boolean(strcmp(status, "paid") == 0));
	json_object_object_add(o, "paid_out_of_band", json_object_new_boolean(0));
	json_object_object_add(o, "payment_intent", NULL);
	json_object_object_add(o, "period_end", json_object_new_int64(created));
	json_object_object_add(o, "period_start", json_object_new_int64(created));
	json_object_object_add(o, "post_payment_credit_notes_amount", json_object_new_int(0));
	json_object_object_add(o, "pre_payment_credit_notes_amount", json_object_new_int(0));
	json_object_object_add(o, "starting_balance", json_object_new_int(0));
	json_object_object_add(o, "status", json_object_new_string(status));
	json_object_object_add(trans, "finalized_at", json_object_new_int64(created));
	json_object_object_add(trans, "marked_uncollectible_at", NULL);
	json_object_object_add(trans, "paid_at", int_or_null(st, 11));
	json_object_object_add(trans, "voided_at", int_or_null(st, 12));
	json_object_object_add(o, "status_transitions", trans);
	json_object_object_add(o, "subscription", str_or_null(sqlite3_column_text(st, 1)));
	json_object_object_add(o, "subtotal", json_object_new_int64(due));
	json_object_object_add(o, "tax", NULL);
	json_object_object_add(o, "total", json_object_new_int64(due));
	json_object_object_add(o, "total_tax_amounts", json_object_new_array());
	json_object_object_add(o, "webhooks_delivered_at", json_object_new_int64(created));
	sqlite3_reset(st);
	*out = o;
	return 1;
}

static json_object *metadata_json(const char *sub)
{
	sqlite3_stmt *st = sb_db_stmt(SB_ST_META_LIST);
	json_object *m = json_object_new_object();
	int rc;

	if (st == NULL || m == NULL) {
		json_object_put(m);
		return NULL;
	}
	sqlite3_bind_text(st, 1, sub, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_object_object_add(m, (const char *)sqlite3_column_text(st, 0),
				       json_object_new_string(
					       (const char *)sqlite3_column_text(st, 1)));
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		json_object_put(m);
		return NULL;
	}
	return m;
}

/* Loads a subscription (latest_invoice expanded if asked).  1 found,
 * 0 missing, -1 error. */
static int sub_json(const char *id, int expand_invoice, json_object **out)
{
	sqlite3_stmt *st = sb_db_stmt(SB_ST_SUB_GET);
	json_object *o = NULL, *items = NULL, *data = NULL, *item = NULL, *price = NULL;
	json_object *meta = NULL, *inv = NULL, *tax = NULL, *cd = NULL, *ps = NULL;
	char sid[SB_ID_MAX], inv_id[SB_ID_MAX] = "", url[SB_ID_MAX + 40], status[32];
	long long created, pend;
	int rc, res = -1, canceled, cape;

	*out = NULL;
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? 0 : -1;
	}
	snprintf(sid, sizeof(sid), "%s", (const char *)sqlite3_column_text(st, 0));
	if (sqlite3_column_type(st, 7) != SQLITE_NULL)
		snprintf(inv_id, sizeof(inv_id), "%s", (const char *)sqlite3_column_text(st, 7));
	o = json_object_new_object();
	items = json_object_new_object();
	data = json_object_new_array();
	item = json_object_new_object();
	tax = json_object_new_object();
	cd = json_object_new_object();
	ps = json_object_new_object();
	created = sqlite3_column_int64(st, 10);
	pend = sqlite3_column_int64(st, 12);
	price = price_json((const char *)sqlite3_column_text(st, 3), sqlite3_column_int64(st, 4),
			   created);
	if (!o || !items || !data || !item || !tax || !cd || !ps || !price)
		goto out;
	/* Copied: the row goes away with the sqlite3_reset below. */
	snprintf(status, sizeof(status), "%s", (const char *)sqlite3_column_text(st, 2));
	canceled = strcmp(status, "canceled") == 0;
	cape = sqlite3_column_int(st, 8);

	json_object_object_add(o, "id", json_object_new_string(sid));
	json_object_object_add(o, "object", json_object_new_string("subscription"));
	json_object_object_add(o, "application", NULL);
	json_object_object_add(o, "application_fee_percent", NULL);
	json_object_object_add(tax, "enabled", json_object_new_boolean(0));
	json_object_object_add(o, "automatic_tax", tax);
	tax = NULL;
	json_object_object_add(o, "billing_cycle_anchor", json_object_new_int64(created));
	json_object_object_add(o, "billing_thresholds", NULL);
	json_object_object_add(o, "cancel_at", cape && !canceled ? json_object_new_int64(pend) : NULL);
	json_object_object_add(o, "cancel_at_period_end", json_object_new_boolean(cape));
	json_object_object_add(o, "canceled_at", int_or_null(st, 9));
	json_object_object_add(cd, "comment", NULL);
	json_object_object_add(cd, "feedback", NULL);
	json_object_object_add(cd, "reason",
			       canceled ? json_object_new_string("cancellation_requested") : NULL);
	json_object_object_add(o, "cancellation_details", cd);
	cd = NULL;
	json_object_object_add(o, "collection_method",
			       json_object_new_string("charge_automatically"));
	json_object_object_add(o, "created", json_object_new_int64(created));
	json_object_object_add(o, "currency", json_object_new_string("usd"));
	json_object_object_add(o, "current_period_end", json_object_new_int64(pend));
	json_object_object_add(o, "current_period_start",
			       json_object_new_int64(sqlite3_column_int64(st, 11)));
	json_object_object_add(o, "customer", str_or_null(sqlite3_column_text(st, 1)));
	json_object_object_add(o, "days_until_due", NULL);
	json_object_object_add(o, "default_payment_method", str_or_null(sqlite3_column_text(st, 6)));
	json_object_object_add(o, "default_source", NULL);
	json_object_object_add(o, "default_tax_rates", json_object_new_array());
	json_object_object_add(o, "description", NULL);
	json_object_object_add(o, "discount", NULL);
	json_object_object_add(o, "ended_at", canceled ? int_or_null(st, 9) : NULL);

	json_object_object_add(item, "id", str_or_null(sqlite3_column_text(st, 5)));
	json_object_object_add(item, "object", json_object_new_string("subscription_item"));
	json_object_object_add(item, "billing_thresholds", NULL);
	json_object_object_add(item, "created", json_object_new_int64(created));
	json_object_object_add(item, "metadata", json_object_new_object());
	json_object_object_add(item, "price", price);
	price = NULL;
	json_object_object_add(item, "quantity", json_object_new_int(1));
	json_object_object_add(item, "subscription", json_object_new_string(sid));
	json_object_object_add(item, "tax_rates", json_object_new_array());
	json_object_array_add(data, item);
	item = NULL;
	json_object_object_add(items, "object", json_object_new_string("list"));
	json_object_object_add(items, "data", data);
	data = NULL;
	json_object_object_add(items, "has_more", json_object_new_boolean(0));
	json_object_object_add(items, "total_count", json_object_new_int(1));
	snprintf(url, sizeof(url), "/v1/subscription_items?subscription=%s", sid);
	json_object_object_add(items, "url", json_object_new_string(url));
	json_object_object_add(o, "items", items);
	items = NULL;
	sqlite3_reset(st);

	if (inv_id[0] != '\0' && expand_invoice) {
		if (invoice_json(inv_id, &inv) < 0)
			goto out;
		json_object_object_add(o, "latest_invoice", inv);
	} else {
		json_object_object_add(o, "latest_invoice",
				       inv_id[0] ? json_object_new_string(inv_id) : NULL);
	}
	json_object_object_add(o, "livemode", json_object_new_boolean(0));
	meta = metadata_json(sid);
	if (meta == NULL)
		goto out;
	json_object_object_add(o, "metadata", meta);
	json_object_object_add(o, "next_pending_invoice_item_invoice", NULL);
	json_object_object_add(o, "on_behalf_of", NULL);
	json_object_object_add(o, "pause_collection", NULL);
	json_object_object_add(ps, "payment_method_options", NULL);
	json_object_object_add(ps, "payment_method_types", NULL);
	json_object_object_add(ps, "save_default_payment_method", json_object_new_string("off"));
	json_object_object_add(o, "payment_settings", ps);
	ps = NULL;
	json_object_object_add(o, "pending_invoice_item_interval", NULL);
	json_object_object_add(o, "pending_setup_intent", NULL);
	json_object_object_add(o, "pending_update", NULL);
	json_object_object_add(o, "schedule", NULL);
	json_object_object_add(o, "start_date", json_object_new_int64(created));
	json_object_object_add(o, "status", json_object_new_string(status));
	json_object_object_add(o, "test_clock", NULL);
	json_object_object_add(o, "transfer_data", NULL);
	json_object_object_add(o, "trial_end", NULL);
	json_object_object_add(o, "trial_start", NULL);
	*out = o;
	o = NULL;
	res = 1;
out:
	sqlite3_reset(st);
	json_object_put(o);
	json_object_put(items);
	json_object_put(data);
	json_object_put(item);
	json_object_put(price);
	json_object_put(tax);
	json_object_put(cd);
	json_object_put(ps);
	return res;
}

/* Replies with the subscription (200) or an internal error. */
static int reply_sub(struct sb_ctx *c, const char *id)
{
	if (sub_json(id, wants_expand(c, "latest_invoice"), &c->json) <= 0)
		return -1;
	c->status = 200;
	return 0;
}

static void declined(struct sb_ctx *c, const char *charge)
{
	json_object *err;

	sb_stripe_error(c, 402, "card_error", "card_declined", NULL, "Your card was declined.");
	err = json_object_object_get(c->json, "error");
	if (err != NULL) {
		json_object_object_add(err, "charge", json_object_new_string(charge));
		json_object_object_add(err, "decline_code", json_object_new_string("generic_decline"));
	}
}

/* Charges invoice inv with payment method pm (attached to customer).  On a
 * decline returns 1 with the charge id in charge; 0 paid; -1 error. */
static int charge(const char *inv, const char *sub, const char *pm, const char *customer,
		  char *charge_id, size_t n)
{
	sqlite3_stmt *st;
	int declines = 0;

	if (sb_stripe_pm_owned(pm, customer, &declines) < 0)
		return -1;
	sb_id_new(charge_id, n, "ch_", 24);
	st = sb_db_stmt(declines ? SB_ST_INV_ATTEMPT : SB_ST_INV_PAID);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, inv, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, charge_id, -1, SQLITE_TRANSIENT);
	if (!declines)
		sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
	if (sb_db_done(st) != 0)
		return -1;
	if (declines)
		return 1;
	if (sub == NULL)
		return 0;
	st = sb_db_stmt(SB_ST_SUB_SET_STATUS);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, sub, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, "active", -1, SQLITE_STATIC);
	return sb_db_done(st);
}

static void no_payment_method(struct sb_ctx *c)
{
	sb_stripe_error(c, 400, "invalid_request_error", NULL, NULL,
			"This customer has no attached payment source or default payment "
			"method. Please consider adding a default payment method.");
}

/* Validates the metadata[...] parameters; 0 ok, 1 error reply set. */
static int check_metadata(struct sb_ctx *c)
{
	size_t i, n = 0, klen;
	char msg[160];

	for (i = 0; i < c->form.n; i++) {
		const char *k = sb_form_bracket(c->form.pairs[i].key, "metadata", &klen);

		if (k == NULL) {
			if (strncmp(c->form.pairs[i].key, "metadata[", 9) == 0)
				goto bad;
			continue;
		}
		if (++n > META_MAX_KEYS || klen > META_KEY_MAX ||
		    strlen(c->form.pairs[i].val) > META_VALUE_MAX)
			goto bad;
	}
	return 0;
bad:
	snprintf(msg, sizeof(msg),
		 "Invalid metadata: at most %d keys, keys up to %d and values up to %d "
		 "characters.",
		 META_MAX_KEYS, META_KEY_MAX, META_VALUE_MAX);
	sb_stripe_error(c, 400, "invalid_request_error", NULL, "metadata", msg);
	return 1;
}

/* Writes metadata[...] for sub; an empty value unsets the key.  0 or -1. */
static int put_metadata(const struct sb_ctx *c, const char *sub)
{
	size_t i, klen;

	for (i = 0; i < c->form.n; i++) {
		const char *k = sb_form_bracket(c->form.pairs[i].key, "metadata", &klen);
		const char *v = c->form.pairs[i].val;
		sqlite3_stmt *st;

		if (k == NULL)
			continue;
		st = sb_db_stmt(v[0] ? SB_ST_META_PUT : SB_ST_META_DEL);
		if (st == NULL)
			return -1;
		sqlite3_bind_text(st, 1, sub, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, k, (int)klen, SQLITE_TRANSIENT);
		if (v[0])
			sqlite3_bind_text(st, 3, v, -1, SQLITE_TRANSIENT);
		if (sb_db_done(st) != 0)
			return -1;
	}
	return 0;
}

static int price_amount(const char *price, long long *amount)
{
	sqlite3_stmt *st = sb_db_stmt(SB_ST_PRICE_GET);
	int rc;

	*amount = DEFAULT_AMOUNT;
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, price, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*amount = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* POST /v1/subscriptions: 200 subscription; 400 bad/missing parameters,
 * unknown customer, pm not attached; 402 decline with error_if_incomplete. */
int sb_stripe_sub_create(struct sb_ctx *c)
{
	const char *customer = sb_form_get(&c->form, "customer");
	const char *price = sb_form_get(&c->form, "items[0][price]");
	const char *pm = sb_form_get(&c->form, "default_payment_method");
	const char *behavior = sb_form_get(&c->form, "payment_behavior");
	char cus_pm[SB_ID_MAX], sub[SB_ID_MAX], item[SB_ID_MAX], inv[SB_ID_MAX];
	char ch[SB_ID_MAX], msg[SB_SEG_MAX + 64];
	const char *pay_pm;
	long long amount, now = (long long)time(NULL);
	sqlite3_stmt *st;
	int rc;

	if (customer == NULL || customer[0] == '\0') {
		sb_stripe_error(c, 400, "invalid_request_error", "parameter_missing", "customer",
				"Missing required param: customer.");
		return 0;
	}
	if (strlen(customer) >= SB_ID_MAX || (pm != NULL && strlen(pm) >= SB_ID_MAX)) {
		sb_stripe_error(c, 400, "invalid_request_error", NULL, NULL,
				"Invalid id: too long.");
		return 0;
	}
	rc = sb_stripe_customer_default_pm(customer, cus_pm, sizeof(cus_pm));
	if (rc < 0)
		return -1;
	if (rc == 0) {
		sb_stripe_missing(c, 400, "customer", customer, "customer");
		return 0;
	}
	if (price == NULL || price[0] == '\0') {
		sb_stripe_error(c, 400, "invalid_request_error", "parameter_missing", "items",
				"Missing required param: items.");
		return 0;
	}
	if (strncmp(price, "price_", 6) != 0 || strlen(price) >= SB_ID_MAX) {
		snprintf(msg, sizeof(msg), "No such price: '%.*s'", (int)SB_ID_MAX, price);
		sb_stripe_error(c, 400, "invalid_request_error", "resource_missing",
				"items[0][price]", msg);
		return 0;
	}
	if (sb_form_get(&c->form, "items[1][price]") != NULL) {
		sb_stripe_error(c, 400, "invalid_request_error", NULL, "items",
				"The sandbox supports exactly one subscription item.");
		return 0;
	}
	if (behavior == NULL)
		behavior = "allow_incomplete";
	if (strcmp(behavior, "allow_incomplete") != 0 &&
	    strcmp(behavior, "default_incomplete") != 0 &&
	    strcmp(behavior, "error_if_incomplete") != 0) {
		sb_stripe_error(c, 400, "invalid_request_error", NULL, "payment_behavior",
				"Invalid payment_behavior: must be one of allow_incomplete, "
				"default_incomplete or error_if_incomplete.");
		return 0;
	}
	if (pm != NULL && pm[0] != '\0') {
		rc = sb_stripe_pm_owned(pm, customer, NULL);
		if (rc < 0)
			return -1;
		if (rc == 0) {
			snprintf(msg, sizeof(msg),
				 "The customer does not have a payment method with the ID %s. "
				 "The payment method must be attached to the customer.",
				 pm);
			sb_stripe_error(c, 400, "invalid_request_error", "resource_missing",
					"default_payment_method", msg);
			return 0;
		}
	} else {
		pm = NULL;
	}
	pay_pm = pm != NULL ? pm : (cus_pm[0] ? cus_pm : NULL);
	if (pay_pm == NULL && strcmp(behavior, "default_incomplete") != 0) {
		no_payment_method(c);
		return 0;
	}
	if (check_metadata(c))
		return 0;
	if (price_amount(price, &amount) != 0)
		return -1;

	sb_id_new(sub, sizeof(sub), "sub_", 14);
	sb_id_new(item, sizeof(item), "si_", 14);
	sb_id_new(inv, sizeof(inv), "in_", 14);
	st = sb_db_stmt(SB_ST_SUB_INS);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, sub, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, customer, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, "incomplete", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, price, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, amount);
	sqlite3_bind_text(st, 6, item, -1, SQLITE_TRANSIENT);
	if (pm != NULL)
		sqlite3_bind_text(st, 7, pm, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 8, inv, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 9, now);
	sqlite3_bind_int64(st, 10, now);
	sqlite3_bind_int64(st, 11, now + PERIOD_SECONDS);
	if (sb_db_done(st) != 0)
		return -1;
	st = sb_db_stmt(SB_ST_INV_INS);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, inv, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, sub, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, customer, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, amount);
	sqlite3_bind_int64(st, 5, now);
	sqlite3_bind_int64(st, 6, now);
	sqlite3_bind_int64(st, 7, now + PERIOD_SECONDS);
	if (sb_db_done(st) != 0 || put_metadata(c, sub) != 0)
		return -1;

	if (strcmp(behavior, "default_incomplete") != 0) {
		rc = charge(inv, sub, pay_pm, customer, ch, sizeof(ch));
		if (rc < 0)
			return -1;
		if (rc == 1 && strcmp(behavior, "error_if_incomplete") == 0) {
			/* Stripe creates nothing; the decline itself is the reply. */
			if (sb_db_undo() != 0)
				return -1;
			declined(c, ch);
			return 0;
		}
	}
	return reply_sub(c, sub);
}

/* GET /v1/subscriptions/{id}: 200; 404 resource_missing. */
int sb_stripe_sub_get(struct sb_ctx *c)
{
	int rc = sub_json(c->seg[0], wants_expand(c, "latest_invoice"), &c->json);

	if (rc < 0)
		return -1;
	if (rc == 0)
		sb_stripe_missing(c, 404, "subscription", c->seg[0], "id");
	else
		c->status = 200;
	return 0;
}

/* Statuses GET /v1/subscriptions accepts (stripe_spec3.yaml). */
static int list_status_ok(const char *s)
{
	static const char *const ok[] = { "active",   "all",	  "canceled",
					  "ended",    "incomplete", "incomplete_expired",
					  "past_due", "paused",	  "trialing",
					  "unpaid" };
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strcmp(s, ok[i]) == 0)
			return 1;
	return 0;
}

/* GET /v1/subscriptions [status, customer, limit, starting_after,
 * expand[]=data.latest_invoice]: 200 list, newest first (created desc,
 * then id desc), as Stripe orders lists.  status: absent = every status
 * but canceled, "all", "ended" (canceled or incomplete_expired), or one
 * status.  400 invalid_request_error for a bad limit (1..100) or status,
 * resource_missing for an unknown starting_after; ending_before is not
 * supported (400) rather than silently ignored. */
int sb_stripe_sub_list(struct sb_ctx *c)
{
	const char *status = sb_form_get(&c->form, "status");
	const char *customer = sb_form_get(&c->form, "customer");
	const char *lim = sb_form_get(&c->form, "limit");
	const char *after = sb_form_get(&c->form, "starting_after");
	int expand = wants_expand(c, "data.latest_invoice");
	char ids[100][SB_ID_MAX], msg[SB_ID_MAX + 64];
	long long after_created = INT64_MAX;
	json_object *res = NULL, *data = NULL;
	sqlite3_stmt *st;
	long limit = 10;
	int rc, i, n = 0, more = 0;

	if (lim != NULL) {
		char *e = NULL;

		limit = strtol(lim, &e, 10);
		if (e == lim || *e != '\0' || limit < 1 || limit > 100) {
			sb_stripe_error(c, 400, "invalid_request_error", NULL, "limit",
					"Invalid integer: limit must be between 1 and 100.");
			return 0;
		}
	}
	if (status != NULL && !list_status_ok(status)) {
		sb_stripe_error(c, 400, "invalid_request_error", NULL, "status",
				"Invalid status: must be one of active, all, canceled, ended, "
				"incomplete, incomplete_expired, past_due, paused, trialing or "
				"unpaid.");
		return 0;
	}
	if (sb_form_get(&c->form, "ending_before") != NULL) {
		sb_stripe_error(c, 400, "invalid_request_error", NULL, "ending_before",
				"The sandbox does not support ending_before; page with "
				"starting_after.");
		return 0;
	}
	if ((customer != NULL && strlen(customer) >= SB_ID_MAX) ||
	    (after != NULL && strlen(after) >= SB_ID_MAX)) {
		sb_stripe_error(c, 400, "invalid_request_error", NULL,
				customer != NULL && strlen(customer) >= SB_ID_MAX ?
					"customer" :
					"starting_after",
				"Invalid id: too long.");
		return 0;
	}
	if (after != NULL) {
		st = sb_db_stmt(SB_ST_SUB_GET);
		if (st == NULL)
			return -1;
		sqlite3_bind_text(st, 1, after, -1, SQLITE_TRANSIENT);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			after_created = sqlite3_column_int64(st, 10);
		sqlite3_reset(st);
		if (rc == SQLITE_DONE) {
			snprintf(msg, sizeof(msg), "No such subscription: '%s'", after);
			sb_stripe_error(c, 400, "invalid_request_error", "resource_missing",
					"starting_after", msg);
			return 0;
		}
		if (rc != SQLITE_ROW)
			return -1;
	}

	st = sb_db_stmt(customer != NULL ? SB_ST_SUB_LIST_CUS : SB_ST_SUB_LIST);
	if (st == NULL)
		return -1;
	if (customer != NULL)
		sqlite3_bind_text(st, 1, customer, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, status != NULL ? status : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, after_created);
	sqlite3_bind_text(st, 4, after != NULL ? after : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, limit + 1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == limit) {
			more = 1;
			break;
		}
		snprintf(ids[n++], SB_ID_MAX, "%s", (const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -1;
	res = json_object_new_object();
	data = json_object_new_array();
	if (res == NULL || data == NULL)
		goto fail;
	for (i = 0; i < n; i++) {
		json_object *o;

		if (sub_json(ids[i], expand, &o) <= 0)
			goto fail;
		json_object_array_add(data, o);
	}
	json_object_object_add(res, "object", json_object_new_string("list"));
	json_object_object_add(res, "data", data);
	json_object_object_add(res, "has_more", json_object_new_boolean(more));
	json_object_object_add(res, "url", json_object_new_string("/v1/subscriptions"));
	c->json = res;
	c->status = 200;
	return 0;
fail:
	json_object_put(res);
	json_object_put(data);
	return -1;
}

/* Parses "metadata['key']:'value'" (either quote, optional blanks) into
 * key/value; returns 0 or -1. */
static int parse_query(const char *q, char *key, size_t kn, char *val, size_t vn)
{
	const char *p = q, *end;
	char quote;

	while (*p == ' ')
		p++;
	if (strncmp(p, "metadata[", 9) != 0)
		return -1;
	p += 9;
	quote = *p;
	if (quote != '\'' && quote != '"')
		return -1;
	end = strchr(++p, quote);
	if (end == NULL || end == p || (size_t)(end - p) >= kn || end[1] != ']')
		return -1;
	memcpy(key, p, (size_t)(end - p));
	key[end - p] = '\0';
	p = end + 2;
	while (*p == ' ')
		p++;
	if (*p++ != ':')
		return -1;
	while (*p == ' ')
		p++;
	quote = *p;
	if (quote != '\'' && quote != '"')
		return -1;
	end = strchr(++p, quote);
	if (end == NULL || (size_t)(end - p) >= vn)
		return -1;
	memcpy(val, p, (size_t)(end - p));
	val[end - p] = '\0';
	for (p = end + 1; *p == ' '; p++)
		;
	return *p == '\0' ? 0 : -1;
}

/* GET /v1/subscriptions/search?query=metadata['k']:'v'[&limit=N]:
 * 200 search_result, newest first; 400 unsupported query. */
int sb_stripe_sub_search(struct sb_ctx *c)
{
	const char *q = sb_form_get(&c->form, "query");
	const char *lim = sb_form_get(&c->form, "limit");
	char key[META_KEY_MAX + 1], val[META_VALUE_MAX + 1];
	json_object *res = NULL, *data = NULL;
	sqlite3_stmt *st;
	long limit = 10;
	int rc, n = 0, more = 0;
	char ids[100][SB_ID_MAX];

	if (q == NULL) {
		sb_stripe_error(c, 400, "invalid_request_error", "parameter_missing", "query",
				"Missing required param: query.");
		return 0;
	}
	if (lim != NULL) {
		char *e = NULL;

		limit = strtol(lim, &e, 10);
		if (e == lim || *e != '\0' || limit < 1 || limit > 100) {
			sb_stripe_error(c, 400, "invalid_request_error", NULL, "limit",
					"Invalid integer: limit must be between 1 and 100.");
			return 0;
		}
	}
	if (parse_query(q, key, sizeof(key), val, sizeof(val)) != 0) {
		sb_stripe_error(c, 400, "invalid_request_error", NULL, "query",
				"The sandbox supports only search queries of the form "
				"metadata['key']:'value'.");
		return 0;
	}
	st = sb_db_stmt(SB_ST_META_SEARCH);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, val, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, limit + 1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == limit) {
			more = 1;
			break;
		}
		snprintf(ids[n++], SB_ID_MAX, "%s", (const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -1;
	res = json_object_new_object();
	data = json_object_new_array();
	if (res == NULL || data == NULL)
		goto fail;
	for (rc = 0; rc < n; rc++) {
		json_object *s;

		if (sub_json(ids[rc], wants_expand(c, "data.latest_invoice"), &s) <= 0)
			goto fail;
		json_object_array_add(data, s);
	}
	json_object_object_add(res, "object", json_object_new_string("search_result"));
	json_object_object_add(res, "data", data);
	json_object_object_add(res, "has_more", json_object_new_boolean(more));
	json_object_object_add(res, "next_page", NULL);
	json_object_object_add(res, "url", json_object_new_string("/v1/subscriptions/search"));
	c->json = res;
	c->status = 200;
	return 0;
fail:
	json_object_put(res);
	json_object_put(data);
	return -1;
}

/* Current status and customer of a subscription; 1, 0 missing, -1. */
static int sub_state(const char *id, char *status, size_t sn, char *customer, size_t cn)
{
	sqlite3_stmt *st = sb_db_stmt(SB_ST_SUB_GET);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(status, sn, "%s", (const char *)sqlite3_column_text(st, 2));
		snprintf(customer, cn, "%s", (const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* POST /v1/subscriptions/{id}: cancel_at_period_end=true|false,
 * default_payment_method, metadata[...].  200; 400 invalid or canceled;
 * 404 unknown. */
int sb_stripe_sub_update(struct sb_ctx *c)
{
	const char *id = c->seg[0];
	const char *cape = sb_form_get(&c->form, "cancel_at_period_end");
	const char *pm = sb_form_get(&c->form, "default_payment_method");
	char status[32], customer[SB_ID_MAX], msg[SB_SEG_MAX + 160];
	sqlite3_stmt *st;
	int rc, flag = 0;

	rc = sub_state(id, status, sizeof(status), customer, sizeof(customer));
	if (rc < 0)
		return -1;
	if (rc == 0) {
		sb_stripe_missing(c, 404, "subscription", id, "id");
		return 0;
	}
	if (cape != NULL) {
		if (strcmp(cape, "true") == 0) {
			flag = 1;
		} else if (strcmp(cape, "false") != 0) {
			snprintf(msg, sizeof(msg), "Invalid boolean: %.64s", cape);
			sb_stripe_error(c, 400, "invalid_request_error", NULL,
					"cancel_at_period_end", msg);
			return 0;
		}
	}
	if (strcmp(status, "canceled") == 0 && (cape != NULL || pm != NULL)) {
		sb_stripe_error(c, 400, "invalid_request_error", NULL, NULL,
				"A canceled subscription can only update its "
				"cancellation_details and metadata.");
		return 0;
	}
	if (check_metadata(c))
		return 0;
	if (pm != NULL && pm[0] != '\0') {
		rc = strlen(pm) < SB_ID_MAX ? sb_stripe_pm_owned(pm, customer, NULL) : 0;
		if (rc < 0)
			return -1;
		if (rc == 0) {
			snprintf(msg, sizeof(msg),
				 "The customer does not have a payment method with the ID %.64s. "
				 "The payment method must be attached to the customer.",
				 pm);
			sb_stripe_error(c, 400, "invalid_request_error", "resource_missing",
					"default_payment_method", msg);
			return 0;
		}
	}
	if (cape != NULL) {
		st = sb_db_stmt(SB_ST_SUB_SET_CAPE);
		if (st == NULL)
			return -1;
		sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 2, flag);
		if (sb_db_done(st) != 0)
			return -1;
	}
	if (pm != NULL) {
		st = sb_db_stmt(SB_ST_SUB_SET_PM);
		if (st == NULL)
			return -1;
		sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
		if (pm[0] != '\0')
			sqlite3_bind_text(st, 2, pm, -1, SQLITE_TRANSIENT);
		if (sb_db_done(st) != 0)
			return -1;
	}
	if (put_metadata(c, id) != 0)
		return -1;
	return reply_sub(c, id);
}

/* DELETE /v1/subscriptions/{id}: cancels now and voids the open invoice;
 * an already canceled one is returned unchanged.  200; 404 unknown. */
int sb_stripe_sub_cancel(struct sb_ctx *c)
{
	const char *id = c->seg[0];
	char status[32], customer[SB_ID_MAX];
	long long now = (long long)time(NULL);
	sqlite3_stmt *st;
	int rc;

	rc = sub_state(id, status, sizeof(status), customer, sizeof(customer));
	if (rc < 0)
		return -1;
	if (rc == 0) {
		sb_stripe_missing(c, 404, "subscription", id, "id");
		return 0;
	}
	if (strcmp(status, "canceled") != 0) {
		st = sb_db_stmt(SB_ST_SUB_CANCEL);
		if (st == NULL)
			return -1;
		sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, now);
		if (sb_db_done(st) != 0)
			return -1;
		st = sb_db_stmt(SB_ST_INV_VOID_OPEN);
		if (st == NULL)
			return -1;
		sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, now);
		if (sb_db_done(st) != 0)
			return -1;
	}
	return reply_sub(c, id);
}

/* GET /v1/invoices/{id}: 200; 404 resource_missing. */
int sb_stripe_invoice_get(struct sb_ctx *c)
{
	int rc = invoice_json(c->seg[0], &c->json);

	if (rc < 0)
		return -1;
	if (rc == 0)
		sb_stripe_missing(c, 404, "invoice", c->seg[0], "id");
	else
		c->status = 200;
	return 0;
}

/* POST /v1/invoices/{id}/pay [payment_method=pm_...]: charges the given
 * payment method, else the subscription's default, else the customer's.
 * 200 paid invoice; 400 already paid, void, no payment method; 402
 * card_declined (attempt recorded, invoice stays open); 404 unknown. */
int sb_stripe_invoice_pay(struct sb_ctx *c)
{
	const char *id = c->seg[0];
	const char *pm_param = sb_form_get(&c->form, "payment_method");
	char status[16] = "", sub[SB_ID_MAX] = "", customer[SB_ID_MAX] = "";
	char pm[SB_ID_MAX] = "", ch[SB_ID_MAX], msg[SB_SEG_MAX + 160];
	sqlite3_stmt *st = sb_db_stmt(SB_ST_INV_GET);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(status, sizeof(status), "%s", (const char *)sqlite3_column_text(st, 3));
		if (sqlite3_column_type(st, 1) != SQLITE_NULL)
			snprintf(sub, sizeof(sub), "%s", (const char *)sqlite3_column_text(st, 1));
		snprintf(customer, sizeof(customer), "%s",
			 (const char *)sqlite3_column_text(st, 2));
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE) {
		sb_stripe_missing(c, 404, "invoice", id, "id");
		return 0;
	}
	if (rc != SQLITE_ROW)
		return -1;
	if (strcmp(status, "paid") == 0) {
		sb_stripe_error(c, 400, "invalid_request_error", NULL, NULL,
				"Invoice is already paid");
		return 0;
	}
	if (strcmp(status, "open") != 0) {
		snprintf(msg, sizeof(msg), "You can only pay an open invoice; this one is %s.",
			 status);
		sb_stripe_error(c, 400, "invalid_request_error", NULL, NULL, msg);
		return 0;
	}
	if (pm_param != NULL && pm_param[0] != '\0') {
		rc = strlen(pm_param) < SB_ID_MAX ? sb_stripe_pm_owned(pm_param, customer, NULL) : 0;
		if (rc < 0)
			return -1;
		if (rc == 0) {
			sb_stripe_missing(c, 400, "PaymentMethod", pm_param, "payment_method");
			return 0;
		}
		snprintf(pm, sizeof(pm), "%s", pm_param);
	}
	if (pm[0] == '\0' && sub[0] != '\0') {
		st = sb_db_stmt(SB_ST_SUB_GET);
		if (st == NULL)
			return -1;
		sqlite3_bind_text(st, 1, sub, -1, SQLITE_TRANSIENT);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW && sqlite3_column_type(st, 6) != SQLITE_NULL)
			snprintf(pm, sizeof(pm), "%s", (const char *)sqlite3_column_text(st, 6));
		sqlite3_reset(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return -1;
	}
	if (pm[0] == '\0' && sb_stripe_customer_default_pm(customer, pm, sizeof(pm)) < 0)
		return -1;
	if (pm[0] == '\0') {
		no_payment_method(c);
		return 0;
	}
	rc = charge(id, sub[0] ? sub : NULL, pm, customer, ch, sizeof(ch));
	if (rc < 0)
		return -1;
	if (rc == 1) {
		declined(c, ch);
		return 0;
	}
	if (invoice_json(id, &c->json) <= 0)
		return -1;
	c->status = 200;
	return 0;
}
