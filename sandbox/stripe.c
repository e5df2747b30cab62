/*
 * stripe.c -- Stripe error bodies, customers and payment methods
 * (API version 2023-08-16, ../shared/specs/stripe_spec3.yaml):
 *
 *   POST /v1/customers                        create
 *   GET  /v1/customers/{customer}             retrieve
 *   POST /v1/customers/{customer}             update invoice_settings
 *                                             [default_payment_method],
 *                                             default_source
 *   POST /v1/payment_methods/{pm}/attach      attach
 *   POST /v1/customers/{customer}/sources     source=tok_...: a legacy
 *                                             card source ("card_...")
 *
 * Test payment methods, as in Stripe's test mode: attaching one of the
 * tokens below creates a new "pm_..." remembering the card's behaviour.
 *   pm_card_visa                 4242, every charge succeeds
 *   pm_card_chargeCustomerFail   0341, attaches, every charge declines
 *   pm_card_chargeDeclined       0002, declined at attach (402)
 * and the legacy tokens for sources, which create a "card_...":
 *   tok_visa, tok_chargeCustomerFail, tok_chargeDeclined (same cards).
 * A card source is charged like a payment method (it is stored with them,
 * object "card"); the customer's first card becomes its default_source.
 *
 * Events: customer.updated when invoice_settings.default_payment_method or
 * default_source changes (previous_attributes: the old value).
 */
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "sandbox.h"

struct test_card {
	const char *token;
	const char *last4;
	int declines;       /* charges decline */
	int attach_declined; /* attaching declines */
};

static const struct test_card test_cards[] = {
	{ "pm_card_visa", "4242", 0, 0 },
	{ "pm_card_chargeCustomerFail", "0341", 1, 0 },
	{ "pm_card_chargeDeclined", "0002", 1, 1 },
};

static const struct test_card test_tokens[] = {
	{ "tok_visa", "4242", 0, 0 },
	{ "tok_chargeCustomerFail", "0341", 1, 0 },
	{ "tok_chargeDeclined", "0002", 1, 1 },
};

void sb_stripe_error(struct sb_ctx *c, int status, const char *type, const char *code,
		     const char *param, const char *message)
{
	json_object *err = json_object_new_object(), *root = json_object_new_object();

	json_object_put(c->json);
	c->json = NULL;
	c->status = status;
	if (err == NULL || root == NULL) {
		json_object_put(err);
		json_object_put(root);
		return;
	}
	if (code != NULL) {
		char doc[128];
		size_t i;

		json_object_object_add(err, "code", json_object_new_string(code));
		snprintf(doc, sizeof(doc), "https://stripe.com/docs/error-codes/%s", code);
		for (i = 0; doc[i]; i++)
			if (doc[i] == '_')
				doc[i] = '-';
		json_object_object_add(err, "doc_url", json_object_new_string(doc));
	}
	json_object_object_add(err, "message", json_object_new_string(message));
	if (param != NULL)
		json_object_object_add(err, "param", json_object_new_string(param));
	json_object_object_add(err, "type", json_object_new_string(type));
	json_object_object_add(root, "error", err);
	c->json = root;
}

void sb_stripe_missing(struct sb_ctx *c, int status, const char *what, const char *id,
		       const char *param)
{
	char msg[SB_SEG_MAX + 64];

	snprintf(msg, sizeof(msg), "No such %s: '%s'", what, id);
	sb_stripe_error(c, status, "invalid_request_error", "resource_missing", param, msg);
}

static void parameter_missing(struct sb_ctx *c, const char *param)
{
	char msg[128];

	snprintf(msg, sizeof(msg), "Missing required param: %s.", param);
	sb_stripe_error(c, 400, "invalid_request_error", "parameter_missing", param, msg);
}

static json_object *str_or_null(const unsigned char *s)
{
	return s != NULL ? json_object_new_string((const char *)s) : NULL;
}

