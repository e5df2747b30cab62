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
 *                                            default_payment_method,
 *                                            default_source
 *   DELETE /v1/subscriptions/{id}            cancel (voids the open invoice)
 *   GET    /v1/invoices/{id}                 retrieve
 *   POST   /v1/invoices/{id}/pay             charge the payment method
 *   POST   /v1/invoices/{id}/void            void an open invoice
 *
 * A subscription has one item; its first invoice (billing_reason
 * subscription_create) is made at creation, later ones (subscription_cycle)
 * by the billing run at each period end (sb_billing_run, driven by
 * POST /_sandbox/clock; the schedule is in control.c's header).  Prices
 * need not exist: any "price_..." id costs 100 cents in usd unless set
 * with POST /_sandbox/prices; a subscription keeps the amount its price had
 * when it was created (Stripe's prices are immutable).  payment_behavior:
 * allow_incomplete (Stripe's default; charges now, a decline leaves the
 * subscription incomplete), default_incomplete (no charge; invoice open),
 * error_if_incomplete (a decline is a 402 and nothing is created).
 *
 * An invoice is charged with, in Stripe's order: the pay request's
 * payment_method (or source), the subscription's default_payment_method,
 * its default_source, the customer's invoice_settings.default_payment_method,
 * the customer's default_source.
 *
 * Terminal statuses: canceled and incomplete_expired.  DELETE on either
 * answers 200 with the subscription unchanged.  Voiding the first invoice
 * of an incomplete subscription makes it incomplete_expired at once (the
 * 23-hour expiry, early: nothing can pay it any more).
 *
 * cancel_at_period_end=true sets canceled_at to the time of the request
 * and cancellation_details.reason "cancellation_requested" (the spec:
 * "canceled_at will reflect the time of the most recent update request,
 * not the end of the subscription period"); the period end then sets
 * status canceled and ended_at.  =false clears them again.
 *
 * Events (events.c), each in the transaction of its change:
 * customer.subscription.created / .updated (previous_attributes: status,
 * cancel_at_period_end with cancel_at and canceled_at, default_payment_method,
 * default_source, metadata, or the period fields at a renewal) / .deleted;
 * invoice.paid and invoice.payment_succeeded, invoice.payment_failed,
 * invoice.voided.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "sandbox.h"

#define PERIOD_SECONDS SB_PERIOD_SECONDS
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
int sb_stripe_invoice_json(const char *id, json_object **out)
{
	sqlite3_stmt *st = sb_db_stmt(SB_ST_INV_GET);
	json_object *o, *lines, *data, *line, *period, *trans, *tax, *pay;
	const char *status, *iid, *reason;
	long long due, paid, created, pstart, pend;
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
	pay = json_object_new_object();
	if (!o || !lines || !data || !line || !period || !trans || !tax || !pay) {
		json_object_put(o);
		json_object_put(lines);
		json_object_put(data);
		json_object_put(line);
		json_object_put(period);
		json_object_put(trans);
		json_object_put(tax);
		json_object_put(pay);
		sqlite3_reset(st);
		return -1;
	}
	iid = (const char *)sqlite3_column_text(st, 0);
	status = (const char *)sqlite3_column_text(st, 3);
	due = sqlite3_column_int64(st, 4);
	paid = sqlite3_column_int64(st, 5);
	created = sqlite3_column_int64(st, 8);
	reason = (const char *)sqlite3_column_text(st, 13);
	/* The invoice's own period is the usage period before it: empty for
	 * the first invoice, the period just ended for a renewal (its line
	 * bills the period starting now). */
	pstart = pend = created;
	if (strcmp(reason, "subscription_cycle") == 0) {
		pend = sqlite3_column_int64(st, 9);
		pstart = pend - PERIOD_SECONDS;
	}
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
	json_object_object_add(o, "billing_reason", json_object_new_string(reason));
	json_object_object_add(o, "charge", str_or_null(sqlite3_column_text(st, 7)));
	json_object_object_add(o, "collection_method",
			       json_object_new_string("charge_automatically"));
	json_object_object_add(o, "created", json_object_new_int64(created));
	json_object_object_add(o, "currency", json_object_new_string("usd"));
	json_object_object_add(o, "customer", str_or_null(sqlite3_column_text(st, 2)));
	json_object_object_add(o, "default_payment_method", NULL);
	json_object_object_add(o, "default_source", NULL);
	json_object_object_add(o, "default_tax_rates", json_object_new_array());
	json_object_object_add(o, "description", NULL);
	json_object_object_add(o, "ending_balance", json_object_new_int(0)); /* finalized */
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
	json_object_object_add(o, "next_payment_attempt", int_or_null(st, 14));
	json_object_object_add(o, "number", NULL);
	json_object_object_add(o, "paid", json_object_new_boolean(strcmp(status, "paid") == 0));
	json_object_object_add(o, "paid_out_of_band", json_object_new_boolean(0));
	json_object_object_add(o, "payment_intent", NULL);
	json_object_object_add(pay, "default_mandate", NULL);
	json_object_object_add(pay, "payment_method_options", NULL);
	json_object_object_add(pay, "payment_method_types", NULL);
	json_object_object_add(o, "payment_settings", pay);
	json_object_object_add(o, "period_end", json_object_new_int64(pend));
	json_object_object_add(o, "period_start", json_object_new_int64(pstart));
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
int sb_stripe_sub_json(const char *id, int expand_invoice, json_object **out)
{
	sqlite3_stmt *st = sb_db_stmt(SB_ST_SUB_GET);
	json_object *o = NULL, *items = NULL, *data = NULL, *item = NULL, *price = NULL;
	json_object *meta = NULL, *inv = NULL, *tax = NULL, *cd = NULL, *ps = NULL;
	char sid[SB_ID_MAX], inv_id[SB_ID_MAX] = "", url[SB_ID_MAX + 40], status[32];
	long long created, pend;
	int rc, res = -1, ended, cape;

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
	ended = sqlite3_column_type(st, 14) != SQLITE_NULL;
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
	json_object_object_add(o, "cancel_at", cape && !ended ? json_object_new_int64(pend) : NULL);
	json_object_object_add(o, "cancel_at_period_end", json_object_new_boolean(cape));
	json_object_object_add(o, "canceled_at", int_or_null(st, 9));
	json_object_object_add(cd, "comment", NULL);
	json_object_object_add(cd, "feedback", NULL);
	json_object_object_add(cd, "reason", str_or_null(sqlite3_column_text(st, 15)));
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
	json_object_object_add(o, "default_source", str_or_null(sqlite3_column_text(st, 13)));
	json_object_object_add(o, "default_tax_rates", json_object_new_array());
	json_object_object_add(o, "description", NULL);
	json_object_object_add(o, "discount", NULL);
	json_object_object_add(o, "ended_at", int_or_null(st, 14));

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
		if (sb_stripe_invoice_json(inv_id, &inv) < 0)
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
	if (sb_stripe_sub_json(id, wants_expand(c, "latest_invoice"), &c->json) <= 0)
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
		json_object_object_add(err, "charge",
				       charge[0] ? json_object_new_string(charge) : NULL);
		json_object_object_add(err, "decline_code", json_object_new_string("generic_decline"));
	}
}

static void no_payment_method(struct sb_ctx *c)
{
	sb_stripe_error(c, 400, "invalid_request_error", NULL, NULL,
			"This customer has no attached payment source or default payment "
			"method. Please consider adding a default payment method.");
}

static void copy_col(char *out, size_t n, sqlite3_stmt *st, int col)
{
	const unsigned char *v = sqlite3_column_text(st, col);

	snprintf(out, n, "%s", v != NULL ? (const char *)v : "");
}

/* What the state machine reads of a subscription ("" for NULL). */
struct sub_row {
	char id[SB_ID_MAX], customer[SB_ID_MAX], status[32], pm[SB_ID_MAX];
	char src[SB_ID_MAX], latest[SB_ID_MAX];
	long long amount, created, pstart, pend, canceled_at;
	int cape, has_canceled_at;
};

/* 1 loaded, 0 missing, -1 error. */
static int sub_load(const char *id, struct sub_row *r)
{
	sqlite3_stmt *st = sb_db_stmt(SB_ST_SUB_GET);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		copy_col(r->id, sizeof(r->id), st, 0);
		copy_col(r->customer, sizeof(r->customer), st, 1);
		copy_col(r->status, sizeof(r->status), st, 2);
		r->amount = sqlite3_column_int64(st, 4);
		copy_col(r->pm, sizeof(r->pm), st, 6);
		copy_col(r->latest, sizeof(r->latest), st, 7);
		r->cape = sqlite3_column_int(st, 8);
		r->has_canceled_at = sqlite3_column_type(st, 9) != SQLITE_NULL;
		r->canceled_at = sqlite3_column_int64(st, 9);
		r->created = sqlite3_column_int64(st, 10);
		r->pstart = sqlite3_column_int64(st, 11);
		r->pend = sqlite3_column_int64(st, 12);
		copy_col(r->src, sizeof(r->src), st, 13);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* What the state machine reads of an invoice. */
struct inv_row {
	char id[SB_ID_MAX], sub[SB_ID_MAX], customer[SB_ID_MAX], status[16], reason[32];
	long long attempts;
};

static int inv_load(const char *id, struct inv_row *r)
{
	sqlite3_stmt *st = sb_db_stmt(SB_ST_INV_GET);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		copy_col(r->id, sizeof(r->id), st, 0);
		copy_col(r->sub, sizeof(r->sub), st, 1);
		copy_col(r->customer, sizeof(r->customer), st, 2);
		copy_col(r->status, sizeof(r->status), st, 3);
		r->attempts = sqlite3_column_int64(st, 6);
		copy_col(r->reason, sizeof(r->reason), st, 13);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static int terminal(const char *status)
{
	return strcmp(status, "canceled") == 0 || strcmp(status, "incomplete_expired") == 0;
}

/* Emits an event whose data.object is subscription sub as it is now;
 * prev is taken over.  0 or -1. */
static int emit_sub(const struct sb_ctx *c, const char *type, const char *sub, json_object *prev)
{
	json_object *o;

	if (sb_stripe_sub_json(sub, 0, &o) <= 0) {
		json_object_put(prev);
		return -1;
	}
	return sb_event_emit(c, type, sub, o, prev);
}

static int emit_inv(const struct sb_ctx *c, const char *type, const char *inv)
{
	json_object *o;

	if (sb_stripe_invoice_json(inv, &o) <= 0)
		return -1;
	return sb_event_emit(c, type, inv, o, NULL);
}

static json_object *opt_int(int has, long long v)
{
	return has ? json_object_new_int64(v) : NULL;
}

static json_object *opt_str(const char *s)
{
	return s[0] != '\0' ? json_object_new_string(s) : NULL;
}

/* Sets r's status; when it changes, emits customer.subscription.updated
 * (previous_attributes {status}) and updates r.  0 or -1. */
static int set_status(const struct sb_ctx *c, struct sub_row *r, const char *status)
{
	sqlite3_stmt *st;
	json_object *prev;

	if (strcmp(r->status, status) == 0)
		return 0;
	st = sb_db_stmt(SB_ST_SUB_SET_STATUS);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, r->id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
	if (sb_db_done(st) != 0)
		return -1;
	prev = json_object_new_object();
	if (prev == NULL)
		return -1;
	json_object_object_add(prev, "status", json_object_new_string(r->status));
	snprintf(r->status, sizeof(r->status), "%s", status);
	return emit_sub(c, "customer.subscription.updated", r->id, prev);
}

/* Voids every open invoice of sub (voided_at now), each with an
 * invoice.voided event.  0 or -1. */
static int void_open(const struct sb_ctx *c, const char *sub)
{
	char ids[16][SB_ID_MAX];
	sqlite3_stmt *st;
	int rc = SQLITE_DONE, n, i;

	do { /* in batches: the events read the invoices back */
		st = sb_db_stmt(SB_ST_INV_OPEN_FOR_SUB);
		if (st == NULL)
			return -1;
		sqlite3_bind_text(st, 1, sub, -1, SQLITE_TRANSIENT);
		n = 0;
		while (n < 16 && (rc = sqlite3_step(st)) == SQLITE_ROW)
			copy_col(ids[n++], SB_ID_MAX, st, 0);
		sqlite3_reset(st);
		if (n < 16 && rc != SQLITE_DONE)
			return -1;
		for (i = 0; i < n; i++) {
			st = sb_db_stmt(SB_ST_INV_VOID);
			if (st == NULL)
				return -1;
			sqlite3_bind_text(st, 1, ids[i], -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(st, 2, sb_clock_now());
			if (sb_db_done(st) != 0 || emit_inv(c, "invoice.voided", ids[i]) != 0)
				return -1;
		}
	} while (n == 16);
	return 0;
}

/* Ends subscription r: its open invoices are voided, then status (canceled
 * or incomplete_expired), canceled_at, ended_at and the cancellation
 * reason (NULL = none) are set, with customer.subscription.deleted for
 * canceled, customer.subscription.updated (previous_attributes status,
 * canceled_at, ended_at) for incomplete_expired.  0 or -1. */
static int end_sub(const struct sb_ctx *c, struct sub_row *r, const char *status,
		   long long canceled_at, long long ended_at, const char *reason)
{
	sqlite3_stmt *st;
	json_object *prev = NULL;
	int expired = strcmp(status, "incomplete_expired") == 0;

	if (void_open(c, r->id) != 0)
		return -1;
	st = sb_db_stmt(SB_ST_SUB_END);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, r->id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, canceled_at);
	sqlite3_bind_int64(st, 4, ended_at);
	if (reason != NULL)
		sqlite3_bind_text(st, 5, reason, -1, SQLITE_STATIC);
	if (sb_db_done(st) != 0)
		return -1;
	if (expired) {
		prev = json_object_new_object();
		if (prev == NULL)
			return -1;
		json_object_object_add(prev, "canceled_at", opt_int(r->has_canceled_at, r->canceled_at));
		json_object_object_add(prev, "ended_at", NULL);
		json_object_object_add(prev, "status", json_object_new_string(r->status));
	}
	snprintf(r->status, sizeof(r->status), "%s", status);
	return emit_sub(c, expired ? "customer.subscription.updated" : "customer.subscription.deleted",
			r->id, prev);
}

/* The payment method an invoice of r (NULL: none) and customer is charged
 * with when the request names none: the subscription's
 * default_payment_method, its default_source, the customer's
 * invoice_settings.default_payment_method, the customer's default_source.
 * "" when there is none.  0 or -1. */
static int resolve_pm(const struct sub_row *r, const char *customer, char *out, size_t n)
{
	char pm[SB_ID_MAX], src[SB_ID_MAX];

	out[0] = '\0';
	if (r != NULL && r->pm[0] != '\0') {
		snprintf(out, n, "%s", r->pm);
		return 0;
	}
	if (r != NULL && r->src[0] != '\0') {
		snprintf(out, n, "%s", r->src);
		return 0;
	}
	if (sb_stripe_customer_defaults(customer, pm, sizeof(pm), src, sizeof(src)) < 0)
		return -1;
	snprintf(out, n, "%s", pm[0] != '\0' ? pm : src);
	return 0;
}

/* Attempts a payment of open invoice inv with pm ("" = none: a failed
 * attempt without a charge), a payment method or card of customer.
 * Paid: status paid, paid_at now, next_payment_attempt cleared,
 * invoice.paid and invoice.payment_succeeded; returns 0.  Declined:
 * attempt_count + 1, next_payment_attempt = next (0: none) unless
 * keep_next (a manual attempt leaves the retry schedule alone),
 * invoice.payment_failed; returns 1 with the charge id in ch ("" when
 * there was no payment method).  -1 on error. */
static int charge(const struct sb_ctx *c, const char *inv, const char *pm, const char *customer,
		  long long next, int keep_next, char *ch, size_t n)
{
	sqlite3_stmt *st;
	json_object *o;
	int declines = 1, rc;

	ch[0] = '\0';
	if (pm[0] != '\0') {
		rc = sb_stripe_pm_owned(pm, customer, &declines);
		if (rc < 0)
			return -1;
		if (rc == 0)
			declines = 1; /* not the customer's: cannot be charged */
		sb_id_new(ch, n, "ch_", 24);
	}
	st = sb_db_stmt(declines ? SB_ST_INV_ATTEMPT : SB_ST_INV_PAID);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, inv, -1, SQLITE_TRANSIENT);
	if (ch[0] != '\0')
		sqlite3_bind_text(st, 2, ch, -1, SQLITE_TRANSIENT);
	if (!declines) {
		sqlite3_bind_int64(st, 3, sb_clock_now());
		sqlite3_bind_text(st, 4, pm, -1, SQLITE_TRANSIENT);
	} else {
		if (pm[0] != '\0')
			sqlite3_bind_text(st, 3, pm, -1, SQLITE_TRANSIENT);
		if (next > 0)
			sqlite3_bind_int64(st, 4, next);
		sqlite3_bind_int(st, 5, keep_next);
	}
	if (sb_db_done(st) != 0)
		return -1;
	if (declines)
		return emit_inv(c, "invoice.payment_failed", inv) != 0 ? -1 : 1;
	/* Both events carry the same snapshot: built once, shared. */
	if (sb_stripe_invoice_json(inv, &o) <= 0)
		return -1;
	if (sb_event_emit(c, "invoice.paid", inv, json_object_get(o), NULL) != 0) {
		json_object_put(o);
		return -1;
	}
	return sb_event_emit(c, "invoice.payment_succeeded", inv, o, NULL) != 0 ? -1 : 0;
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

/* Validates a subscription's default_source: a card source of customer.
 * 0 ok, 1 error reply set, -1 error. */
static int check_source(struct sb_ctx *c, const char *src, const char *customer)
{
	int rc = strlen(src) < SB_ID_MAX ? sb_stripe_source_owned(src, customer) : 0;

	if (rc < 0)
		return -1;
	if (rc == 1)
		return 0;
	sb_stripe_missing(c, 400, "source", strlen(src) < SB_ID_MAX ? src : "(too long)",
			  "default_source");
	return 1;
}

/* POST /v1/subscriptions: 200 subscription; 400 bad/missing parameters,
 * unknown customer, pm not attached, default_source not the customer's;
 * 402 decline with error_if_incomplete.  Emits
 * customer.subscription.created, and the payment's events when it charges
 * (allow_incomplete, error_if_incomplete). */
int sb_stripe_sub_create(struct sb_ctx *c)
{
	const char *customer = sb_form_get(&c->form, "customer");
	const char *price = sb_form_get(&c->form, "items[0][price]");
	const char *pm = sb_form_get(&c->form, "default_payment_method");
	const char *src = sb_form_get(&c->form, "default_source");
	const char *behavior = sb_form_get(&c->form, "payment_behavior");
	char cus_pm[SB_ID_MAX], cus_src[SB_ID_MAX], sub[SB_ID_MAX], item[SB_ID_MAX];
	char inv[SB_ID_MAX], ch[SB_ID_MAX], msg[SB_SEG_MAX + 64];
	const char *pay_pm;
	long long amount, now = sb_clock_now();
	struct sub_row r;
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
	rc = sb_stripe_customer_defaults(customer, cus_pm, sizeof(cus_pm), cus_src,
					 sizeof(cus_src));
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
	if (src != NULL && src[0] != '\0') {
		rc = check_source(c, src, customer);
		if (rc != 0)
			return rc < 0 ? -1 : 0;
	} else {
		src = NULL;
	}
	pay_pm = pm != NULL ? pm : src != NULL ? src : cus_pm[0] ? cus_pm : cus_src;
	if (pay_pm[0] == '\0' && strcmp(behavior, "default_incomplete") != 0) {
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
	if (src != NULL)
		sqlite3_bind_text(st, 12, src, -1, SQLITE_TRANSIENT);
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
	sqlite3_bind_text(st, 8, "subscription_create", -1, SQLITE_STATIC);
	if (sb_db_done(st) != 0 || put_metadata(c, sub) != 0 ||
	    emit_sub(c, "customer.subscription.created", sub, NULL) != 0)
		return -1;

	if (strcmp(behavior, "default_incomplete") != 0) {
		rc = charge(c, inv, pay_pm, customer, 0, 0, ch, sizeof(ch));
		if (rc < 0)
			return -1;
		if (rc == 1 && strcmp(behavior, "error_if_incomplete") == 0) {
			/* Stripe creates nothing; the decline itself is the
			 * reply (and its events go with the rest). */
			if (sb_db_undo() != 0)
				return -1;
			declined(c, ch);
			return 0;
		}
		if (rc == 0 && (sub_load(sub, &r) <= 0 || set_status(c, &r, "active") != 0))
			return -1;
	}
	return reply_sub(c, sub);
}

/* GET /v1/subscriptions/{id}: 200; 404 resource_missing. */
int sb_stripe_sub_get(struct sb_ctx *c)
{
	int rc = sb_stripe_sub_json(c->seg[0], wants_expand(c, "latest_invoice"), &c->json);

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

		if (sb_stripe_sub_json(ids[i], expand, &o) <= 0)
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

		if (sb_stripe_sub_json(ids[rc], wants_expand(c, "data.latest_invoice"), &s) <= 0)
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

/* metadata_json(sub) serialised into a new string (caller frees); NULL on
 * failure. */
static char *metadata_text(const char *sub)
{
	json_object *m = metadata_json(sub);
	char *t = NULL;

	if (m != NULL) {
		const char *s = json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN);

		t = s != NULL ? strdup(s) : NULL;
	}
	json_object_put(m);
	return t;
}

/* POST /v1/subscriptions/{id}: cancel_at_period_end=true|false,
 * default_payment_method, default_source, metadata[...].  200; 400
 * invalid, or a change other than metadata to an ended (canceled,
 * incomplete_expired) subscription; 404 unknown.  Any change emits
 * customer.subscription.updated with the old values in
 * previous_attributes. */
int sb_stripe_sub_update(struct sb_ctx *c)
{
	const char *id = c->seg[0];
	const char *cape = sb_form_get(&c->form, "cancel_at_period_end");
	const char *pm = sb_form_get(&c->form, "default_payment_method");
	const char *src = sb_form_get(&c->form, "default_source");
	char msg[SB_SEG_MAX + 160], *meta_before = NULL, *meta_after = NULL;
	struct sub_row r;
	json_object *prev = NULL;
	sqlite3_stmt *st;
	int rc, flag = 0, res = -1;

	rc = sub_load(id, &r);
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
	if (terminal(r.status) && (cape != NULL || pm != NULL || src != NULL)) {
		sb_stripe_error(c, 400, "invalid_request_error", NULL, NULL,
				"A canceled subscription can only update its "
				"cancellation_details and metadata.");
		return 0;
	}
	if (check_metadata(c))
		return 0;
	if (pm != NULL && pm[0] != '\0') {
		rc = strlen(pm) < SB_ID_MAX ? sb_stripe_pm_owned(pm, r.customer, NULL) : 0;
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
	if (src != NULL && src[0] != '\0') {
		rc = check_source(c, src, r.customer);
		if (rc != 0)
			return rc < 0 ? -1 : 0;
	}
	prev = json_object_new_object();
	meta_before = metadata_text(id);
	if (prev == NULL || meta_before == NULL)
		goto out;
	if (cape != NULL && flag != r.cape) {
		st = sb_db_stmt(SB_ST_SUB_SET_CAPE);
		if (st == NULL)
			goto out;
		sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 2, flag);
		if (flag) {
			sqlite3_bind_int64(st, 3, sb_clock_now());
			sqlite3_bind_text(st, 4, "cancellation_requested", -1, SQLITE_STATIC);
		}
		if (sb_db_done(st) != 0)
			goto out;
		json_object_object_add(prev, "cancel_at", opt_int(r.cape, r.pend));
		json_object_object_add(prev, "cancel_at_period_end", json_object_new_boolean(r.cape));
		json_object_object_add(prev, "canceled_at", opt_int(r.has_canceled_at, r.canceled_at));
	}
	if (pm != NULL && strcmp(pm, r.pm) != 0) {
		st = sb_db_stmt(SB_ST_SUB_SET_PM);
		if (st == NULL)
			goto out;
		sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
		if (pm[0] != '\0')
			sqlite3_bind_text(st, 2, pm, -1, SQLITE_TRANSIENT);
		if (sb_db_done(st) != 0)
			goto out;
		json_object_object_add(prev, "default_payment_method", opt_str(r.pm));
	}
	if (src != NULL && strcmp(src, r.src) != 0) {
		st = sb_db_stmt(SB_ST_SUB_SET_SOURCE);
		if (st == NULL)
			goto out;
		sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
		if (src[0] != '\0')
			sqlite3_bind_text(st, 2, src, -1, SQLITE_TRANSIENT);
		if (sb_db_done(st) != 0)
			goto out;
		json_object_object_add(prev, "default_source", opt_str(r.src));
	}
	if (put_metadata(c, id) != 0)
		goto out;
	meta_after = metadata_text(id);
	if (meta_after == NULL)
		goto out;
	if (strcmp(meta_before, meta_after) != 0)
		json_object_object_add(prev, "metadata", json_tokener_parse(meta_before));
	if (json_object_object_length(prev) > 0) {
		rc = emit_sub(c, "customer.subscription.updated", id, prev);
		prev = NULL;
		if (rc != 0)
			goto out;
	}
	res = reply_sub(c, id);
out:
	json_object_put(prev);
	free(meta_before);
	free(meta_after);
	return res;
}

/* DELETE /v1/subscriptions/{id}: cancels now (cancellation_details.reason
 * cancellation_requested) and voids the open invoice, with
 * invoice.voided and customer.subscription.deleted; an ended (canceled or
 * incomplete_expired) one is returned unchanged.  200; 404 unknown. */
int sb_stripe_sub_cancel(struct sb_ctx *c)
{
	const char *id = c->seg[0];
	long long now = sb_clock_now();
	struct sub_row r;
	int rc;

	rc = sub_load(id, &r);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		sb_stripe_missing(c, 404, "subscription", id, "id");
		return 0;
	}
	if (!terminal(r.status) && end_sub(c, &r, "canceled", now, now, "cancellation_requested") != 0)
		return -1;
	return reply_sub(c, id);
}

/* GET /v1/invoices/{id}: 200; 404 resource_missing. */
int sb_stripe_invoice_get(struct sb_ctx *c)
{
	int rc = sb_stripe_invoice_json(c->seg[0], &c->json);

	if (rc < 0)
		return -1;
	if (rc == 0)
		sb_stripe_missing(c, 404, "invoice", c->seg[0], "id");
	else
		c->status = 200;
	return 0;
}

/* POST /v1/invoices/{id}/pay [payment_method=pm_... | source=card_...]:
 * charges it, else the subscription's and then the customer's defaults
 * (the order is in the header).  200 paid invoice (an incomplete or
 * past_due subscription becomes active); 400 already paid, void, no
 * payment method, a payment method not the customer's; 402 card_declined
 * (attempt recorded, invoice stays open, invoice.payment_failed); 404
 * unknown. */
int sb_stripe_invoice_pay(struct sb_ctx *c)
{
	const char *id = c->seg[0];
	const char *pm_param = sb_form_get(&c->form, "payment_method");
	const char *param = "payment_method";
	char pm[SB_ID_MAX] = "", ch[SB_ID_MAX], msg[SB_SEG_MAX + 160];
	struct inv_row inv;
	struct sub_row r;
	int rc, has_sub = 0;

	if (pm_param == NULL || pm_param[0] == '\0') {
		pm_param = sb_form_get(&c->form, "source");
		param = "source";
	}
	rc = inv_load(id, &inv);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		sb_stripe_missing(c, 404, "invoice", id, "id");
		return 0;
	}
	if (strcmp(inv.status, "paid") == 0) {
		sb_stripe_error(c, 400, "invalid_request_error", NULL, NULL,
				"Invoice is already paid");
		return 0;
	}
	if (strcmp(inv.status, "open") != 0) {
		snprintf(msg, sizeof(msg), "You can only pay an open invoice; this one is %s.",
			 inv.status);
		sb_stripe_error(c, 400, "invalid_request_error", NULL, NULL, msg);
		return 0;
	}
	if (inv.sub[0] != '\0') {
		rc = sub_load(inv.sub, &r);
		if (rc < 0)
			return -1;
		has_sub = rc == 1;
	}
	if (pm_param != NULL && pm_param[0] != '\0') {
		rc = strlen(pm_param) < SB_ID_MAX ? sb_stripe_pm_owned(pm_param, inv.customer, NULL) : 0;
		if (rc < 0)
			return -1;
		if (rc == 0) {
			sb_stripe_missing(c, 400, strcmp(param, "source") == 0 ? "source" : "PaymentMethod",
					  strlen(pm_param) < SB_ID_MAX ? pm_param : "(too long)", param);
			return 0;
		}
		snprintf(pm, sizeof(pm), "%s", pm_param);
	} else if (resolve_pm(has_sub ? &r : NULL, inv.customer, pm, sizeof(pm)) != 0) {
		return -1;
	}
	if (pm[0] == '\0') {
		no_payment_method(c);
		return 0;
	}
	rc = charge(c, id, pm, inv.customer, 0, 1, ch, sizeof(ch));
	if (rc < 0)
		return -1;
	if (rc == 1) {
		declined(c, ch);
		return 0;
	}
	if (has_sub && (strcmp(r.status, "incomplete") == 0 || strcmp(r.status, "past_due") == 0) &&
	    set_status(c, &r, "active") != 0)
		return -1;
	if (sb_stripe_invoice_json(id, &c->json) <= 0)
		return -1;
	c->status = 200;
	return 0;
}

/* POST /v1/invoices/{id}/void: an open invoice becomes void
 * (status_transitions.voided_at now; invoice.voided); it can never be paid
 * afterwards.  Voiding the first invoice of an incomplete subscription
 * ends the subscription as incomplete_expired.  200 invoice; 400
 * invalid_request_error "You can only void an open invoice; this one is
 * <status>." for a paid, void, draft or uncollectible one (nothing
 * changes); 404 unknown. */
int sb_stripe_invoice_void(struct sb_ctx *c)
{
	const char *id = c->seg[0];
	char msg[160];
	struct inv_row inv;
	struct sub_row r;
	sqlite3_stmt *st;
	int rc;

	rc = inv_load(id, &inv);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		sb_stripe_missing(c, 404, "invoice", id, "id");
		return 0;
	}
	if (strcmp(inv.status, "open") != 0) {
		snprintf(msg, sizeof(msg), "You can only void an open invoice; this one is %s.",
			 inv.status);
		sb_stripe_error(c, 400, "invalid_request_error", NULL, NULL, msg);
		return 0;
	}
	st = sb_db_stmt(SB_ST_INV_VOID);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, sb_clock_now());
	if (sb_db_done(st) != 0 || emit_inv(c, "invoice.voided", id) != 0)
		return -1;
	if (inv.sub[0] != '\0' && strcmp(inv.reason, "subscription_create") == 0) {
		long long now = sb_clock_now();

		rc = sub_load(inv.sub, &r);
		if (rc < 0)
			return -1;
		if (rc == 1 && strcmp(r.status, "incomplete") == 0 &&
		    end_sub(c, &r, "incomplete_expired", now, now, NULL) != 0)
			return -1;
	}
	if (sb_stripe_invoice_json(id, &c->json) <= 0)
		return -1;
	c->status = 200;
	return 0;
}

/* --- the billing run ---------------------------------------------------- */

/* incomplete for 23 hours: incomplete_expired, the open invoice voided. */
static int bill_expire(const char *sub, long long t)
{
	struct sub_row r;
	int rc = sub_load(sub, &r);

	if (rc <= 0)
		return -1;
	return end_sub(NULL, &r, "incomplete_expired", t, t, NULL);
}

/* Period end t of an active or past_due subscription: canceled when
 * cancel_at_period_end, else renewed and charged. */
static int bill_period_end(const char *sub, long long t)
{
	char inv[SB_ID_MAX], pm[SB_ID_MAX], ch[SB_ID_MAX];
	struct sub_row r;
	json_object *prev;
	sqlite3_stmt *st;
	int rc = sub_load(sub, &r);

	if (rc <= 0)
		return -1;
	if (r.cape)
		return end_sub(NULL, &r, "canceled", r.has_canceled_at ? r.canceled_at : t, t,
			       "cancellation_requested");
	sb_id_new(inv, sizeof(inv), "in_", 14);
	st = sb_db_stmt(SB_ST_INV_INS);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, inv, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, sub, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, r.customer, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, r.amount);
	sqlite3_bind_int64(st, 5, t);
	sqlite3_bind_int64(st, 6, t);
	sqlite3_bind_int64(st, 7, t + PERIOD_SECONDS);
	sqlite3_bind_text(st, 8, "subscription_cycle", -1, SQLITE_STATIC);
	if (sb_db_done(st) != 0)
		return -1;
	st = sb_db_stmt(SB_ST_SUB_RENEW);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, sub, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, t);
	sqlite3_bind_int64(st, 3, t + PERIOD_SECONDS);
	sqlite3_bind_text(st, 4, inv, -1, SQLITE_TRANSIENT);
	if (sb_db_done(st) != 0)
		return -1;
	prev = json_object_new_object();
	if (prev == NULL)
		return -1;
	json_object_object_add(prev, "current_period_end", json_object_new_int64(r.pend));
	json_object_object_add(prev, "current_period_start", json_object_new_int64(r.pstart));
	json_object_object_add(prev, "latest_invoice", opt_str(r.latest));
	if (emit_sub(NULL, "customer.subscription.updated", sub, prev) != 0 ||
	    resolve_pm(&r, r.customer, pm, sizeof(pm)) != 0)
		return -1;
	rc = charge(NULL, inv, pm, r.customer, SB_RETRY_ATTEMPTS > 1 ? t + SB_RETRY_SECONDS : 0, 0,
		    ch, sizeof(ch));
	if (rc < 0)
		return -1;
	return set_status(NULL, &r, rc == 0 ? "active" : "past_due");
}

