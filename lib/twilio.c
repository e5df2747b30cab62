/*
 * twilio.c -- Twilio REST API 2010-04-01: AvailablePhoneNumbers and
 * IncomingPhoneNumbers.
 */
#include "autoconfig.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e164.h"
#include "form.h"
#include "json.h"
#include "twilio.h"

#define URL_MAX 2048

void
pur_twilio_avail_list_free(struct pur_twilio_avail_list *l)
{
	if (l == NULL)
		return;
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int
account_url(struct pur_buf *url, const char *base, const char *sid)
{
	if (pur_buf_adds(url, base) != 0 || pur_buf_adds(url, "/2010-04-01/Accounts/") != 0 ||
	    pur_form_escape(url, sid) != 0)
		return -1;
	return 0;
}

int
pur_twilio_build_available_url(struct pur_buf *url, const char *base, const char *sid,
    const char *country, const char *type, const char *area_code, const char *contains,
    int page_size)
{
	const char *kind;
	struct pur_buf q;
	char ps[16];
	int rc = -1;

	if (strcmp(type, "toll_free") == 0)
		kind = "TollFree";
	else if (strcmp(type, "mobile") == 0)
		kind = "Mobile";
	else
		kind = "Local";
	snprintf(ps, sizeof(ps), "%d", page_size);
	pur_buf_init(&q, 1024);
	if (area_code != NULL && *area_code != '\0' && pur_form_add(&q, "AreaCode", area_code) != 0)
		goto out;
	if (contains != NULL && *contains != '\0' && pur_form_add(&q, "Contains", contains) != 0)
		goto out;
	if (pur_form_add(&q, "PageSize", ps) != 0)
		goto out;
	if (account_url(url, base, sid) != 0 || pur_buf_adds(url, "/AvailablePhoneNumbers/") != 0 ||
	    pur_form_escape(url, country) != 0 || pur_buf_adds(url, "/") != 0 ||
	    pur_buf_adds(url, kind) != 0 || pur_buf_adds(url, ".json?") != 0 ||
	    pur_buf_add(url, q.data, q.len) != 0)
		goto out;
	rc = 0;
out:
	pur_buf_free(&q);
	return rc;
}

int
pur_twilio_parse_available(const char *body, size_t len, struct pur_twilio_avail_list *out)
{
	json_object *o, *arr, *e, *caps;
	struct pur_twilio_avail *a;
	size_t i, n;
	int rc = -1;

	out->n = 0;
	out->v = NULL;
	out->skipped = 0;
	if ((o = pur_json_parse_reply(body, len)) == NULL)
		return -1;
	if ((arr = pur_json_arr(o, "available_phone_numbers")) == NULL)
		goto out;
	n = json_object_array_length(arr);
	if (n > 1000)
		n = 1000;
	if (n > 0 && (out->v = calloc(n, sizeof(*out->v))) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		const char *pn;
		e = json_object_array_get_idx(arr, i);
		a = &out->v[out->n];
		memset(a, 0, sizeof(*a));
		if ((pn = pur_json_str(e, "phone_number")) == NULL ||
		    pur_e164_parse(pn, strlen(pn), a->phone_number) != 0) {
			out->skipped++;
			continue;
		}
		if (pur_json_copy(e, "friendly_name", a->friendly_name, sizeof(a->friendly_name)) != 0)
			pur_e164_format(a->phone_number, a->friendly_name, sizeof(a->friendly_name));
		(void)pur_json_copy(e, "iso_country", a->iso_country, sizeof(a->iso_country));
		(void)pur_json_copy(e, "region", a->region, sizeof(a->region));
		if (pur_json_copy(e, "address_requirements", a->address_requirements,
		        sizeof(a->address_requirements)) != 0 ||
		    (strcmp(a->address_requirements, "none") != 0 &&
		     strcmp(a->address_requirements, "local") != 0 &&
		     strcmp(a->address_requirements, "foreign") != 0 &&
		     strcmp(a->address_requirements, "any") != 0))
			snprintf(a->address_requirements, sizeof(a->address_requirements), "any");
		/* The JSON API spells it "SMS" (the spec's XML name); accept both. */
		if ((caps = pur_json_obj(e, "capabilities")) != NULL &&
		    pur_json_bool(caps, "SMS", &a->sms) != 0 && pur_json_bool(caps, "sms", &a->sms) != 0)
			a->sms = 0;
		out->n++;
	}
	rc = 0;
out:
	json_object_put(o);
	if (rc != 0)
		pur_twilio_avail_list_free(out);
	return rc;
}

int
pur_twilio_parse_incoming(const char *body, size_t len, char sid[PUR_TWILIO_SID])
{
	static const char *const keys[] = {"sid", NULL};
	json_object *o;
	int rc;

	sid[0] = '\0';
	if ((o = pur_json_parse_reply_only(body, len, keys)) == NULL)
		return -1;
	rc = pur_json_copy(o, "sid", sid, PUR_TWILIO_SID);
	if (rc == 0 && strncmp(sid, "PN", 2) != 0)
		rc = -1;
	json_object_put(o);
	return rc;
}

int
pur_twilio_parse_incoming_list(const char *body, size_t len, const char *e164,
    char sid[PUR_TWILIO_SID])
{
	json_object *o, *arr, *e;
	size_t i, n;
	const char *pn;
	int rc = -1;

	sid[0] = '\0';
	if ((o = pur_json_parse_reply(body, len)) == NULL)
		return -1;
	if ((arr = pur_json_arr(o, "incoming_phone_numbers")) == NULL)
		goto out;
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(arr, i);
		if ((pn = pur_json_str(e, "phone_number")) != NULL && strcmp(pn, e164) == 0) {
			if (pur_json_copy(e, "sid", sid, PUR_TWILIO_SID) != 0)
				goto out;
			break;
		}
	}
	rc = 0;
out:
	json_object_put(o);
	return rc;
}