/* Loads a customer as a Stripe object.  1 found, 0 missing, -1 error. */
int sb_stripe_customer_json(const char *id, json_object **out)
{
	sqlite3_stmt *st = sb_db_stmt(SB_ST_CUS_GET);
	json_object *o, *inv;
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
	inv = json_object_new_object();
	if (o == NULL || inv == NULL) {
		json_object_put(o);
		json_object_put(inv);
		sqlite3_reset(st);
		return -1;
	}
	json_object_object_add(o, "id", str_or_null(sqlite3_column_text(st, 0)));
	json_object_object_add(o, "object", json_object_new_string("customer"));
	json_object_object_add(o, "address", NULL);
	json_object_object_add(o, "balance", json_object_new_int(0));
	json_object_object_add(o, "created", json_object_new_int64(sqlite3_column_int64(st, 4)));
	json_object_object_add(o, "currency", NULL);
	json_object_object_add(o, "default_source", str_or_null(sqlite3_column_text(st, 5)));
	json_object_object_add(o, "delinquent", json_object_new_boolean(0));
	json_object_object_add(o, "description", NULL);
	json_object_object_add(o, "discount", NULL);
	json_object_object_add(o, "email", str_or_null(sqlite3_column_text(st, 2)));
	json_object_object_add(o, "invoice_prefix", json_object_new_string("SANDBOX"));
	json_object_object_add(inv, "custom_fields", NULL);
	json_object_object_add(inv, "default_payment_method",
			       str_or_null(sqlite3_column_text(st, 3)));
	json_object_object_add(inv, "footer", NULL);
	json_object_object_add(inv, "rendering_options", NULL);
	json_object_object_add(o, "invoice_settings", inv);
	json_object_object_add(o, "livemode", json_object_new_boolean(0));
	json_object_object_add(o, "metadata", json_object_new_object());
	json_object_object_add(o, "name", str_or_null(sqlite3_column_text(st, 1)));
	json_object_object_add(o, "next_invoice_sequence", json_object_new_int(1));
	json_object_object_add(o, "phone", NULL);
	json_object_object_add(o, "preferred_locales", json_object_new_array());
	json_object_object_add(o, "shipping", NULL);
	json_object_object_add(o, "tax_exempt", json_object_new_string("none"));
	json_object_object_add(o, "test_clock", NULL);
	sqlite3_reset(st);
	*out = o;
	return 1;
}