/* A retry at t of open invoice inv: paid -> active; the last failed
 * attempt cancels the subscription. */
static int bill_retry(const char *id, long long t)
{
	char pm[SB_ID_MAX], ch[SB_ID_MAX];
	struct inv_row inv;
	struct sub_row r;
	int rc, has_sub = 0, last;

	if (inv_load(id, &inv) <= 0)
		return -1;
	if (inv.sub[0] != '\0') {
		rc = sub_load(inv.sub, &r);
		if (rc < 0)
			return -1;
		has_sub = rc == 1;
	}
	if (resolve_pm(has_sub ? &r : NULL, inv.customer, pm, sizeof(pm)) != 0)
		return -1;
	last = inv.attempts + 1 >= SB_RETRY_ATTEMPTS;
	rc = charge(NULL, id, pm, inv.customer, last ? 0 : t + SB_RETRY_SECONDS, 0, ch, sizeof(ch));
	if (rc < 0 || !has_sub || terminal(r.status))
		return rc < 0 ? -1 : 0;
	if (rc == 0)
		return set_status(NULL, &r, "active");
	if (last)
		return end_sub(NULL, &r, "canceled", t, t, "payment_failed");
	return 0;
}

/* The earliest item of one queue due by target: its id and moment.
 * 1 found, 0 none, -1 error. */
