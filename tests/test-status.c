/*
 * test-status.c -- unit tests of lib/status.c and lib/error.c: every
 * DESIGN §2.1 outcome renders to its exact status and bytes (existing
 * clients read these), and the tables cover every error value.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "purchase.h"
#include "tap.h"

static void
render_is(enum purchase_err e, const struct purchase_number *num, int status, const char *body,
    const char *why)
{
	struct purchase_reply r;

	memset(&r, 0, sizeof(r));
	if (!is_int(purchase_render(e, num, &r), PURCHASE_OK, "render %s", why))
		return;
	is_int(r.status, status, "render %s: status %d", why, status);
	is_str(r.body, body, "render %s: body", why);
	is_int((intmax_t)r.len, r.body ? (intmax_t)strlen(r.body) : -1, "render %s: length", why);
	purchase_reply_free(&r);
}

/* A business error: {"error", "message", "code"}, the same text under
 * both names (DESIGN §2). */
static void
render_err_is(enum purchase_err e, const struct purchase_number *num, int status,
    const char *msg, const char *code, const char *why)
{
	char body[1024];

	snprintf(body, sizeof(body), "{\"error\":\"%s\",\"message\":\"%s\",\"code\":\"%s\"}", msg,
	    msg, code);
	render_is(e, num, status, body, why);
}

static void
test_design_table(void)
{
	struct purchase_number n;

	memset(&n, 0, sizeof(n));
	n.id = 123;
	memcpy(n.phone_number, "+14155551234", 13);
	memcpy(n.country_code, "US", 3);
	memcpy(n.type, "normal", 7);
	n.sms_capable = 1;
	memcpy(n.status, "active", 7);
	n.price_cents = 115;

	render_is(PURCHASE_OK, &n, 201,
	    "{\"message\":\"Phone number purchased successfully.\",\"data\":{\"id\":123,"
	    "\"phone_number\":\"+14155551234\",\"country_code\":\"US\",\"type\":\"normal\","
	    "\"sms_capable\":true}}",
	    "OK");
	n.sms_capable = 0;
	n.id = INT64_C(9007199254740993);
	memcpy(n.type, "toll_free", 10);
	render_is(PURCHASE_OK, &n, 201,
	    "{\"message\":\"Phone number purchased successfully.\",\"data\":{\"id\":9007199254740993,"
	    "\"phone_number\":\"+14155551234\",\"country_code\":\"US\",\"type\":\"toll_free\","
	    "\"sms_capable\":false}}",
	    "OK (toll_free, no SMS, 64-bit id)");
	render_err_is(PURCHASE_EIN_USE, NULL, 400,
	    "This phone number is already in use.",
	    "number_in_use", "EIN_USE");
	render_err_is(PURCHASE_EIN_USE, &n, 400,
	    "This phone number is already in use.",
	    "number_in_use", "EIN_USE ignores the number");
	render_err_is(PURCHASE_ENOT_AVAILABLE, NULL, 400,
	    "This phone number is not available for purchase. Please search for available numbers first.",
	    "number_not_available", "ENOT_AVAILABLE");
	render_err_is(PURCHASE_ENO_PAYMENT_METHOD, NULL, 402,
	    "No payment method found. Please add a payment method to your account.",
	    "no_payment_method", "ENO_PAYMENT_METHOD");
	render_err_is(PURCHASE_EDECLINED, NULL, 402,
	    "Payment failed. Please update your payment method.",
	    "payment_failed", "EDECLINED");
	render_err_is(PURCHASE_EPHONE, NULL, 422,
	    "Unable to parse phone number. Please provide a valid E.164 format number.",
	    "invalid_phone_number", "EPHONE");
	render_err_is(PURCHASE_EPROVIDER, NULL, 500,
	    "Failed to purchase phone number from provider. Please contact support.",
	    "provider_error", "EPROVIDER");
}

