/*
 * numbers.c -- the numbers as the API shows them (DESIGN §2.3): the lists
 * (all of an account's, paged or not; Sondos' legacy one), one number, its
 * nickname; and the operator's walk over every number. Read from our
 * database only: no provider is ever called here (what Stripe says is
 * brought in by release.c and the webhooks).
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "error.h"
#include "form.h"
#include "json.h"
#include "numbers.h"
#include "store.h"

#define NICKNAME_MAX 50  /* characters */
#define PER_PAGE_DEFAULT 25
#define PER_PAGE_MAX 100
#define PAGE_MAX 1000000000

int64_t
pur_number_id(const char *s)
{
	int64_t v = 0;
	size_t n;

	if (s == NULL || (n = strlen(s)) == 0 || n > 18 || s[0] == '0' ||
	    strspn(s, "0123456789") != n)
		return 0;
	for (; *s != '\0'; s++)
		v = v * 10 + (*s - '0');
	return v;
}

void
pur_number_public(const struct pur_number *n, struct purchase_number *out)
{
	memset(out, 0, sizeof(*out));
	out->id = n->id;
	memcpy(out->phone_number, n->phone_number, sizeof(out->phone_number));
	memcpy(out->country_code, n->country_code, sizeof(out->country_code));
	memcpy(out->type, n->type, sizeof(out->type));
	out->sms_capable = n->sms_capable;
	memcpy(out->status, n->status, sizeof(out->status));
	out->price_cents = n->price_cents;
	out->period_end = n->period_end;
	out->created_at = n->created_at;
	memcpy(out->region, n->region, sizeof(out->region));
	memcpy(out->nickname, n->nickname, sizeof(out->nickname));
	out->cancel_at_period_end = n->cancel_at_period_end;
}

