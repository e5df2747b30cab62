/*
 * search.c -- GET /api/user/phone-numbers/search (DESIGN §2.2): validate the
 * query, price the country and type, ask the carrier, record the offers.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "e164.h"
#include "error.h"
#include "form.h"
#include "store.h"
#include "twilio.h"

struct query {
	char country[3];
	char contains[11];
	char area_code[6];
	char type[16];
	int limit;
};

static int
all_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* Validators, kcgi-style: each takes the decoded value and fills q. */
static int
v_country(const char *v, struct query *q)
{
	if (strlen(v) != 2)
		return -1;
	for (int i = 0; i < 2; i++) {
		char c = v[i];
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (c < 'A' || c > 'Z')
			return -1;
		q->country[i] = c;
	}
	q->country[2] = '\0';
	return 0;
}

/* Digits only, at most 10 (DESIGN §2.2), and at least 2: Twilio's
 * Contains "can be between 2 and 16 characters long" (its spec's text). */
static int
v_contains(const char *v, struct query *q)
{
	size_t n = strlen(v);

	if (n < 2 || n > 10 || !all_digits(v))
		return -1;
	snprintf(q->contains, sizeof(q->contains), "%s", v);
	return 0;
}

/* A NANP area code, NXX: Twilio's AreaCode "applies to only phone numbers
 * in the US and Canada" (checked with the country, in parse_query). */
static int
v_area_code(const char *v, struct query *q)
{
	if (strlen(v) != 3 || !all_digits(v) || v[0] < '2')
		return -1;
	snprintf(q->area_code, sizeof(q->area_code), "%s", v);
	return 0;
}

static int
v_type(const char *v, struct query *q)
{
	if (strcmp(v, "local") != 0 && strcmp(v, "toll_free") != 0 && strcmp(v, "mobile") != 0)
		return -1;
	snprintf(q->type, sizeof(q->type), "%s", v);
	return 0;
}

static int
v_limit(const char *v, struct query *q)
{
	int n = 0;

	if (strlen(v) > 2 || !all_digits(v))
		return -1;
	for (; *v != '\0'; v++)
		n = n * 10 + (*v - '0');
	if (n < 1 || n > 50)
		return -1;
	q->limit = n;
	return 0;
}

static const struct {
	const char *name;
	int (*valid)(const char *, struct query *);
} params[] = {
	{"country_code", v_country},
	{"contains", v_contains},
	{"area_code", v_area_code},
	{"type", v_type},
	{"limit", v_limit},
};

#define NPARAMS (sizeof(params) / sizeof(params[0]))

static enum purchase_err
parse_query(const char *qs, struct query *q, struct purchase_detail *d)
{
	char key[32], val[64];
	unsigned seen = 0;
	size_t i;
	int rc;

	memset(q, 0, sizeof(*q));
	memcpy(q->country, "US", 3);
	memcpy(q->type, "local", 6);
	q->limit = 20;
	if (qs == NULL)
		return PURCHASE_OK;
	if (strlen(qs) > 1024)
		return pur_error_set(d, PURCHASE_EPARAM, "query string too long");
	while ((rc = pur_form_next(&qs, key, sizeof(key), val, sizeof(val))) == 1) {
		for (i = 0; i < NPARAMS; i++)
			if (strcmp(params[i].name, key) == 0)
				break;
		if (i == NPARAMS)
			return pur_error_set(d, PURCHASE_EPARAM, "unknown parameter");
		if (seen & (1u << i))
			return pur_error_set(d, PURCHASE_EPARAM, "%s given twice", params[i].name);
		seen |= 1u << i;
		if (params[i].valid(val, q) != 0)
			return pur_error_set(d, PURCHASE_EPARAM, "invalid %s", params[i].name);
	}
	if (rc != 0)
		return pur_error_set(d, PURCHASE_EPARAM, "malformed query string");
	if (q->area_code[0] != '\0' && strcmp(q->country, "US") != 0 && strcmp(q->country, "CA") != 0)
		return pur_error_set(d, PURCHASE_EPARAM, "area_code applies to US and CA only");
	return PURCHASE_OK;
}

/* The carrier is not trusted to answer what was asked: a number of another
 * country (iso_country, or a calling code that is not the country's) is
 * dropped, never offered -- it would be sold under the price and the
 * country of the search. Each drop is logged, as are the entries the
 * parser skipped (not E.164). */