/* Loads a payment method as a Stripe object.  1 found, 0 missing, -1. */
static int pm_json(const char *id, json_object **out)
{
	sqlite3_stmt *st = sb_db_stmt(SB_ST_PM_GET);
	json_object *o, *card, *bd, *addr, *checks, *nets, *avail, *tds;
	const char *last4;
	char fp[20];
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
	last4 = (const char *)sqlite3_column_text(st, 3);
	o = json_object_new_object();
	card = json_object_new_object();
	bd = json_object_new_object();
	addr = json_object_new_object();
	checks = json_object_new_object();
	nets = json_object_new_object();
	avail = json_object_new_array();
	tds = json_object_new_object();
	if (!o || !card || !bd || !addr || !checks || !nets || !avail || !tds) {
		json_object_put(o);
		json_object_put(card);
		json_object_put(bd);
		json_object_put(addr);
		json_object_put(checks);
		json_object_put(nets);
		json_object_put(avail);
		json_object_put(tds);
		sqlite3_reset(st);
		return -1;
	}
	json_object_object_add(o, "id", str_or_null(sqlite3_column_text(st, 0)));
	json_object_object_add(o, "object", json_object_new_string("payment_method"));
	json_object_object_add(addr, "city", NULL);
	json_object_object_add(addr, "country", NULL);
	json_object_object_add(addr, "line1", NULL);
	json_object_object_add(addr, "line2", NULL);
	json_object_object_add(addr, "postal_code", NULL);
	json_object_object_add(addr, "state", NULL);
	json_object_object_add(bd, "address", addr);
	json_object_object_add(bd, "email", NULL);
	json_object_object_add(bd, "name", NULL);
	json_object_object_add(bd, "phone", NULL);
	json_object_object_add(o, "billing_details", bd);
	json_object_object_add(card, "brand", json_object_new_string("visa"));
	json_object_object_add(checks, "address_line1_check", NULL);
	json_object_object_add(checks, "address_postal_code_check", NULL);
	json_object_object_add(checks, "cvc_check", json_object_new_string("unchecked"));
	json_object_object_add(card, "checks", checks);
	json_object_object_add(card, "country", json_object_new_string("US"));
	json_object_object_add(card, "exp_month", json_object_new_int(12));
	json_object_object_add(card, "exp_year", json_object_new_int(2034));
	snprintf(fp, sizeof(fp), "sandboxfp%s", last4 ? last4 : "0000");
	json_object_object_add(card, "fingerprint", json_object_new_string(fp));
	json_object_object_add(card, "funding", json_object_new_string("credit"));
	json_object_object_add(card, "generated_from", NULL);
	json_object_object_add(card, "last4", json_object_new_string(last4 ? last4 : "0000"));
	json_object_array_add(avail, json_object_new_string("visa"));
	json_object_object_add(nets, "available", avail);
	json_object_object_add(nets, "preferred", NULL);
	json_object_object_add(card, "networks", nets);
	json_object_object_add(tds, "supported", json_object_new_boolean(1));
	json_object_object_add(card, "three_d_secure_usage", tds);
	json_object_object_add(card, "wallet", NULL);
	json_object_object_add(o, "card", card);
	json_object_object_add(o, "created", json_object_new_int64(sqlite3_column_int64(st, 4)));
	json_object_object_add(o, "customer", str_or_null(sqlite3_column_text(st, 1)));
	json_object_object_add(o, "livemode", json_object_new_boolean(0));
	json_object_object_add(o, "metadata", json_object_new_object());
	json_object_object_add(o, "type", json_object_new_string("card"));
	sqlite3_reset(st);
	*out = o;
	return 1;
}

int sb_stripe_pm_owned(const char *pm, const char *customer, int *declines)
{
	sqlite3_stmt *st = sb_db_stmt(SB_ST_PM_GET);
	const unsigned char *owner;
	int rc, res;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, pm, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? 0 : -1;
	}
	owner = sqlite3_column_text(st, 1);
	res = owner != NULL && strcmp((const char *)owner, customer) == 0;
	if (declines != NULL)
		*declines = sqlite3_column_int(st, 2);
	sqlite3_reset(st);
	return res;
}

int sb_stripe_source_owned(const char *card, const char *customer)
{
	sqlite3_stmt *st = sb_db_stmt(SB_ST_PM_GET);
	const unsigned char *owner, *object;
	int rc, res;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, card, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? 0 : -1;
	}
	owner = sqlite3_column_text(st, 1);
	object = sqlite3_column_text(st, 5);
	res = owner != NULL && strcmp((const char *)owner, customer) == 0 && object != NULL &&
	      strcmp((const char *)object, "card") == 0;
	sqlite3_reset(st);
	return res;
}

int sb_stripe_customer_defaults(const char *id, char *pm, size_t pn, char *src, size_t sn)
{
	sqlite3_stmt *st = sb_db_stmt(SB_ST_CUS_GET);
	const unsigned char *v;
	int rc;

	if (pm != NULL)
		pm[0] = '\0';
	if (src != NULL)
		src[0] = '\0';
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? 0 : -1;
	}
	v = sqlite3_column_text(st, 3);
	if (pm != NULL && v != NULL)
		snprintf(pm, pn, "%s", (const char *)v);
	v = sqlite3_column_text(st, 5);
	if (src != NULL && v != NULL)
		snprintf(src, sn, "%s", (const char *)v);
	sqlite3_reset(st);
	return 1;
}

