/*
 * test-status.c -- unit tests of lib/status.c and lib/error.c: every
 * DESIGN §2.1 outcome renders to its exact status and bytes (existing
 * clients read these), the tables cover every error value, and the list
 * of numbers (written without json-c) has json-c's bytes.
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

/* The list of numbers is written without json-c (lib/render.c, put_number):
 * each of its elements must be byte for byte the object that json-c writes
 * for GET /{id}, escapes and nulls included. */
static void
test_list_bytes(void)
{
	static const char *const nicks[] = {"", "Front desk", "say \"hi\" \\ a/b",
	    "\x01\x1f\b\f\n\r\t\x7f", "Caf\xc3\xa9 \xe2\x98\x8e"};
	static const char *const types[] = {"normal", "toll_free", "mobile"};
	static const char *const statuses[] = {"active", "past_due", "release_scheduled", "released"};
	struct purchase_number v[5];
	struct purchase_numbers list = {5, v, 0, 0, 0, 0, 0};
	struct purchase_reply one, all;
	size_t i, at, n;
	char want[2048];

	memset(v, 0, sizeof(v));
	for (i = 0; i < 5; i++) {
		v[i].id = (int64_t)i * 1000003 + 1;
		snprintf(v[i].phone_number, sizeof(v[i].phone_number), "+1415555%04d", (int)i);
		snprintf(v[i].country_code, sizeof(v[i].country_code), "%s", i == 4 ? "GB" : "US");
		snprintf(v[i].type, sizeof(v[i].type), "%s", types[i % 3]);
		v[i].sms_capable = (int)(i & 1);
		snprintf(v[i].status, sizeof(v[i].status), "%s", statuses[i % 4]);
		v[i].price_cents = i == 0 ? 0 : i == 1 ? 5 : (int64_t)i * 123456;
		v[i].period_end = i == 2 ? 0 : 1798761600 + (int64_t)i;
		v[i].created_at = i == 3 ? 0 : 1764633600 + (int64_t)i * 86399;
		snprintf(v[i].region, sizeof(v[i].region), "%s", i % 2 ? "CA" : i == 4 ? "a\"b\\" : "");
		snprintf(v[i].nickname, sizeof(v[i].nickname), "%s", nicks[i]);
		v[i].cancel_at_period_end = i == 2;
	}
	if (!is_int(purchase_render_numbers(&list, &all), PURCHASE_OK, "list: rendered"))
		return;
	is_int(all.status, 200, "list: 200");
	is_int((intmax_t)all.len, (intmax_t)strlen(all.body), "list: length");
	ok(strncmp(all.body, "{\"data\":[", 9) == 0, "list: {\"data\":[ first");
	for (at = 9, i = 0; i < 5; i++) {
		if (!is_int(purchase_render_number(&v[i], PURCHASE_AS_NUMBER, &one), PURCHASE_OK,
		        "number %zu: rendered by json-c", i))
			continue;
		/* {"data":X} -> X */
		n = one.len - 9;
		snprintf(want, sizeof(want), "%.*s", (int)n, one.body + 8);
		ok(at + n <= all.len && strncmp(all.body + at, want, n) == 0,
		    "list element %zu: json-c's bytes (%s)", i, want);
		at += n + 1; /* and the ',' or ']' */
		purchase_reply_free(&one);
	}
	is_str(all.body + at - 1, "]}", "list: ]} last, nothing else");
	purchase_reply_free(&all);

	list.n = 0;
	list.paged = 1;
	list.page = 3, list.last_page = 2, list.per_page = 25, list.total = 40;
	if (is_int(purchase_render_numbers(&list, &all), PURCHASE_OK, "an empty page: rendered")) {
		is_str(all.body, "{\"data\":[],\"current_page\":3,\"last_page\":2,\"per_page\":25,"
		    "\"total\":40}", "an empty page: its bytes");
		purchase_reply_free(&all);
	}
}

int
main(void)
{
	test_list_bytes();
	test_design_table();
	test_other_rows();
	test_every_value();
	return done_testing();
}
