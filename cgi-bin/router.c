/*
 * router.c -- the routes of DESIGN §2 and their handlers. A handler checks
 * what is HTTP's (method, auth, content type, length), hands the rest to
 * libpurchase, and writes what it returns through the one writer.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "router.h"

/* GET /api/health -- 200 when the database answers with a current schema;
 * 503 otherwise. Never calls a provider. */
static int
h_health(struct purchase_ctx *ctx, struct request *r, const struct sink *out)
{
	struct purchase_detail d = {""};
	struct reply_extra extra = {NULL, 0};
	enum purchase_err err = ctx ? purchase_health(ctx, &d) : PURCHASE_ECONFIG;
	json_object *o = json_object_new_object();
	int status = err == PURCHASE_OK ? 200 : 503;

	if (o == NULL)
		return reply_error(out, PURCHASE_ENOMEM, r->request_id, NULL), 500;
	json_object_object_add(o, "status", json_object_new_string(err == PURCHASE_OK ? "ok" :
	    "unavailable"));
	json_object_object_add(o, "database", json_object_new_string(err == PURCHASE_OK ? "ok" :
	    purchase_strerror(err)));
	if (err != PURCHASE_OK) {
		extra.retry_after = 5;
		purchase_log(ctx, "health: %s: %s", purchase_strerror(err), d.text);
	}
	reply_json(out, status, r->request_id, &extra, o);
	json_object_put(o);
	return status;
}

static int
fail(struct purchase_ctx *ctx, struct request *r, const struct sink *out, enum purchase_err err,
    const struct purchase_detail *d)
{
	struct reply_extra extra = {NULL, 0};

	if ((d != NULL && d->text[0] != '\0') || purchase_status_of(err)->http >= 500)
		purchase_log(ctx, "%s: %s", purchase_strerror(err), d ? d->text : "");
	/* A rate limit says when its window reopens. */
	if (err == PURCHASE_ERATE)
		extra.retry_after = purchase_retry_after(ctx);
	reply_error(out, err, r->request_id, &extra);
	return purchase_status_of(err)->http;
}

/* GET /api/user/phone-numbers/search -- 200, 401, 422, 429, 500, 503. */
static int
h_search(struct purchase_ctx *ctx, struct request *r, const struct sink *out, int64_t account)
{
	struct purchase_detail d = {""};
	struct purchase_offers offers = {0, NULL};
	json_object *o, *arr, *e;
	enum purchase_err err;
	size_t i;

	if ((err = purchase_search(ctx, account, r->query, &offers, &d)) != PURCHASE_OK)
		return fail(ctx, r, out, err, &d);
	o = json_object_new_object();
	arr = json_object_new_array_ext((int)offers.n);
	if (o == NULL || arr == NULL) {
		json_object_put(o);
		json_object_put(arr);
		purchase_offers_free(&offers);
		return fail(ctx, r, out, PURCHASE_ENOMEM, NULL);
	}
	json_object_object_add(o, "data", arr);
	for (i = 0; i < offers.n; i++) {
		const struct purchase_offer *of = &offers.v[i];
		if ((e = json_object_new_object()) == NULL)
			break;
		json_object_array_add(arr, e);
		json_object_object_add(e, "phone_number", json_object_new_string(of->phone_number));
		json_object_object_add(e, "phone_number_formatted",
		    json_object_new_string(of->phone_number_formatted));
		json_object_object_add(e, "country_code", json_object_new_string(of->country_code));
		/* Monthly price in USD: a JSON number written with two
		 * decimals from the integer cents (no float formatting). */
		{
			char price[32];
			snprintf(price, sizeof(price), "%lld.%02lld", (long long)(of->price_cents / 100),
			    (long long)(of->price_cents % 100));
			json_object_object_add(e, "price", json_object_new_double_s(
			    (double)of->price_cents / 100.0, price));
		}
		json_object_object_add(e, "stripe_price_id", json_object_new_string(of->stripe_price_id));
		json_object_object_add(e, "address_requirements",
		    json_object_new_string(of->address_requirements));
		json_object_object_add(e, "sms_capable", json_object_new_boolean(of->sms_capable));
	}
	purchase_offers_free(&offers);
	reply_json(out, 200, r->request_id, NULL, o);
	json_object_put(o);
	return 200;
}

/* POST /api/user/phone-numbers/purchase -- every status of DESIGN §2.1. */
static int
h_purchase(struct purchase_ctx *ctx, struct request *r, const struct sink *out,
    int64_t account)
{
	struct purchase_detail d = {""};
	struct purchase_reply rep = {0, NULL, 0};
	enum purchase_err err;
	int status;

	if ((err = request_read_json_body(r)) != PURCHASE_OK)
		return fail(ctx, r, out, err, NULL);
	err = purchase_buy(ctx, account, r->body, r->body_len, r->idem_key, &rep, &d);
	if (err != PURCHASE_OK)
		return fail(ctx, r, out, err, &d);
	reply_write(out, rep.status, r->request_id, NULL, rep.body, rep.len);
	status = rep.status;
	purchase_reply_free(&rep);
	return status;
}

struct route {
	const char *path;
	const char *method;
	int auth;
	int (*fn)(struct purchase_ctx *, struct request *, const struct sink *, int64_t);
};

static const struct route routes[] = {
	{"/api/user/phone-numbers/search", "GET", 1, h_search},
	{"/api/user/phone-numbers/purchase", "POST", 1, h_purchase},
};

int
route(struct purchase_ctx *ctx, struct request *r, const struct sink *out)
{
	const struct route *rt = NULL;
	enum purchase_err err;
	int64_t account;
	size_t i;

	if (strcmp(r->path, "/api/health") == 0) {
		if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
			struct reply_extra allow = {"GET, HEAD", 0};
			reply_error(out, PURCHASE_EMETHOD, r->request_id, &allow);
			return 405;
		}
		return h_health(ctx, r, out);
	}
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (strcmp(routes[i].path, r->path) == 0)
			rt = &routes[i];
	if (rt == NULL)
		return fail(ctx, r, out, PURCHASE_ENO_ROUTE, NULL);
	if (strcmp(rt->method, r->method) != 0) {
		struct reply_extra allow = {rt->method, 0};
		reply_error(out, PURCHASE_EMETHOD, r->request_id, &allow);
		return 405;
	}
	if (ctx == NULL)
		return fail(ctx, r, out, PURCHASE_ECONFIG, NULL);
	err = purchase_authenticate(ctx, r->authorization, &account);
	if (err != PURCHASE_OK)
		return fail(ctx, r, out, err, NULL);
	return rt->fn(ctx, r, out, account);
}