/* Attaches pm (a test token or an existing id) to customer.  On success
 * writes the payment method id into out and returns 0; returns 1 with an
 * error reply in c (missing_status for an unknown pm), -1 on failure. */
static int attach(struct sb_ctx *c, const char *pm, const char *customer, int missing_status,
		  const char *param, char *out, size_t n)
{
	sqlite3_stmt *st;
	const struct test_card *tc = NULL;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(test_cards) / sizeof(test_cards[0]); i++)
		if (strcmp(pm, test_cards[i].token) == 0)
			tc = &test_cards[i];
	if (tc != NULL) {
		if (tc->attach_declined) {
			sb_stripe_error(c, 402, "card_error", "card_declined", NULL,
					"Your card was declined.");
			json_object_object_add(json_object_object_get(c->json, "error"),
					       "decline_code",
					       json_object_new_string("generic_decline"));
			return 1;
		}
		sb_id_new(out, n, "pm_", 24);
		st = sb_db_stmt(SB_ST_PM_INS);
		if (st == NULL)
			return -1;
		sqlite3_bind_text(st, 1, out, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, customer, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 3, tc->declines);
		sqlite3_bind_text(st, 4, tc->last4, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, sb_clock_now());
		sqlite3_bind_text(st, 6, "payment_method", -1, SQLITE_STATIC);
		return sb_db_done(st);
	}

	st = sb_db_stmt(SB_ST_PM_GET);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, pm, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		sb_stripe_missing(c, missing_status, "PaymentMethod", pm, param);
		return 1;
	}
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return -1;
	}
	if (sqlite3_column_type(st, 1) != SQLITE_NULL) {
		int same = strcmp((const char *)sqlite3_column_text(st, 1), customer) == 0;

		sqlite3_reset(st);
		if (!same) {
			sb_stripe_error(c, 400, "invalid_request_error", NULL, param,
					"The payment method you provided has already been "
					"attached to a customer.");
			return 1;
		}
		snprintf(out, n, "%s", pm);
		return 0;
	}
	sqlite3_reset(st);
	st = sb_db_stmt(SB_ST_PM_SET_CUS);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, pm, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, customer, -1, SQLITE_TRANSIENT);
	if (sb_db_done(st) != 0)
		return -1;
	snprintf(out, n, "%s", pm);
	return 0;
}

/* Rejects a default payment method not attached to customer; 0 ok, 1 reply
 * set, -1 error. */
static int check_default_pm(struct sb_ctx *c, const char *pm, const char *customer,
			    const char *param)
{
	char msg[SB_SEG_MAX + 160];
	int rc = sb_stripe_pm_owned(pm, customer, NULL);

	if (rc < 0)
		return -1;
	if (rc == 1)
		return 0;
	snprintf(msg, sizeof(msg),
		 "The customer does not have a payment method with the ID %s. The payment "
		 "method must be attached to the customer.",
		 pm);
	sb_stripe_error(c, 400, "invalid_request_error", "resource_missing", param, msg);
	return 1;
}

static int too_long(struct sb_ctx *c, const char *v, size_t max, const char *param)
{
	char msg[128];

	if (v == NULL || strlen(v) <= max)
		return 0;
	snprintf(msg, sizeof(msg), "Invalid string: must be at most %zu characters", max);
	sb_stripe_error(c, 400, "invalid_request_error", NULL, param, msg);
	return 1;
}

/* POST /v1/customers: 200 customer; 400 bad parameters; 402 declined
 * test card; 404 unknown payment_method. */
