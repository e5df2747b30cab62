/*
 * stripe.c -- Stripe API v1: form bodies out, JSON replies in.
 *
 * Every POST that creates or charges carries an Idempotency-Key derived
 * from the purchase's nonce and the step, so a retry after a lost reply
 * gets Stripe's stored answer instead of a second subscription or a second
 * charge.
 */
#include "autoconfig.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"
#include "json.h"
#include "sha256.h"
#include "stripe.h"

#define URL_MAX 2048
#define FORM_MAX 4096

int
pur_stripe_sub_ended(const char *status)
{
	return strcmp(status, "canceled") == 0 || strcmp(status, "incomplete_expired") == 0;
}

int
pur_stripe_idem_key(const struct pur_stripe_ref *ref, const char *step, char *out, size_t n)
{
	int w;

	if (ref->nonce != NULL && ref->nonce[0] != '\0')
		w = snprintf(out, n, "purchase-%s-%s", ref->nonce, step);
	else
		w = snprintf(out, n, "purchase-%" PRId64 "-%s", ref->id, step);
	return w < 0 || (size_t)w >= n ? -1 : 0;
}

int
pur_stripe_build_subscription(struct pur_buf *b, const char *customer, const char *price,
    const char *payment_method, const struct pur_stripe_ref *ref)
{
	char id[24];

	snprintf(id, sizeof(id), "%" PRId64, ref->id);
	/* A PaymentMethod, or a legacy card/source the customer has only as
	 * default_source (subscription.default_source in the spec). */
	if (pur_form_add(b, "customer", customer) != 0 ||
	    pur_form_add(b, "items[0][price]", price) != 0 ||
	    pur_form_add(b, strncmp(payment_method, "pm_", 3) == 0 ? "default_payment_method" :
	                                                             "default_source",
	        payment_method) != 0 ||
	    pur_form_add(b, "payment_behavior", "default_incomplete") != 0 ||
	    pur_form_add(b, "metadata[purchase_id]", id) != 0)
		return -1;
	if (ref->nonce != NULL && ref->nonce[0] != '\0' &&
	    pur_form_add(b, "metadata[purchase_nonce]", ref->nonce) != 0)
		return -1;
	return 0;
}

/* A Stripe id, a string or an expanded object's "id". */
static int
copy_id(json_object *o, const char *key, char *dst, size_t n)
{
	json_object *v;

	dst[0] = '\0';
	if (pur_json_copy(o, key, dst, n) == 0)
		return 0;
	if ((v = pur_json_obj(o, key)) != NULL)
		return pur_json_copy(v, "id", dst, n);
	return json_object_object_get_ex(o, key, &v) && v == NULL ? 0 : -1;
}

/* What the parsers read of each object: the rest is not built (json.h). */
static const char *const customer_keys[] = {"id", "invoice_settings", "default_source", NULL};
static const char *const sub_keys[] = {"id", "status", "latest_invoice", "metadata",
    "current_period_end", "cancel_at_period_end", "customer", "default_payment_method",
    "default_source", "created", NULL};
static const char *const invoice_keys[] = {"id", "status", "paid", NULL};

int
pur_stripe_parse_customer(const char *body, size_t len, char pm[PUR_STRIPE_ID])
{
	json_object *o, *is;
	int rc = -1;

	pm[0] = '\0';
	if ((o = pur_json_parse_reply_only(body, len, customer_keys)) == NULL)
		return -1;
	if (pur_json_str(o, "id") == NULL)
		goto out;
	if ((is = pur_json_obj(o, "invoice_settings")) != NULL) {
		if (copy_id(is, "default_payment_method", pm, PUR_STRIPE_ID) != 0)
			goto out;
	}
	/* Stripe bills default_source when there is no default payment
	 * method (customer.default_source: a card_ or src_ id, expandable). */
	if (pm[0] == '\0' && json_object_object_get_ex(o, "default_source", NULL) &&
	    copy_id(o, "default_source", pm, PUR_STRIPE_ID) != 0)
		goto out;
	rc = 0;
out:
	json_object_put(o);
	return rc;
}