void
pur_twilio_owned_page_free(struct pur_twilio_owned_page *p)
{
	if (p == NULL)
		return;
	free(p->v);
	p->v = NULL;
	p->n = 0;
}

int
pur_twilio_parse_owned_page(const char *body, size_t len, struct pur_twilio_owned_page *out)
{
	json_object *o, *arr, *e;
	size_t i, n;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if ((o = pur_json_parse_reply(body, len)) == NULL)
		return -1;
	if ((arr = pur_json_arr(o, "incoming_phone_numbers")) == NULL)
		goto out;
	n = json_object_array_length(arr);
	if (n > 0 && (out->v = calloc(n, sizeof(*out->v))) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(arr, i);
		if (pur_json_copy(e, "sid", out->v[i].sid, sizeof(out->v[i].sid)) != 0 ||
		    pur_json_copy(e, "phone_number", out->v[i].phone_number,
		        sizeof(out->v[i].phone_number)) != 0)
			goto out;
		/* Only read to recognise our own tag: absent, null or too
		 * long reads as "". */
		if (pur_json_copy(e, "friendly_name", out->v[i].friendly_name,
		        sizeof(out->v[i].friendly_name)) != 0)
			out->v[i].friendly_name[0] = '\0';
	}
	out->n = n;
	if (pur_json_copy(o, "next_page_uri", out->next, sizeof(out->next)) != 0 ||
	    strncmp(out->next, "/2010-04-01/Accounts/", 21) != 0 || strstr(out->next, "..") != NULL)
		out->next[0] = '\0';
	rc = 0;
out:
	if (rc != 0)
		pur_twilio_owned_page_free(out);
	json_object_put(o);
	return rc;
}

int
pur_twilio_parse_error(const char *body, size_t len, long *code)
{
	json_object *o;
	int64_t c;

	*code = 0;
	if ((o = pur_json_parse_reply(body, len)) == NULL)
		return -1;
	if (pur_json_int(o, "code", &c) == 0)
		*code = (long)c;
	json_object_put(o);
	return 0;
}

/* One call, classified (see stripe.c). Twilio 4xx carry {"code": N}. */
static enum pur_call
call(const struct pur_twilio *t, const char *method, const char *url, const char *form,
    struct pur_http_reply *r, long *code, struct pur_call_info *info)
{
	struct pur_http_req req = {0};
	enum pur_call rc;