static int next_due(enum sb_stmt q, long long target, char *id, long long *t)
{
	sqlite3_stmt *st = sb_db_stmt(q);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, target);
	if (q == SB_ST_BILL_EXPIRE_NEXT)
		sqlite3_bind_int64(st, 2, SB_INCOMPLETE_SECONDS);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		copy_col(id, SB_ID_MAX, st, 0);
		*t = sqlite3_column_int64(st, 1) +
		     (q == SB_ST_BILL_EXPIRE_NEXT ? SB_INCOMPLETE_SECONDS : 0);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int sb_billing_run(long long target, long *steps)
{
	/* Ties at one moment: retries, then period ends, then expiries. */
	static const enum sb_stmt queues[3] = { SB_ST_BILL_RETRY_NEXT, SB_ST_BILL_PERIOD_NEXT,
						SB_ST_BILL_EXPIRE_NEXT };
	char id[3][SB_ID_MAX];
	long long t[3];
	int found[3], i, best, rc = 0;

	*steps = 0;
	for (;;) {
		best = -1;
		for (i = 0; i < 3; i++) {
			found[i] = next_due(queues[i], target, id[i], &t[i]);
			if (found[i] < 0)
				goto fail;
			if (found[i] && (best < 0 || t[i] < t[best]))
				best = i;
		}
		if (best < 0)
			break;
		/* Each step is stamped with its own moment. */
		sb_clock_pin(t[best]);
		if (queues[best] == SB_ST_BILL_RETRY_NEXT)
			rc = bill_retry(id[best], t[best]);
		else if (queues[best] == SB_ST_BILL_PERIOD_NEXT)
			rc = bill_period_end(id[best], t[best]);
		else
			rc = bill_expire(id[best], t[best]);
		sb_clock_unpin();
		if (rc != 0)
			goto fail;
		++*steps;
	}
	return 0;
fail:
	sb_clock_unpin();
	return -1;
}