static int
sub_from(json_object *o, struct pur_stripe_sub *out)
{
	json_object *md;
	int64_t end = 0;

	memset(out, 0, sizeof(*out));
	if (pur_json_copy(o, "id", out->id, sizeof(out->id)) != 0 ||
	    pur_json_copy(o, "status", out->status, sizeof(out->status)) != 0)
		return -1;
	if (copy_id(o, "latest_invoice", out->latest_invoice, sizeof(out->latest_invoice)) != 0)
		return -1;
	if ((md = pur_json_obj(o, "latest_invoice")) != NULL &&
	    pur_json_bool(md, "paid", &out->invoice_paid) != 0)
		out->invoice_paid = 0;
	if ((md = pur_json_obj(o, "metadata")) != NULL) {
		(void)pur_json_copy(md, "purchase_id", out->purchase_id, sizeof(out->purchase_id));
		(void)pur_json_copy(md, "purchase_nonce", out->purchase_nonce,
		    sizeof(out->purchase_nonce));
	}
	if (pur_json_int(o, "current_period_end", &end) == 0)
		out->current_period_end = end;
	if (pur_json_int(o, "created", &end) == 0)
		out->created = end;
	(void)pur_json_bool(o, "cancel_at_period_end", &out->cancel_at_period_end);
	/* Expandable; absent or null reads as "" (a reply that does not say). */
	(void)copy_id(o, "customer", out->customer, sizeof(out->customer));
	(void)copy_id(o, "default_payment_method", out->default_payment_method,
	    sizeof(out->default_payment_method));
	(void)copy_id(o, "default_source", out->default_source, sizeof(out->default_source));
	return 0;
}

int
pur_stripe_parse_subscription(const char *body, size_t len, struct pur_stripe_sub *out)
{
	json_object *o;
	int rc;

	if ((o = pur_json_parse_reply_only(body, len, sub_keys)) == NULL)
		return -1;
	rc = sub_from(o, out);
	json_object_put(o);
	return rc;
}

int
pur_stripe_parse_sub_search(const char *body, size_t len, struct pur_stripe_sub *out,
    int *found)
{
	json_object *o, *data;
	size_t i, n;
	int rc = -1;

	*found = 0;
	if ((o = pur_json_parse_reply(body, len)) == NULL)
		return -1;
	if ((data = pur_json_arr(o, "data")) == NULL)
		goto out;
	n = json_object_array_length(data);
	for (i = 0; i < n; i++) {
		struct pur_stripe_sub s;
		if (sub_from(json_object_array_get_idx(data, i), &s) != 0)
			goto out;
		if (!*found ||
		    (strcmp(out->status, "canceled") == 0 && strcmp(s.status, "canceled") != 0)) {
			*out = s;
			*found = 1;
		}
	}
	rc = 0;
out:
	json_object_put(o);
	return rc;
}

void
pur_stripe_sub_page_free(struct pur_stripe_sub_page *p)
{
	if (p == NULL)
		return;
	free(p->v);
	p->v = NULL;
	p->n = 0;
}

/*
 * A Stripe list object ({"object": "list", "data": [...], "has_more"}):
 * each item read by from() into an array of size-byte elements, malloc'd
 * into *v (freed on failure). 0, or -1 when malformed.
 */