int sb_stripe_customer_create(struct sb_ctx *c)
{
	const char *name = sb_form_get(&c->form, "name");
	const char *email = sb_form_get(&c->form, "email");
	const char *pm = sb_form_get(&c->form, "payment_method");
	const char *def = sb_form_get(&c->form, "invoice_settings[default_payment_method]");
	char id[SB_ID_MAX], pm_id[SB_ID_MAX] = "";
	sqlite3_stmt *st;
	int rc;

	if (too_long(c, name, 256, "name") || too_long(c, email, 512, "email") ||
	    too_long(c, pm, SB_ID_MAX - 1, "payment_method") ||
	    too_long(c, def, SB_ID_MAX - 1, "invoice_settings[default_payment_method]"))
		return 0;
	sb_id_new(id, sizeof(id), "cus_", 14);
	st = sb_db_stmt(SB_ST_CUS_INS);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	if (name != NULL)
		sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
	if (email != NULL)
		sqlite3_bind_text(st, 3, email, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, sb_clock_now());
	if (sb_db_done(st) != 0)
		return -1;
	if (pm != NULL && pm[0] != '\0') {
		rc = attach(c, pm, id, 400, "payment_method", pm_id, sizeof(pm_id));
		if (rc < 0)
			return -1;
		/* No customer without its card.  route.c undoes 4xx replies;
		 * a 402 is kept as an effect, so undo here. */
		if (rc > 0)
			return sb_db_undo() != 0 ? -1 : 0;
	}
	if (def != NULL && def[0] != '\0') {
		/* The attached token's new id stands for the token itself. */
		const char *want = pm != NULL && strcmp(def, pm) == 0 ? pm_id : def;

		rc = check_default_pm(c, want, id, "invoice_settings[default_payment_method]");
		if (rc != 0)
			return rc < 0 ? -1 : 0;
		st = sb_db_stmt(SB_ST_CUS_SET_PM);
		if (st == NULL)
			return -1;
		sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, want, -1, SQLITE_TRANSIENT);
		if (sb_db_done(st) != 0)
			return -1;
	}
	rc = sb_stripe_customer_json(id, &c->json);
	if (rc <= 0)
		return -1;
	c->status = 200;
	return 0;
}

/* GET /v1/customers/{id}: 200 customer; 404 resource_missing. */
int sb_stripe_customer_get(struct sb_ctx *c)
{
	int rc = sb_stripe_customer_json(c->seg[0], &c->json);

	if (rc < 0)
		return -1;
	if (rc == 0)
		sb_stripe_missing(c, 404, "customer", c->seg[0], "id");
	else
		c->status = 200;
	return 0;
}

/* Emits customer.updated for customer id with previous_attributes: the
 * old invoice_settings.default_payment_method when pm_changed, the old
 * default_source when src_changed ("" = null).  0 or -1. */
static int customer_updated(const struct sb_ctx *c, const char *id, int pm_changed,
			    const char *old_pm, int src_changed, const char *old_src)
{
	json_object *obj = NULL, *prev = json_object_new_object(), *inv;

	if (prev == NULL || sb_stripe_customer_json(id, &obj) <= 0) {
		json_object_put(prev);
		return -1;
	}
	if (pm_changed) {
		inv = json_object_new_object();
		if (inv == NULL) {
			json_object_put(prev);
			json_object_put(obj);
			return -1;
		}
		json_object_object_add(inv, "default_payment_method",
				       old_pm[0] ? json_object_new_string(old_pm) : NULL);
		json_object_object_add(prev, "invoice_settings", inv);
	}
	if (src_changed)
		json_object_object_add(prev, "default_source",
				       old_src[0] ? json_object_new_string(old_src) : NULL);
	return sb_event_emit(c, "customer.updated", id, obj, prev);
}

/* POST /v1/customers/{id}: updates invoice_settings[default_payment_method]
 * and default_source (a card source of the customer; "" unsets either).
 * 200 customer; 400 pm not attached, not a source of the customer; 404 no
 * customer.  A change emits customer.updated. */