void
purchase_numbers_free(struct purchase_numbers *l)
{
	if (l == NULL)
		return;
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* A whole number of 1 to 10 digits within [1, max]; -1 otherwise. */
static int64_t
positive(const char *v, int64_t max)
{
	int64_t n = 0;
	size_t len = strlen(v);

	if (len == 0 || len > 10 || strspn(v, "0123456789") != len)
		return -1;
	for (; *v != '\0'; v++)
		n = n * 10 + (*v - '0');
	return n >= 1 && n <= max ? n : -1;
}

/* page and per_page (each at most once, nothing else). */
static enum purchase_err
parse_paging(const char *qs, struct purchase_numbers *out, struct purchase_detail *d)
{
	char key[32], val[64];
	int seen_page = 0, seen_per = 0, rc;

	out->page = 1;
	out->per_page = PER_PAGE_DEFAULT;
	if (qs == NULL)
		return PURCHASE_OK;
	if (strlen(qs) > 1024)
		return pur_error_set(d, PURCHASE_EPAGE, "query string too long");
	while ((rc = pur_form_next(&qs, key, sizeof(key), val, sizeof(val))) == 1) {
		if (strcmp(key, "page") == 0 && !seen_page++) {
			if ((out->page = positive(val, PAGE_MAX)) < 0)
				return pur_error_set(d, PURCHASE_EPAGE, "invalid page");
		} else if (strcmp(key, "per_page") == 0 && !seen_per++) {
			if ((out->per_page = positive(val, PER_PAGE_MAX)) < 0)
				return pur_error_set(d, PURCHASE_EPAGE, "invalid per_page");
		} else {
			return pur_error_set(d, PURCHASE_EPAGE, "unknown or repeated parameter");
		}
	}
	if (rc != 0)
		return pur_error_set(d, PURCHASE_EPAGE, "malformed query string");
	out->paged = seen_page || seen_per;
	return PURCHASE_OK;
}

enum purchase_err
purchase_numbers_list(struct purchase_ctx *ctx, int64_t account_id, enum purchase_list which,
    const char *query, struct purchase_numbers *out, struct purchase_detail *d)
{
	struct pur_number *v = NULL;
	enum purchase_err err;
	int legacy = which == PURCHASE_LIST_LEGACY;
	size_t n = 0, i;

	memset(out, 0, sizeof(*out));
	if ((err = pur_ctx_ready(ctx, d)) != PURCHASE_OK)
		return err;
	if ((err = parse_paging(query, out, d)) != PURCHASE_OK)
		return err;
	/* The page and its count in one snapshot. */
	if ((err = pur_store_snapshot_begin(ctx->store)) != PURCHASE_OK)
		return err;
	if (out->paged) {
		err = pur_store_numbers_count(ctx->store, account_id, legacy, &out->total);
		out->last_page = out->total > 0 ? (out->total + out->per_page - 1) / out->per_page : 1;
		if (err == PURCHASE_OK)
			err = pur_store_numbers_list(ctx->store, account_id, legacy, out->per_page,
			    (out->page - 1) * out->per_page, &v, &n);
	} else {
		err = pur_store_numbers_list(ctx->store, account_id, legacy, -1, 0, &v, &n);
	}
	pur_store_read_end(ctx->store);
	if (err != PURCHASE_OK)
		return err;
	if (n > 0 && (out->v = calloc(n, sizeof(*out->v))) == NULL) {
		free(v);
		return PURCHASE_ENOMEM;
	}
	for (i = 0; i < n; i++)
		pur_number_public(&v[i], &out->v[i]);
	out->n = n;
	if (!out->paged)
		out->total = (int64_t)n;
	free(v);
	return PURCHASE_OK;
}

enum purchase_err
purchase_number_get(struct purchase_ctx *ctx, int64_t account_id, const char *id,
    struct purchase_number *out, struct purchase_detail *d)
{
	struct pur_number n;
	enum purchase_err err;
	int64_t k;

	if ((err = pur_ctx_ready(ctx, d)) != PURCHASE_OK)
		return err;
	/* Another account's id is "not found", never "forbidden". */
	if ((k = pur_number_id(id)) == 0 || account_id <= 0)
		return PURCHASE_ENOT_FOUND;
	if ((err = pur_store_number_get(ctx->store, account_id, k, &n)) != PURCHASE_OK)
		return err;
	pur_number_public(&n, out);
	return PURCHASE_OK;
}

/* Characters of valid UTF-8 (the request parser checked it). */
static size_t
utf8_chars(const char *s, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	return n;
}

static const struct pur_field rename_fields[] = {
	{"nickname", PUR_FIELD_ANY, 0},
};

enum purchase_err
purchase_number_rename(struct purchase_ctx *ctx, int64_t account_id, const char *id,
    const char *body, size_t len, struct purchase_number *out, struct purchase_detail *d)
{
	json_object *req = NULL, *v;
	struct pur_number n;
	enum purchase_err err;
	const char *nick = NULL;
	size_t nlen = 0;
	int64_t k;

	if ((err = pur_ctx_ready(ctx, d)) != PURCHASE_OK)
		return err;
	if ((k = pur_number_id(id)) == 0 || account_id <= 0)
		return PURCHASE_ENOT_FOUND;
	if ((err = pur_store_number_get(ctx->store, account_id, k, &n)) != PURCHASE_OK)
		return err;
	if ((err = pur_json_parse_request(body, len, &req)) != PURCHASE_OK)
		return err;
	if ((err = pur_json_check_fields(req, rename_fields, 1)) != PURCHASE_OK)
		goto out;
	if (json_object_object_get_ex(req, "nickname", &v)) {
		/* null or "" clears it. */
		if (v != NULL && !json_object_is_type(v, json_type_string)) {
			err = PURCHASE_ENICKNAME_TYPE;
			goto out;
		}
		if (v != NULL) {
			nick = json_object_get_string(v);
			nlen = (size_t)json_object_get_string_len(v);
			if (memchr(nick, '\0', nlen) != NULL) {
				err = PURCHASE_ENICKNAME_TYPE; /* not a string we can keep */
				goto out;
			}
			if (utf8_chars(nick, nlen) > NICKNAME_MAX) {
				err = PURCHASE_ENICKNAME_LONG;
				goto out;
			}
		}
		if ((err = pur_store_number_rename(ctx->store, account_id, k, nick ? nick : "",
		         pur_now())) != PURCHASE_OK)
			goto out;
		snprintf(n.nickname, sizeof(n.nickname), "%s", nick ? nick : "");
	}
	pur_number_public(&n, out);
out:
	json_object_put(req);
	return err;
}

struct each {
	purchase_number_fn fn;
	void *arg;
};

static int
each_one(void *arg, const struct pur_number *n)
{
	struct each *e = arg;
	struct purchase_number pub;

	pur_number_public(n, &pub);
	e->fn(e->arg, n->account_id, &pub);
	return 0;
}

enum purchase_err
purchase_numbers_each(struct purchase_ctx *ctx, int64_t account_id, purchase_number_fn fn,
    void *arg, struct purchase_detail *d)
{
	struct each e = {fn, arg};
	enum purchase_err err;

	if ((err = pur_ctx_ready(ctx, d)) != PURCHASE_OK)
		return err;
	return pur_store_numbers_all(ctx->store, account_id, each_one, &e);
}