static int
parse_list(const char *body, size_t len, size_t size, int (*from)(json_object *, void *),
    void **v, size_t *nout, int *has_more)
{
	json_object *o, *data;
	size_t i, n;
	char *a = NULL;
	int rc = -1;

	*v = NULL;
	*nout = 0;
	*has_more = 0;
	if ((o = pur_json_parse_reply(body, len)) == NULL)
		return -1;
	if ((data = pur_json_arr(o, "data")) == NULL || pur_json_bool(o, "has_more", has_more) != 0)
		goto out;
	n = json_object_array_length(data);
	if (n > 0 && (a = calloc(n, size)) == NULL)
		goto out;
	for (i = 0; i < n; i++)
		if (from(json_object_array_get_idx(data, i), a + i * size) != 0)
			goto out;
	*v = a;
	*nout = n;
	a = NULL;
	rc = 0;
out:
	free(a);
	json_object_put(o);
	return rc;
}

static int
sub_item(json_object *o, void *out)
{
	return sub_from(o, out);
}

int
pur_stripe_parse_sub_list(const char *body, size_t len, struct pur_stripe_sub_page *out)
{
	void *v;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = parse_list(body, len, sizeof(*out->v), sub_item, &v, &out->n, &out->has_more);
	out->v = v;
	return rc;
}

static int
event_from(json_object *o, struct pur_stripe_event *out)
{
	json_object *data, *obj;
	int64_t created = 0;

	memset(out, 0, sizeof(*out));
	if (pur_json_copy(o, "id", out->id, sizeof(out->id)) != 0 ||
	    pur_json_copy(o, "type", out->type, sizeof(out->type)) != 0 ||
	    strncmp(out->id, "evt_", 4) != 0)
		return -1;
	if (pur_json_int(o, "created", &created) == 0)
		out->created = created;
	if ((data = pur_json_obj(o, "data")) == NULL || (obj = pur_json_obj(data, "object")) == NULL)
		return -1;
	(void)pur_json_copy(obj, "object", out->object, sizeof(out->object));
	(void)pur_json_copy(obj, "id", out->object_id, sizeof(out->object_id));
	if (strcmp(out->object, "invoice") == 0) {
		(void)copy_id(obj, "subscription", out->subscription, sizeof(out->subscription));
		(void)copy_id(obj, "customer", out->customer, sizeof(out->customer));
	} else if (strcmp(out->object, "subscription") == 0) {
		memcpy(out->subscription, out->object_id, sizeof(out->subscription));
		(void)copy_id(obj, "customer", out->customer, sizeof(out->customer));
	} else if (strcmp(out->object, "customer") == 0) {
		memcpy(out->customer, out->object_id, sizeof(out->customer));
	}
	return 0;
}

int
pur_stripe_parse_event(const char *body, size_t len, struct pur_stripe_event *out)
{
	json_object *o;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((o = pur_json_parse_reply(body, len)) == NULL)
		return -1;
	rc = event_from(o, out);
	json_object_put(o);
	return rc;
}

void
pur_stripe_event_page_free(struct pur_stripe_event_page *p)
{
	if (p == NULL)
		return;
	free(p->v);
	p->v = NULL;
	p->n = 0;
}

static int
event_item(json_object *o, void *out)
{
	return event_from(o, out);
}