	*code = 0;
	req.method = method;
	req.url = url;
	req.user = t->cfg->twilio_account_sid ? t->cfg->twilio_account_sid : "";
	req.pass = t->cfg->twilio_auth_token ? t->cfg->twilio_auth_token : "";
	req.form = form;
	if ((rc = pur_http_call(t->http, &req, r, info)) != PUR_CALL_REJECTED)
		return rc;
	if (pur_twilio_parse_error(r->body.data, r->body.len, code) != 0)
		return PUR_CALL_UNKNOWN;
	if (info != NULL)
		snprintf(info->code, sizeof(info->code), "%ld", *code);
	if (r->status == 404)
		return PUR_CALL_GONE;
	return PUR_CALL_REJECTED;
}

enum pur_call
pur_twilio_available(const struct pur_twilio *t, const char *country, const char *type,
    const char *area_code, const char *contains, int page_size,
    struct pur_twilio_avail_list *out, struct pur_call_info *info)
{
	struct pur_http_reply r;
	struct pur_buf url;
	enum pur_call rc = PUR_CALL_RETRY;
	long code;

	out->n = 0;
	out->v = NULL;
	out->skipped = 0;
	pur_http_reply_init(&r);
	pur_buf_init(&url, URL_MAX);
	if (pur_twilio_build_available_url(&url, t->cfg->twilio_api_base,
	        t->cfg->twilio_account_sid ? t->cfg->twilio_account_sid : "", country, type,
	        area_code, contains, page_size) == 0) {
		rc = call(t, "GET", url.data, NULL, &r, &code, info);
		if (rc == PUR_CALL_OK && pur_twilio_parse_available(r.body.data, r.body.len, out) != 0)
			rc = PUR_CALL_UNKNOWN;
	}
	pur_buf_free(&url);
	pur_http_reply_free(&r);
	return rc;
}

int
pur_twilio_tag(char *out, size_t n, const char *nonce, int64_t at)
{
	int w;

	if (nonce == NULL || strlen(nonce) != 32 || strspn(nonce, "0123456789abcdef") != 32 ||
	    at < 0)
		return -1;
	w = snprintf(out, n, "purchase:%s:%" PRId64, nonce, at);
	return w < 0 || (size_t)w >= n || w > PUR_TWILIO_TAG_MAX ? -1 : 0;
}