int sb_stripe_customer_update(struct sb_ctx *c)
{
	const char *def = sb_form_get(&c->form, "invoice_settings[default_payment_method]");
	const char *src = sb_form_get(&c->form, "default_source");
	const char *id = c->seg[0];
	char cur[SB_ID_MAX], cur_src[SB_ID_MAX];
	sqlite3_stmt *st;
	int rc, pm_changed = 0, src_changed = 0;

	rc = sb_stripe_customer_defaults(id, cur, sizeof(cur), cur_src, sizeof(cur_src));
	if (rc < 0)
		return -1;
	if (rc == 0) {
		sb_stripe_missing(c, 404, "customer", id, "id");
		return 0;
	}
	if (def != NULL) {
		if (def[0] != '\0') {
			if (too_long(c, def, SB_ID_MAX - 1, "invoice_settings[default_payment_method]"))
				return 0;
			rc = check_default_pm(c, def, id, "invoice_settings[default_payment_method]");
			if (rc != 0)
				return rc < 0 ? -1 : 0;
		}
		st = sb_db_stmt(SB_ST_CUS_SET_PM);
		if (st == NULL)
			return -1;
		sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
		if (def[0] != '\0')
			sqlite3_bind_text(st, 2, def, -1, SQLITE_TRANSIENT);
		if (sb_db_done(st) != 0)
			return -1;
		pm_changed = strcmp(def, cur) != 0;
	}
	if (src != NULL) {
		if (src[0] != '\0') {
			rc = strlen(src) < SB_ID_MAX ? sb_stripe_source_owned(src, id) : 0;
			if (rc < 0)
				return -1;
			if (rc == 0) {
				sb_stripe_missing(c, 400, "source", src, "default_source");
				return 0;
			}
		}
		st = sb_db_stmt(SB_ST_CUS_SET_SOURCE);
		if (st == NULL)
			return -1;
		sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
		if (src[0] != '\0')
			sqlite3_bind_text(st, 2, src, -1, SQLITE_TRANSIENT);
		if (sb_db_done(st) != 0)
			return -1;
		src_changed = strcmp(src, cur_src) != 0;
	}
	if ((pm_changed || src_changed) &&
	    customer_updated(c, id, pm_changed, cur, src_changed, cur_src) != 0)
		return -1;
	if (sb_stripe_customer_json(id, &c->json) <= 0)
		return -1;
	c->status = 200;
	return 0;
}

/* POST /v1/payment_methods/{pm}/attach customer=cus_...: 200 payment
 * method; 400 missing/unknown customer or attached elsewhere; 402 declined
 * test card; 404 unknown payment method. */
int sb_stripe_pm_attach(struct sb_ctx *c)
{
	const char *customer = sb_form_get(&c->form, "customer");
	char cur[SB_ID_MAX], pm_id[SB_ID_MAX];
	int rc;

	if (customer == NULL || customer[0] == '\0') {
		parameter_missing(c, "customer");
		return 0;
	}
	if (too_long(c, customer, SB_ID_MAX - 1, "customer"))
		return 0;
	rc = sb_stripe_customer_defaults(customer, cur, sizeof(cur), NULL, 0);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		sb_stripe_missing(c, 400, "customer", customer, "customer");
		return 0;
	}
	rc = attach(c, c->seg[0], customer, 404, "payment_method", pm_id, sizeof(pm_id));
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	if (pm_json(pm_id, &c->json) <= 0)
		return -1;
	c->status = 200;
	return 0;
}

