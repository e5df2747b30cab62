/*
 * router.c -- the routes of DESIGN §2 and their handlers. A handler checks
 * what is HTTP's (method, auth, content type, length), hands the rest to
 * libpurchase, and writes what it returns -- every body is rendered by the
 * library (lib/render.c) -- through the one writer.
 *
 *   GET    /api/health
 *   GET    /api/user/phone-numbers/search
 *   POST   /api/user/phone-numbers/purchase
 *   GET    /api/user/phone-numbers/all            every number (paged on demand)
 *   GET    /api/user/phone-numbers                Sondos' legacy list
 *   GET    /api/user/phone-numbers/{id}
 *   PUT    /api/user/phone-numbers/{id}           nickname
 *   DELETE /api/user/phone-numbers/{id}           release at the period's end
 *   POST   /api/user/phone-numbers/{id}/restore   undo it
 *   POST   /api/webhooks/stripe                   Stripe-Signature, no API key
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "router.h"

#define NUMBERS "/api/user/phone-numbers"

/* Writes a reply the library rendered, and frees it. */
static int
send(const struct sink *out, const struct request *r, struct purchase_reply *rep)
{
	int status = rep->status;

	reply_write(out, status, r->request_id, NULL, rep->body, rep->len);
	purchase_reply_free(rep);
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

/* Renders with fn's result, or fails when rendering did (no memory). */
static int
rendered(struct purchase_ctx *ctx, struct request *r, const struct sink *out,
    enum purchase_err err, struct purchase_reply *rep)
{
	return err == PURCHASE_OK ? send(out, r, rep) : fail(ctx, r, out, err, NULL);
}

/* GET /api/health -- 200 when the database answers with a current schema;
 * 503 otherwise. Never calls a provider. */
static int
h_health(struct purchase_ctx *ctx, struct request *r, const struct sink *out)
{
	struct purchase_detail d = {""};
	struct purchase_reply rep;
	struct reply_extra extra = {NULL, 5};
	enum purchase_err err = ctx ? purchase_health(ctx, &d) : PURCHASE_ECONFIG;
	int status;

	if (err != PURCHASE_OK)
		purchase_log(ctx, "health: %s: %s", purchase_strerror(err), d.text);
	if (purchase_render_health(err, &rep) != PURCHASE_OK)
		return fail(ctx, r, out, PURCHASE_ENOMEM, NULL);
	status = rep.status;
	reply_write(out, status, r->request_id, err == PURCHASE_OK ? NULL : &extra, rep.body, rep.len);
	purchase_reply_free(&rep);
	return status;
}

/* GET /api/user/phone-numbers/search -- 200, 401, 422, 429, 500, 503. */
static int
h_search(struct purchase_ctx *ctx, struct request *r, const struct sink *out, int64_t account,
    const char *id)
{
	struct purchase_detail d = {""};
	struct purchase_offers offers = {0, NULL};
	struct purchase_reply rep;
	enum purchase_err err;

	(void)id;
	if ((err = purchase_search(ctx, account, r->query, &offers, &d)) != PURCHASE_OK)
		return fail(ctx, r, out, err, &d);
	err = purchase_render_offers(&offers, &rep);
	purchase_offers_free(&offers);
	return rendered(ctx, r, out, err, &rep);
}

/* Purchases in flight in this process, and how many may be (0: no limit;
 * route_set_purchase_slots). A purchase holds its thread for four provider
 * calls; the threads above the limit stay free for every other route. */
static _Atomic int purchases;
static int purchase_slots;

void
route_set_purchase_slots(int n)
{
	purchase_slots = n;
}

/* A purchase slot: 0 when every one is taken (then nothing to give back). */
static int
slot_take(void)
{
	if (purchase_slots > 0 && purchases++ >= purchase_slots) {
		purchases--;
		return 0;
	}
	return 1;
}

static void
slot_give(void)
{
	if (purchase_slots > 0)
		purchases--;
}

/* POST /api/user/phone-numbers/purchase -- every status of DESIGN §2.1
 * (its slot taken by route). */
static int
h_purchase(struct purchase_ctx *ctx, struct request *r, const struct sink *out,
    int64_t account, const char *id)
{
	struct purchase_detail d = {""};
	struct purchase_reply rep = {0, NULL, 0};
	enum purchase_err err;
	int status;

	(void)id;
	if ((err = request_read_json_body(r)) != PURCHASE_OK) {
		status = fail(ctx, r, out, err, NULL);
	} else if ((err = purchase_buy(ctx, account, r->body, r->body_len, r->idem_key, &rep,
	                &d)) != PURCHASE_OK) {
		status = fail(ctx, r, out, err, &d);
	} else {
		status = send(out, r, &rep);
	}
	return status;
}

/* GET /api/user/phone-numbers/all and GET /api/user/phone-numbers -- 200,
 * 401, 422 (page, per_page). Never calls a provider. */
static int
list(struct purchase_ctx *ctx, struct request *r, const struct sink *out, int64_t account,
    enum purchase_list which)
{
	struct purchase_detail d = {""};
	struct purchase_numbers l;
	struct purchase_reply rep;
	enum purchase_err err;

	if ((err = purchase_numbers_list(ctx, account, which, r->query, &l, &d)) != PURCHASE_OK)
		return fail(ctx, r, out, err, &d);
	err = purchase_render_numbers(&l, &rep);
	purchase_numbers_free(&l);
	return rendered(ctx, r, out, err, &rep);
}

static int
h_list_all(struct purchase_ctx *ctx, struct request *r, const struct sink *out, int64_t account,
    const char *id)
{
	(void)id;
	return list(ctx, r, out, account, PURCHASE_LIST_ALL);
}

static int
h_list_legacy(struct purchase_ctx *ctx, struct request *r, const struct sink *out,
    int64_t account, const char *id)
{
	(void)id;
	return list(ctx, r, out, account, PURCHASE_LIST_LEGACY);
}

/* GET /api/user/phone-numbers/{id} -- 200, 401, 404 (another account's id
 * too). */
static int
h_get(struct purchase_ctx *ctx, struct request *r, const struct sink *out, int64_t account,
    const char *id)
{
	struct purchase_detail d = {""};
	struct purchase_number n;
	struct purchase_reply rep;
	enum purchase_err err;

	if ((err = purchase_number_get(ctx, account, id, &n, &d)) != PURCHASE_OK)
		return fail(ctx, r, out, err, &d);
	return rendered(ctx, r, out, purchase_render_number(&n, PURCHASE_AS_NUMBER, &rep), &rep);
}

/* PUT /api/user/phone-numbers/{id} -- 200, 400, 401, 404, 411, 413, 415,
 * 422. */
static int
h_put(struct purchase_ctx *ctx, struct request *r, const struct sink *out, int64_t account,
    const char *id)
{
	struct purchase_detail d = {""};
	struct purchase_number n;
	struct purchase_reply rep;
	enum purchase_err err;

	if ((err = request_read_json_body(r)) != PURCHASE_OK)
		return fail(ctx, r, out, err, NULL);
	if ((err = purchase_number_rename(ctx, account, id, r->body, r->body_len, &n, &d)) !=
	    PURCHASE_OK)
		return fail(ctx, r, out, err, &d);
	return rendered(ctx, r, out, purchase_render_number(&n, PURCHASE_AS_UPDATED, &rep), &rep);
}

/* DELETE /api/user/phone-numbers/{id} -- 200, 400, 401, 404, 500, 503.
 * No body is read: real clients send none, an empty one, or one with a
 * JSON Content-Type and no length -- all the same here. */
static int
h_delete(struct purchase_ctx *ctx, struct request *r, const struct sink *out, int64_t account,
    const char *id)
{
	struct purchase_detail d = {""};
	struct purchase_reply rep;
	enum purchase_err err;

	if ((err = purchase_number_release(ctx, account, id, &d)) != PURCHASE_OK)
		return fail(ctx, r, out, err, &d);
	return rendered(ctx, r, out, purchase_render_number(NULL, PURCHASE_AS_RELEASED, &rep), &rep);
}

/* POST /api/user/phone-numbers/{id}/restore -- 200, 400, 401, 404, 500,
 * 503. No body, as DELETE. */
static int
h_restore(struct purchase_ctx *ctx, struct request *r, const struct sink *out,
    int64_t account, const char *id)
{
	struct purchase_detail d = {""};
	struct purchase_number n;
	struct purchase_reply rep;
	enum purchase_err err;

	if ((err = purchase_number_restore(ctx, account, id, &n, &d)) != PURCHASE_OK)
		return fail(ctx, r, out, err, &d);
	return rendered(ctx, r, out, purchase_render_number(&n, PURCHASE_AS_RESTORED, &rep), &rep);
}

/* POST /api/webhooks/stripe -- 200 {"received": true} for every verified
 * event; 400 for a bad signature; 503 when it could not be recorded (Stripe
 * retries; every other failure is one a retry can help). */
static int
h_webhook(struct purchase_ctx *ctx, struct request *r, const struct sink *out, int64_t account,
    const char *id)
{
	struct purchase_detail d = {""};
	struct purchase_reply rep;
	enum purchase_err err;

	(void)account;
	(void)id;
	if ((err = request_read_raw(r, WEBHOOK_MAX)) != PURCHASE_OK)
		return fail(ctx, r, out, err, NULL);
	err = purchase_webhook(ctx, r->raw, r->raw_len, r->stripe_signature, &d);
	if (err == PURCHASE_ESIGNATURE)
		return fail(ctx, r, out, err, &d);
	if (err != PURCHASE_OK) {
		purchase_log(ctx, "webhook: %s: %s", purchase_strerror(err), d.text);
		return fail(ctx, r, out, PURCHASE_EBUSY, NULL);
	}
	return rendered(ctx, r, out, purchase_render_received(&rep), &rep);
}

typedef int (*handler)(struct purchase_ctx *, struct request *, const struct sink *, int64_t,
    const char *);

/* A path: exact, or NUMBERS "/{id}" [suffix]; its handler per method. */
struct route {
	const char *path;    /* exact path, or the suffix after /{id} */
	int with_id;
	int auth;
	const char *allow;   /* the methods, for 405 */
	struct {
		const char *method;
		handler fn;
	} m[3];
};

static const struct route routes[] = {
	{NUMBERS "/search", 0, 1, "GET", {{"GET", h_search}}},
	{NUMBERS "/purchase", 0, 1, "POST", {{"POST", h_purchase}}},
	{NUMBERS "/all", 0, 1, "GET", {{"GET", h_list_all}}},
	{NUMBERS, 0, 1, "GET", {{"GET", h_list_legacy}}},
	{"", 1, 1, "GET, PUT, DELETE", {{"GET", h_get}, {"PUT", h_put}, {"DELETE", h_delete}}},
	{"/restore", 1, 1, "POST", {{"POST", h_restore}}},
	{"/api/webhooks/stripe", 0, 0, "POST", {{"POST", h_webhook}}},
};

/* The route of a path; *id the {id} segment (in idbuf) when it has one. */
static const struct route *
find(const char *path, char *idbuf, size_t idlen, const char **id)
{
	const char *seg, *end;
	size_t i, n;

	*id = NULL;
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (!routes[i].with_id && strcmp(routes[i].path, path) == 0)
			return &routes[i];
	if (strncmp(path, NUMBERS "/", sizeof(NUMBERS)) != 0)
		return NULL;
	seg = path + sizeof(NUMBERS);
	end = seg + strcspn(seg, "/");
	if ((n = (size_t)(end - seg)) >= idlen)
		n = idlen - 1; /* (too long to be an id: not found) */
	memcpy(idbuf, seg, n);
	idbuf[n] = '\0';
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (routes[i].with_id && strcmp(routes[i].path, end) == 0) {
			*id = idbuf;
			return &routes[i];
		}
	return NULL;
}

int
route(struct purchase_ctx *ctx, struct request *r, const struct sink *out)
{
	const struct route *rt;
	const char *id;
	char idbuf[24];
	enum purchase_err err;
	int64_t account = 0;
	size_t i;
	int slot, status;

	if (strcmp(r->path, "/api/health") == 0) {
		if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
			struct reply_extra allow = {"GET, HEAD", 0};
			reply_error(out, PURCHASE_EMETHOD, r->request_id, &allow);
			return 405;
		}
		return h_health(ctx, r, out);
	}
	if ((rt = find(r->path, idbuf, sizeof(idbuf), &id)) == NULL)
		return fail(ctx, r, out, PURCHASE_ENO_ROUTE, NULL);
	for (i = 0; i < sizeof(rt->m) / sizeof(rt->m[0]) && rt->m[i].method != NULL; i++)
		if (strcmp(rt->m[i].method, r->method) == 0)
			break;
	if (i == sizeof(rt->m) / sizeof(rt->m[0]) || rt->m[i].method == NULL) {
		struct reply_extra allow = {rt->allow, 0};
		reply_error(out, PURCHASE_EMETHOD, r->request_id, &allow);
		return 405;
	}
	if (ctx == NULL)
		return fail(ctx, r, out, PURCHASE_ECONFIG, NULL);
	/* Every purchase slot taken: 503 with Retry-After at once, before
	 * the key is looked up, so that purchases past the limit cost no
	 * database work (nor a wait for a connection). */
	if ((slot = rt->m[i].fn == h_purchase) && !slot_take())
		return fail(ctx, r, out, PURCHASE_EOVERLOAD, NULL);
	if (rt->auth && (err = purchase_authenticate(ctx, r->authorization, &account)) != PURCHASE_OK)
		status = fail(ctx, r, out, err, NULL);
	else
		status = rt->m[i].fn(ctx, r, out, account, id);
	if (slot)
		slot_give();
	return status;
}