static void
test_other_rows(void)
{
	/* DESIGN §2.1 "Also" and §2.3: statuses. */
	static const struct {
		enum purchase_err e;
		int http;
		const char *code;
	} rows[] = {
	    {PURCHASE_EBODY, 400, "invalid_body"},
	    {PURCHASE_EFIELD, 422, "phone_number_required"},
	    {PURCHASE_EAUTH, 401, "unauthenticated"},
	    {PURCHASE_EMETHOD, 405, "method_not_allowed"},
	    {PURCHASE_ELENGTH, 411, "length_required"},
	    {PURCHASE_ETOO_LARGE, 413, "body_too_large"},
	    {PURCHASE_EMEDIA, 415, "unsupported_media_type"},
	    {PURCHASE_EIDEM_BUSY, 409, "idempotency_key_in_progress"},
	    {PURCHASE_EIDEM_MISMATCH, 422, "idempotency_key_reused"},
	    {PURCHASE_ERATE, 429, "rate_limited"},
	    {PURCHASE_EBUSY, 503, "database_busy"},
	    {PURCHASE_ENOT_FOUND, 404, "not_found"},
	    {PURCHASE_ERELEASE_PENDING, 400, "release_already_scheduled"},
	    {PURCHASE_ERELEASE, 500, "release_failed"},
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct purchase_status *st = purchase_status_of(rows[i].e);
		ok(st->http == rows[i].http && strcmp(st->code, rows[i].code) == 0,
		    "status_of(%s) = %d %s", purchase_strerror(rows[i].e), rows[i].http, rows[i].code);
	}
	is_str(purchase_status_of(PURCHASE_ENOT_FOUND)->message, "Phone number not found.",
	    "ENOT_FOUND message (DESIGN 2.3)");
	is_str(purchase_status_of(PURCHASE_ERELEASE_PENDING)->message,
	    "Phone number is already scheduled for release.", "ERELEASE_PENDING message");
	is_str(purchase_status_of(PURCHASE_ERELEASE)->message,
	    "Failed to release phone number. Please try again or contact support.",
	    "ERELEASE message");
	/* EFIELD shares the E.164 sentence (a missing number cannot be parsed). */
	is_str(purchase_status_of(PURCHASE_EFIELD)->message,
	    purchase_status_of(PURCHASE_EPHONE)->message, "EFIELD message = EPHONE message");
}

static void
test_every_value(void)
{
	const struct purchase_status *st, *internal = purchase_status_of(PURCHASE_EINTERNAL);
	struct purchase_reply r;
	int e, all_status = 1, all_render = 1, all_names = 1, all_codes = 1;

	for (e = 0; e < PURCHASE_ERR__MAX; e++) {
		st = purchase_status_of((enum purchase_err)e);
		if (st == NULL || st->code == NULL || st->message == NULL || st->http < 200 ||
		    st->http > 599) {
			all_status = 0;
			diag("status_of(%d) incomplete", e);
			continue;
		}
		if (e != PURCHASE_EINTERNAL && st == internal && e != PURCHASE_ENOMEM)
			diag("status_of(%d) falls back to EINTERNAL", e);
		if (*st->code == '\0' || *st->message == '\0' || strspn(st->code,
		        "abcdefghijklmnopqrstuvwxyz_") != strlen(st->code))
			all_codes = 0;
		if (purchase_strerror((enum purchase_err)e) == NULL ||
		    strcmp(purchase_strerror((enum purchase_err)e), "unknown error") == 0) {
			all_names = 0;
			diag("strerror(%d) has no name", e);
		}
		memset(&r, 0, sizeof(r));
		if (purchase_render((enum purchase_err)e, NULL, &r) != PURCHASE_OK || r.body == NULL ||
		    r.status != st->http)
			all_render = 0;
		purchase_reply_free(&r);
	}
	ok(all_status, "every value below __MAX: message, code and a 2xx-5xx status");
	ok(all_codes, "every code is non-empty snake_case, every message non-empty");
	ok(all_names, "every value below __MAX has its own strerror name");
	ok(all_render, "every value renders with its table status");
	ok(purchase_status_of(PURCHASE_OK)->http == 201, "OK is 201");

	/* Out of range falls back, never NULL. */
	st = purchase_status_of(PURCHASE_ERR__MAX);
	ok(st != NULL && st->http == 500, "status_of(__MAX) is a 500");
	st = purchase_status_of((enum purchase_err)-1);
	ok(st != NULL && st->http == 500, "status_of(-1) is a 500");
	ok(purchase_strerror(PURCHASE_ERR__MAX) != NULL, "strerror(__MAX) not NULL");
	ok(purchase_strerror((enum purchase_err)1000) != NULL, "strerror(1000) not NULL");
	ok(purchase_strerror((enum purchase_err)-1) != NULL, "strerror(-1) not NULL");
	is_str(purchase_strerror(PURCHASE_OK), "success", "strerror(OK)");

	/* Deterministic: rendering twice gives the same bytes. */
	{
		struct purchase_reply a, b;
		purchase_render(PURCHASE_EDECLINED, NULL, &a);
		purchase_render(PURCHASE_EDECLINED, NULL, &b);
		ok(a.body && b.body && a.len == b.len && memcmp(a.body, b.body, a.len) == 0,
		    "render is deterministic");
		purchase_reply_free(&a);
		purchase_reply_free(&b);
	}
	purchase_reply_free(NULL);
	ok(1, "purchase_reply_free(NULL)");
}

int
main(void)
{
	test_design_table();
	test_other_rows();
	test_every_value();
	return done_testing();
}