/* The legacy card object (schema "card") for a card source. */
static int card_json(const char *id, json_object **out)
{
	sqlite3_stmt *st = sb_db_stmt(SB_ST_PM_GET);
	const char *last4;
	json_object *o;
	char fp[20];
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
	if (o == NULL) {
		sqlite3_reset(st);
		return -1;
	}
	last4 = (const char *)sqlite3_column_text(st, 3);
	snprintf(fp, sizeof(fp), "sandboxfp%s", last4 ? last4 : "0000");
	json_object_object_add(o, "id", str_or_null(sqlite3_column_text(st, 0)));
	json_object_object_add(o, "object", json_object_new_string("card"));
	json_object_object_add(o, "address_city", NULL);
	json_object_object_add(o, "address_country", NULL);
	json_object_object_add(o, "address_line1", NULL);
	json_object_object_add(o, "address_line1_check", NULL);
	json_object_object_add(o, "address_line2", NULL);
	json_object_object_add(o, "address_state", NULL);
	json_object_object_add(o, "address_zip", NULL);
	json_object_object_add(o, "address_zip_check", NULL);
	json_object_object_add(o, "brand", json_object_new_string("Visa"));
	json_object_object_add(o, "country", json_object_new_string("US"));
	json_object_object_add(o, "customer", str_or_null(sqlite3_column_text(st, 1)));
	json_object_object_add(o, "cvc_check", json_object_new_string("pass"));
	json_object_object_add(o, "dynamic_last4", NULL);
	json_object_object_add(o, "exp_month", json_object_new_int(12));
	json_object_object_add(o, "exp_year", json_object_new_int(2034));
	json_object_object_add(o, "fingerprint", json_object_new_string(fp));
	json_object_object_add(o, "funding", json_object_new_string("credit"));
	json_object_object_add(o, "last4", json_object_new_string(last4 ? last4 : "0000"));
	json_object_object_add(o, "metadata", json_object_new_object());
	json_object_object_add(o, "name", NULL);
	json_object_object_add(o, "tokenization_method", NULL);
	sqlite3_reset(st);
	*out = o;
	return 1;
}

/* POST /v1/customers/{customer}/sources source=tok_...: creates a card
 * source attached to the customer; the customer's default_source when it
 * had none (then customer.updated).  200 card; 400 missing or unknown
 * token (resource_missing); 402 tok_chargeDeclined; 404 no customer. */
int sb_stripe_source_create(struct sb_ctx *c)
{
	const char *tok = sb_form_get(&c->form, "source");
	const char *id = c->seg[0];
	const struct test_card *tc = NULL;
	char cur_src[SB_ID_MAX], card[SB_ID_MAX];
	sqlite3_stmt *st;
	size_t i;
	int rc;

	rc = sb_stripe_customer_defaults(id, NULL, 0, cur_src, sizeof(cur_src));
	if (rc < 0)
		return -1;
	if (rc == 0) {
		sb_stripe_missing(c, 404, "customer", id, "id");
		return 0;
	}
	if (tok == NULL || tok[0] == '\0')
		tok = sb_form_get(&c->form, "card"); /* the card parameter takes a token too */
	if (tok == NULL || tok[0] == '\0') {
		parameter_missing(c, "source");
		return 0;
	}
	for (i = 0; i < sizeof(test_tokens) / sizeof(test_tokens[0]); i++)
		if (strcmp(tok, test_tokens[i].token) == 0)
			tc = &test_tokens[i];
	if (tc == NULL) {
		sb_stripe_missing(c, 400, "token", strlen(tok) < SB_ID_MAX ? tok : "(too long)",
				  "source");
		return 0;
	}
	if (tc->attach_declined) {
		sb_stripe_error(c, 402, "card_error", "card_declined", NULL, "Your card was declined.");
		json_object_object_add(json_object_object_get(c->json, "error"), "decline_code",
				       json_object_new_string("generic_decline"));
		/* a 402 is kept as an effect by route.c; nothing was created */
		return 0;
	}
	sb_id_new(card, sizeof(card), "card_", 24);
	st = sb_db_stmt(SB_ST_PM_INS);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, card, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 3, tc->declines);
	sqlite3_bind_text(st, 4, tc->last4, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, sb_clock_now());
	sqlite3_bind_text(st, 6, "card", -1, SQLITE_STATIC);
	if (sb_db_done(st) != 0)
		return -1;
	if (cur_src[0] == '\0') {
		st = sb_db_stmt(SB_ST_CUS_SET_SOURCE);
		if (st == NULL)
			return -1;
		sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, card, -1, SQLITE_TRANSIENT);
		if (sb_db_done(st) != 0 || customer_updated(c, id, 0, "", 1, "") != 0)
			return -1;
	}
	if (card_json(card, &c->json) <= 0)
		return -1;
	c->status = 200;
	return 0;
}