static void
keep_country(struct purchase_ctx *ctx, struct pur_twilio_avail_list *l, const char *country)
{
	size_t i, n = 0;

	if (l->skipped > 0)
		purchase_log(ctx, "twilio available %s: %zu entries dropped (no valid E.164 number)",
		    country, l->skipped);
	for (i = 0; i < l->n; i++) {
		const struct pur_twilio_avail *a = &l->v[i];
		if (strcmp(a->iso_country, country) != 0 ||
		    pur_e164_in_country(a->phone_number, country) == 0) {
			purchase_log(ctx, "twilio available %s: %s (iso_country %s) dropped: not of "
			    "the country asked", country, a->phone_number,
			    a->iso_country[0] ? a->iso_country : "-");
			continue;
		}
		l->v[n++] = *a;
	}
	l->n = n;
}

enum purchase_err
purchase_search(struct purchase_ctx *ctx, int64_t account_id, const char *qs,
    struct purchase_offers *out, struct purchase_detail *d)
{
	struct pur_twilio_avail_list avail = {0, NULL, 0};
	struct pur_offer_row *rows = NULL;
	struct pur_call_info info;
	struct query q;
	enum purchase_err err;
	enum pur_call rc;
	char price_id[PUR_ID_MAX];
	int64_t cents, now = pur_now(), retry = 0;
	size_t i;
	int attempt;

	out->n = 0;
	out->v = NULL;
	if ((err = pur_ctx_ready(ctx, d)) != PURCHASE_OK)
		return err;
	if ((err = parse_query(qs, &q, d)) != PURCHASE_OK)
		return err;
	if ((err = pur_store_price_get(ctx->store, q.country, q.type, &cents, price_id)) !=
	    PURCHASE_OK)
		return pur_error_set(d, err, "no price for %s %s", q.country, q.type);
	if ((err = pur_store_search_rate_check(ctx->store, account_id,
	         ctx->cfg->search_rate_per_minute, now, &retry)) != PURCHASE_OK) {
		if (err == PURCHASE_ERATE)
			pur_ctx_set_retry_after(ctx, retry);
		return err;
	}

	/* A search changes nothing at the carrier: one more try when the first
	 * certainly did not get through. */
	for (attempt = 0; attempt < 2; attempt++) {
		rc = pur_twilio_available(&ctx->twilio, q.country, q.type, q.area_code, q.contains,
		    q.limit, &avail, &info);
		if (rc == PUR_CALL_OK)
			pur_log_ok(ctx, "twilio available %s %s %ld %ldms", q.country, q.type,
			    info.status, info.elapsed_ms);
		else
			purchase_log(ctx, "twilio available %s %s: %s status=%ld code=%s ms=%ld",
			    q.country, q.type, pur_call_name(rc), info.status, info.code,
			    info.elapsed_ms);
		if (rc != PUR_CALL_RETRY)
			break;
	}
	if (rc != PUR_CALL_OK)
		return pur_error_set(d, PURCHASE_ESEARCH, "carrier search: %s", pur_call_name(rc));
	keep_country(ctx, &avail, q.country);
	if (avail.n > (size_t)q.limit)
		avail.n = (size_t)q.limit;

	err = PURCHASE_ENOMEM;
	if (avail.n > 0 && ((rows = calloc(avail.n, sizeof(*rows))) == NULL ||
	                       (out->v = calloc(avail.n, sizeof(*out->v))) == NULL))
		goto out;
	for (i = 0; i < avail.n; i++) {
		struct pur_offer_row *r = &rows[i];
		struct purchase_offer *o = &out->v[i];
		memcpy(r->phone_number, avail.v[i].phone_number, sizeof(r->phone_number));
		memcpy(r->country_code, q.country, sizeof(r->country_code));
		memcpy(r->type, q.type, sizeof(r->type));
		r->price_cents = cents;
		snprintf(r->stripe_price_id, sizeof(r->stripe_price_id), "%s", price_id);
		r->sms_capable = avail.v[i].sms;
		memcpy(r->region, avail.v[i].region, sizeof(r->region));
		r->expires_at = now + ctx->cfg->offer_ttl_seconds;

		memcpy(o->phone_number, r->phone_number, sizeof(o->phone_number));
		snprintf(o->phone_number_formatted, sizeof(o->phone_number_formatted), "%s",
		    avail.v[i].friendly_name);
		memcpy(o->country_code, q.country, sizeof(o->country_code));
		o->price_cents = cents;
		snprintf(o->stripe_price_id, sizeof(o->stripe_price_id), "%s", price_id);
		memcpy(o->address_requirements, avail.v[i].address_requirements,
		    sizeof(o->address_requirements));
		o->sms_capable = avail.v[i].sms;
	}
	if ((err = pur_store_offers_put(ctx->store, account_id, rows, avail.n, now)) != PURCHASE_OK)
		goto out;
	out->n = avail.n;
	err = PURCHASE_OK;
out:
	if (err != PURCHASE_OK)
		purchase_offers_free(out);
	free(rows);
	pur_twilio_avail_list_free(&avail);
	return err;
}