int
pur_stripe_parse_event_list(const char *body, size_t len, struct pur_stripe_event_page *out)
{
	void *v;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = parse_list(body, len, sizeof(*out->v), event_item, &v, &out->n, &out->has_more);
	out->v = v;
	return rc;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#define SIG_MAX 8 /* v1 signatures considered in one header */

int
pur_stripe_signature_ok(const char *header, const char *body, size_t len, const char *secrets,
    int64_t now, int64_t tolerance)
{
	unsigned char sigs[SIG_MAX][PUR_SHA256_LEN], mac[PUR_SHA256_LEN];
	const char *p, *e, *t = NULL, *sec;
	size_t tlen = 0, nsig = 0, i, k;
	int64_t ts = 0;
	int ok = 0;

	if (header == NULL || body == NULL || secrets == NULL || strlen(header) > 4096)
		return -1;
	/* "t=...,v1=...,v1=...": every element, in any order; unknown
	 * schemes (v0, test ones) are skipped. */
	for (p = header; *p != '\0'; p = *e ? e + 1 : e) {
		e = p + strcspn(p, ",");
		while (p < e && *p == ' ')
			p++;
		if (e - p > 2 && p[0] == 't' && p[1] == '=') {
			if (t != NULL)
				return -1; /* two timestamps */
			t = p + 2;
			tlen = (size_t)(e - t);
			if (tlen == 0 || tlen > 12)
				return -1;
			for (i = 0; i < tlen; i++) {
				if (t[i] < '0' || t[i] > '9')
					return -1;
				ts = ts * 10 + (t[i] - '0');
			}
		} else if (e - p == 3 + 2 * PUR_SHA256_LEN && strncmp(p, "v1=", 3) == 0 &&
		           nsig < SIG_MAX) {
			for (i = 0; i < PUR_SHA256_LEN; i++) {
				int hi = hexval(p[3 + 2 * i]), lo = hexval(p[4 + 2 * i]);
				if (hi < 0 || lo < 0)
					break;
				sigs[nsig][i] = (unsigned char)(hi << 4 | lo);
			}
			if (i == PUR_SHA256_LEN)
				nsig++;
		}
	}
	if (t == NULL || nsig == 0)
		return -1;
	if (ts < now - tolerance || ts > now + tolerance)
		return -1;
	/* Every configured secret against every v1: a roll has two of each. */
	for (sec = secrets; *sec != '\0'; sec = *e ? e + 1 : e) {
		const char *a, *b;
		e = sec + strcspn(sec, ",");
		for (a = sec; a < e && (*a == ' ' || *a == '\t'); a++)
			;
		for (b = e; b > a && (b[-1] == ' ' || b[-1] == '\t'); b--)
			;
		if (b == a)
			continue;
		{
			struct pur_hmac h;
			pur_hmac_init(&h, a, (size_t)(b - a));
			pur_hmac_update(&h, t, tlen);
			pur_hmac_update(&h, ".", 1);
			pur_hmac_update(&h, body, len);
			pur_hmac_final(&h, mac);
		}
		for (k = 0; k < nsig; k++)
			ok |= pur_memeq_ct(mac, sigs[k], sizeof(mac)) == 0;
	}
	return ok ? 0 : -1;
}

int
pur_stripe_parse_invoice(const char *body, size_t len, struct pur_stripe_invoice *out)
{
	json_object *o;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if ((o = pur_json_parse_reply_only(body, len, invoice_keys)) == NULL)
		return -1;
	if (pur_json_copy(o, "id", out->id, sizeof(out->id)) != 0 ||
	    pur_json_copy(o, "status", out->status, sizeof(out->status)) != 0)
		goto out;
	if (pur_json_bool(o, "paid", &out->paid) != 0)
		out->paid = strcmp(out->status, "paid") == 0;
	rc = 0;
out:
	json_object_put(o);
	return rc;
}

int
pur_stripe_parse_error(const char *body, size_t len, struct pur_stripe_error *out)
{
	json_object *o, *e;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if ((o = pur_json_parse_reply(body, len)) == NULL)
		return -1;
	if ((e = pur_json_obj(o, "error")) == NULL)
		goto out;
	(void)pur_json_copy(e, "type", out->type, sizeof(out->type));
	(void)pur_json_copy(e, "code", out->code, sizeof(out->code));
	(void)pur_json_copy(e, "decline_code", out->decline_code, sizeof(out->decline_code));
	rc = 0;
out:
	json_object_put(o);
	return rc;
}

/* Builds base + path (+ escaped segment + suffix) into url. */
static int
make_url(struct pur_buf *url, const char *base, const char *path, const char *seg,
    const char *suffix)
{
	if (pur_buf_adds(url, base) != 0 || pur_buf_adds(url, path) != 0)
		return -1;
	if (seg != NULL && pur_form_escape(url, seg) != 0)
		return -1;
	if (suffix != NULL && pur_buf_adds(url, suffix) != 0)
		return -1;
	return 0;
}

/*
 * Performs one call and classifies it. On PUR_CALL_OK the caller parses
 * r->body; the classification of a failure follows Stripe's documented
 * errors: 402 card_error is a decline, 404 or resource_missing means the
 * object does not exist, 429 and "not sent" are safe to retry, 5xx and
 * anything unreadable are unknown (the work may have been done).
 */
static enum pur_call
call(const struct pur_stripe *s, const char *method, const char *url, const char *form,
    const char *idem, struct pur_http_reply *r, struct pur_call_info *info)
{
	struct pur_http_req req = {0};
	struct pur_stripe_error e;
	enum pur_call rc;

	req.method = method;
	req.url = url;
	req.bearer = s->cfg->stripe_secret_key ? s->cfg->stripe_secret_key : "";
	req.idem_key = idem;
	req.form = form;
	req.version = PUR_STRIPE_VERSION;
	if ((rc = pur_http_call(s->http, &req, r, info)) != PUR_CALL_REJECTED)
		return rc;
	if (pur_stripe_parse_error(r->body.data, r->body.len, &e) != 0)
		return PUR_CALL_UNKNOWN;
	if (info != NULL)
		snprintf(info->code, sizeof(info->code), "%s", e.code[0] ? e.code : e.type);
	if (r->status == 402 || strcmp(e.type, "card_error") == 0)
		return PUR_CALL_DECLINED;
	if (r->status == 404 || strcmp(e.code, "resource_missing") == 0)
		return PUR_CALL_GONE;
	/* 409 is Stripe's "same key still in flight": retry later. */
	if (r->status == 409)
		return PUR_CALL_RETRY;
	return PUR_CALL_REJECTED;
}

/* The OK reply is parsed by parse(); a 2xx that does not parse is UNKNOWN
 * (the work may have been done; the reply was lost). */
#define PARSED(rc, expr) ((rc) == PUR_CALL_OK && (expr) != 0 ? PUR_CALL_UNKNOWN : (rc))

enum pur_call
pur_stripe_customer_get(const struct pur_stripe *s, const char *customer,
    char pm[PUR_STRIPE_ID], struct pur_call_info *info)
{
	struct pur_http_reply r;
	struct pur_buf url;
	enum pur_call rc = PUR_CALL_RETRY;

	pm[0] = '\0';
	pur_http_reply_init(&r);
	pur_buf_init(&url, URL_MAX);
	if (make_url(&url, s->cfg->stripe_api_base, "/v1/customers/", customer, NULL) == 0) {
		rc = call(s, "GET", url.data, NULL, NULL, &r, info);
		rc = PARSED(rc, pur_stripe_parse_customer(r.body.data, r.body.len, pm));
	}
	pur_buf_free(&url);
	pur_http_reply_free(&r);
	return rc;
}

enum pur_call
pur_stripe_subscription_create(const struct pur_stripe *s, const struct pur_stripe_ref *ref,
    const char *customer, const char *price, const char *payment_method,
    struct pur_stripe_sub *out, struct pur_call_info *info)
{
	struct pur_http_reply r;
	struct pur_buf url, form;
	enum pur_call rc = PUR_CALL_RETRY;
	char idem[128];

	if (info != NULL)
		memset(info, 0, sizeof(*info));
	if (pur_stripe_idem_key(ref, "subscribe", idem, sizeof(idem)) != 0)
		return PUR_CALL_REJECTED;
	pur_http_reply_init(&r);
	pur_buf_init(&url, URL_MAX);
	pur_buf_init(&form, FORM_MAX);
	if (make_url(&url, s->cfg->stripe_api_base, "/v1/subscriptions", NULL, NULL) == 0 &&
	    pur_stripe_build_subscription(&form, customer, price, payment_method, ref) == 0) {
		rc = call(s, "POST", url.data, form.data, idem, &r, info);
		rc = PARSED(rc, pur_stripe_parse_subscription(r.body.data, r.body.len, out));
		if (rc == PUR_CALL_OK && out->latest_invoice[0] == '\0')
			rc = PUR_CALL_UNKNOWN;
	}
	pur_buf_free(&form);
	pur_buf_free(&url);
	pur_http_reply_free(&r);
	return rc;
}

enum pur_call
pur_stripe_subscription_find(const struct pur_stripe *s, int64_t purchase_id,
    struct pur_stripe_sub *out, int *found, struct pur_call_info *info)
{
	struct pur_http_reply r;
	struct pur_buf url;
	enum pur_call rc = PUR_CALL_RETRY;
	char query[80];

	*found = 0;
	snprintf(query, sizeof(query), "metadata['purchase_id']:'%" PRId64 "'", purchase_id);
	pur_http_reply_init(&r);
	pur_buf_init(&url, URL_MAX);
	if (make_url(&url, s->cfg->stripe_api_base, "/v1/subscriptions/search?query=", query,
	        NULL) == 0) {
		rc = call(s, "GET", url.data, NULL, NULL, &r, info);
		rc = PARSED(rc, pur_stripe_parse_sub_search(r.body.data, r.body.len, out, found));
	}
	pur_buf_free(&url);
	pur_http_reply_free(&r);
	return rc;
}

enum pur_call
pur_stripe_subscription_cancel(const struct pur_stripe *s, const char *sub,
    struct pur_call_info *info)
{
	struct pur_http_reply r;
	struct pur_buf url;
	struct pur_stripe_sub out;
	enum pur_call rc = PUR_CALL_RETRY;

	pur_http_reply_init(&r);
	pur_buf_init(&url, URL_MAX);
	if (make_url(&url, s->cfg->stripe_api_base, "/v1/subscriptions/", sub, NULL) == 0) {
		rc = call(s, "DELETE", url.data, NULL, NULL, &r, info);
		rc = PARSED(rc, pur_stripe_parse_subscription(r.body.data, r.body.len, &out));
		/* Refused: most likely ended already (Stripe refuses to cancel
		 * what has ended); the subscription itself says. */
		if (rc == PUR_CALL_REJECTED)
			rc = pur_stripe_subscription_get(s, sub, &out, info);
		if (rc == PUR_CALL_OK && !pur_stripe_sub_ended(out.status))
			rc = PUR_CALL_UNKNOWN;
	}
	pur_buf_free(&url);
	pur_http_reply_free(&r);
	return rc;
}

enum pur_call
pur_stripe_subscription_get(const struct pur_stripe *s, const char *sub,
    struct pur_stripe_sub *out, struct pur_call_info *info)
{
	struct pur_http_reply r;
	struct pur_buf url;
	enum pur_call rc = PUR_CALL_RETRY;

	memset(out, 0, sizeof(*out));
	pur_http_reply_init(&r);
	pur_buf_init(&url, URL_MAX);
	if (make_url(&url, s->cfg->stripe_api_base, "/v1/subscriptions/", sub, NULL) == 0) {
		rc = call(s, "GET", url.data, NULL, NULL, &r, info);
		rc = PARSED(rc, pur_stripe_parse_subscription(r.body.data, r.body.len, out));
	}
	pur_buf_free(&url);
	pur_http_reply_free(&r);
	return rc;
}

/* POST /v1/subscriptions/{id} with form, the subscription read back. */
static enum pur_call
update_subscription(const struct pur_stripe *s, const char *sub, const char *form,
    struct pur_stripe_sub *out, struct pur_call_info *info)
{
	struct pur_http_reply r;
	struct pur_buf url;
	enum pur_call rc = PUR_CALL_RETRY;

	memset(out, 0, sizeof(*out));
	pur_http_reply_init(&r);
	pur_buf_init(&url, URL_MAX);
	if (make_url(&url, s->cfg->stripe_api_base, "/v1/subscriptions/", sub, NULL) == 0) {
		/* No Idempotency-Key: setting a value twice is setting it. */
		rc = call(s, "POST", url.data, form, NULL, &r, info);
		rc = PARSED(rc, pur_stripe_parse_subscription(r.body.data, r.body.len, out));
	}
	pur_buf_free(&url);
	pur_http_reply_free(&r);
	return rc;
}

enum pur_call
pur_stripe_subscription_set_cancel(const struct pur_stripe *s, const char *sub, int cancel,
    struct pur_stripe_sub *out, struct pur_call_info *info)
{
	enum pur_call rc;

	rc = update_subscription(s, sub,
	    cancel ? "cancel_at_period_end=true" : "cancel_at_period_end=false", out, info);
	if (rc == PUR_CALL_OK && out->cancel_at_period_end != (cancel != 0) &&
	    !pur_stripe_sub_ended(out->status))
		rc = PUR_CALL_UNKNOWN; /* a 200 that did not do it */
	return rc;
}

enum pur_call
pur_stripe_subscription_set_payment(const struct pur_stripe *s, const char *sub,
    const char *payment_method, struct pur_stripe_sub *out, struct pur_call_info *info)
{
	struct pur_buf form;
	enum pur_call rc = PUR_CALL_RETRY;
	int pm = strncmp(payment_method, "pm_", 3) == 0;

	pur_buf_init(&form, FORM_MAX);
	/* An empty default_payment_method unsets it: a legacy source can
	 * only be the default when no PaymentMethod is. */
	if ((pm ? pur_form_add(&form, "default_payment_method", payment_method) :
	          pur_form_add(&form, "default_payment_method", "") ||
	              pur_form_add(&form, "default_source", payment_method)) == 0)
		rc = update_subscription(s, sub, form.data, out, info);
	pur_buf_free(&form);
	return rc;
}

enum pur_call
pur_stripe_invoice_pay(const struct pur_stripe *s, const struct pur_stripe_ref *ref,
    const char *invoice, struct pur_stripe_invoice *out, struct pur_call_info *info)
{
	struct pur_http_reply r;
	struct pur_buf url;
	enum pur_call rc = PUR_CALL_RETRY;
	char idem[128];

	if (info != NULL)
		memset(info, 0, sizeof(*info));
	if (pur_stripe_idem_key(ref, "pay", idem, sizeof(idem)) != 0)
		return PUR_CALL_REJECTED;
	pur_http_reply_init(&r);
	pur_buf_init(&url, URL_MAX);
	if (make_url(&url, s->cfg->stripe_api_base, "/v1/invoices/", invoice, "/pay") == 0) {
		rc = call(s, "POST", url.data, "", idem, &r, info);
		rc = PARSED(rc, pur_stripe_parse_invoice(r.body.data, r.body.len, out));
		if (rc == PUR_CALL_OK && !out->paid)
			rc = PUR_CALL_UNKNOWN;
	}
	pur_buf_free(&url);
	pur_http_reply_free(&r);
	return rc;
}

enum pur_call
pur_stripe_invoice_void(const struct pur_stripe *s, const char *invoice,
    struct pur_stripe_invoice *out, struct pur_call_info *info)
{
	struct pur_http_reply r;
	struct pur_buf url;
	enum pur_call rc = PUR_CALL_RETRY;

	memset(out, 0, sizeof(*out));
	pur_http_reply_init(&r);
	pur_buf_init(&url, URL_MAX);
	if (make_url(&url, s->cfg->stripe_api_base, "/v1/invoices/", invoice, "/void") == 0) {
		/* No Idempotency-Key: voiding is idempotent by itself (a void
		 * invoice stays void; a second void is refused, then read). */
		rc = call(s, "POST", url.data, "", NULL, &r, info);
		rc = PARSED(rc, pur_stripe_parse_invoice(r.body.data, r.body.len, out));
		if (rc == PUR_CALL_OK && strcmp(out->status, "void") != 0)
			rc = PUR_CALL_UNKNOWN;
		/* Refused (paid, void already, or not open): what is it now? */
		if (rc == PUR_CALL_REJECTED)
			rc = pur_stripe_invoice_get(s, invoice, out, info);
	}
	pur_buf_free(&url);
	pur_http_reply_free(&r);
	return rc;
}

/* Subscriptions per page of the list (reconcile), each with its latest
 * invoice: Stripe's objects are several KiB each (3.6 KiB the sandbox's,
 * more with real items and invoices), and the reply must stay under the
 * 1 MiB ceiling on a body (ctx.c). */
#define SUB_PAGE "50"

enum pur_call
pur_stripe_subscription_list(const struct pur_stripe *s, const char *after,
    struct pur_stripe_sub_page *out, struct pur_call_info *info)
{
	struct pur_http_reply r;
	struct pur_buf url;
	enum pur_call rc = PUR_CALL_RETRY;

	memset(out, 0, sizeof(*out));
	pur_http_reply_init(&r);
	pur_buf_init(&url, URL_MAX);
	if (make_url(&url, s->cfg->stripe_api_base,
	        "/v1/subscriptions?status=all&limit=" SUB_PAGE "&expand%5B%5D=data.latest_invoice", NULL,
	        NULL) == 0 &&
	    (after == NULL || (pur_buf_adds(&url, "&starting_after=") == 0 &&
	                          pur_form_escape(&url, after) == 0))) {
		rc = call(s, "GET", url.data, NULL, NULL, &r, info);
		rc = PARSED(rc, pur_stripe_parse_sub_list(r.body.data, r.body.len, out));
	}
	pur_buf_free(&url);
	pur_http_reply_free(&r);
	return rc;
}

enum pur_call
pur_stripe_event_list(const struct pur_stripe *s, const char *ending_before,
    const char *starting_after, struct pur_stripe_event_page *out, struct pur_call_info *info)
{
	struct pur_http_reply r;
	struct pur_buf url;
	enum pur_call rc = PUR_CALL_RETRY;
	int built;

	memset(out, 0, sizeof(*out));
	pur_http_reply_init(&r);
	pur_buf_init(&url, URL_MAX);
	built = make_url(&url, s->cfg->stripe_api_base, "/v1/events?limit=100", NULL, NULL) == 0;
	if (built && ending_before != NULL && *ending_before != '\0')
		built = pur_buf_adds(&url, "&ending_before=") == 0 &&
		    pur_form_escape(&url, ending_before) == 0;
	if (built && starting_after != NULL && *starting_after != '\0')
		built = pur_buf_adds(&url, "&starting_after=") == 0 &&
		    pur_form_escape(&url, starting_after) == 0;
	if (built) {
		rc = call(s, "GET", url.data, NULL, NULL, &r, info);
		rc = PARSED(rc, pur_stripe_parse_event_list(r.body.data, r.body.len, out));
	}
	pur_buf_free(&url);
	pur_http_reply_free(&r);
	return rc;
}

enum pur_call
pur_stripe_invoice_get(const struct pur_stripe *s, const char *invoice,
    struct pur_stripe_invoice *out, struct pur_call_info *info)
{
	struct pur_http_reply r;
	struct pur_buf url;
	enum pur_call rc = PUR_CALL_RETRY;

	pur_http_reply_init(&r);
	pur_buf_init(&url, URL_MAX);
	if (make_url(&url, s->cfg->stripe_api_base, "/v1/invoices/", invoice, NULL) == 0) {
		rc = call(s, "GET", url.data, NULL, NULL, &r, info);
		rc = PARSED(rc, pur_stripe_parse_invoice(r.body.data, r.body.len, out));
	}
	pur_buf_free(&url);
	pur_http_reply_free(&r);
	return rc;
}