int
pur_twilio_tag_parse(const char *s, char nonce[33], int64_t *at)
{
	const char *t;
	char *end;
	long long v;

	if (strncmp(s, "purchase:", 9) != 0)
		return -1;
	s += 9;
	if (strspn(s, "0123456789abcdef") != 32 || s[32] != ':')
		return -1;
	t = s + 33;
	if (*t < '0' || *t > '9' || strlen(t) > 19)
		return -1;
	errno = 0;
	v = strtoll(t, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	memcpy(nonce, s, 32);
	nonce[32] = '\0';
	*at = (int64_t)v;
	return 0;
}

enum pur_call
pur_twilio_buy(const struct pur_twilio *t, const char *e164, const char *tag,
    char sid[PUR_TWILIO_SID], struct pur_call_info *info)
{
	struct pur_http_reply r;
	struct pur_buf url, form;
	enum pur_call rc = PUR_CALL_RETRY;
	long code;

	sid[0] = '\0';
	pur_http_reply_init(&r);
	pur_buf_init(&url, URL_MAX);
	pur_buf_init(&form, 256);
	if (account_url(&url, t->cfg->twilio_api_base, t->cfg->twilio_account_sid ?
	        t->cfg->twilio_account_sid : "") == 0 &&
	    pur_buf_adds(&url, "/IncomingPhoneNumbers.json") == 0 &&
	    pur_form_add(&form, "PhoneNumber", e164) == 0 &&
	    (tag == NULL || tag[0] == '\0' || pur_form_add(&form, "FriendlyName", tag) == 0)) {
		rc = call(t, "POST", url.data, form.data, &r, &code, info);
		if (rc == PUR_CALL_OK && pur_twilio_parse_incoming(r.body.data, r.body.len, sid) != 0)
			rc = PUR_CALL_UNKNOWN;
		/* 21422: not available; 21421: invalid number (Twilio error
		 * dictionary). Both mean: the carrier will not sell it. */
		if (rc == PUR_CALL_REJECTED && (code == 21422 || code == 21421))
			rc = PUR_CALL_GONE;
	}
	pur_buf_free(&form);
	pur_buf_free(&url);
	pur_http_reply_free(&r);
	return rc;
}

enum pur_call
pur_twilio_find(const struct pur_twilio *t, const char *e164, char sid[PUR_TWILIO_SID],
    struct pur_call_info *info)
{
	struct pur_http_reply r;
	struct pur_buf url;
	enum pur_call rc = PUR_CALL_RETRY;
	long code;

	sid[0] = '\0';
	pur_http_reply_init(&r);
	pur_buf_init(&url, URL_MAX);
	if (account_url(&url, t->cfg->twilio_api_base, t->cfg->twilio_account_sid ?
	        t->cfg->twilio_account_sid : "") == 0 &&
	    pur_buf_adds(&url, "/IncomingPhoneNumbers.json?PhoneNumber=") == 0 &&
	    pur_form_escape(&url, e164) == 0) {
		rc = call(t, "GET", url.data, NULL, &r, &code, info);
		if (rc == PUR_CALL_OK &&
		    pur_twilio_parse_incoming_list(r.body.data, r.body.len, e164, sid) != 0)
			rc = PUR_CALL_UNKNOWN;
		if (rc == PUR_CALL_OK && sid[0] == '\0')
			rc = PUR_CALL_GONE;
	}
	pur_buf_free(&url);
	pur_http_reply_free(&r);
	return rc;
}

enum pur_call
pur_twilio_release(const struct pur_twilio *t, const char *sid, struct pur_call_info *info)
{
	struct pur_http_reply r;
	struct pur_buf url;
	enum pur_call rc = PUR_CALL_RETRY;
	long code;

	pur_http_reply_init(&r);
	pur_buf_init(&url, URL_MAX);
	if (account_url(&url, t->cfg->twilio_api_base, t->cfg->twilio_account_sid ?
	        t->cfg->twilio_account_sid : "") == 0 &&
	    pur_buf_adds(&url, "/IncomingPhoneNumbers/") == 0 && pur_form_escape(&url, sid) == 0 &&
	    pur_buf_adds(&url, ".json") == 0) {
		rc = call(t, "DELETE", url.data, NULL, &r, &code, info);
		if (rc == PUR_CALL_GONE)
			rc = PUR_CALL_OK;
	}
	pur_buf_free(&url);
	pur_http_reply_free(&r);
	return rc;
}

/* Numbers per page of the owned list (reconcile): each reply must stay under
 * the ceiling on a reply body (ctx.c, 1 MiB). A number is about 1.1 KiB of
 * JSON (its URIs, capabilities, subresources): at 1000 a page, a deploy of
 * a thousand numbers could no longer be reconciled (tests/migrate.sh). */
#define OWNED_PAGE "250"

enum pur_call
pur_twilio_list(const struct pur_twilio *t, const char *next, struct pur_twilio_owned_page *out,
    struct pur_call_info *info)
{
	struct pur_http_reply r;
	struct pur_buf url;
	enum pur_call rc = PUR_CALL_RETRY;
	long code;
	int built;

	memset(out, 0, sizeof(*out));
	pur_http_reply_init(&r);
	pur_buf_init(&url, URL_MAX);
	if (next != NULL && *next != '\0')
		built = pur_buf_adds(&url, t->cfg->twilio_api_base) == 0 && pur_buf_adds(&url, next) == 0;
	else
		built = account_url(&url, t->cfg->twilio_api_base, t->cfg->twilio_account_sid ?
		            t->cfg->twilio_account_sid : "") == 0 &&
		    pur_buf_adds(&url, "/IncomingPhoneNumbers.json?PageSize=" OWNED_PAGE) == 0;
	if (built) {
		rc = call(t, "GET", url.data, NULL, &r, &code, info);
		if (rc == PUR_CALL_OK && pur_twilio_parse_owned_page(r.body.data, r.body.len, out) != 0)
			rc = PUR_CALL_UNKNOWN;
	}
	pur_buf_free(&url);
	pur_http_reply_free(&r);
	return rc;
}
