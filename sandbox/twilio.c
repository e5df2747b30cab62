/*
 * twilio.c -- Twilio phone numbers (REST API 2010-04-01,
 * ../shared/specs/twilio_api_v2010.json):
 *
 *   GET    /2010-04-01/Accounts/{Sid}/AvailablePhoneNumbers/{CC}/{Type}.json
 *   POST   /2010-04-01/Accounts/{Sid}/IncomingPhoneNumbers.json  (buy)
 *   GET    /2010-04-01/Accounts/{Sid}/IncomingPhoneNumbers.json  (list,
 *          PhoneNumber, PageSize, Page, PageToken)
 *   DELETE /2010-04-01/Accounts/{Sid}/IncomingPhoneNumbers/{PN}.json
 *
 * Available numbers come from numbers.c in a fixed order, skipping those
 * owned (by us, or "taken" by someone else through the control endpoint).
 * To keep that cheap after millions of purchases, inv_lwm keeps per block
 * a low-water mark below which every number is unavailable; buying or
 * taking the number at the mark advances it, releasing one lowers it.
 *
 * Capability keys follow the spec's schema (lower-case "voice", "sms",
 * "mms", "fax"); latitude/longitude are numbers as the schema says.
 */
#define _DEFAULT_SOURCE /* gmtime_r */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "sandbox.h"

#define PAGE_DEFAULT 50
#define PAGE_MAX 1000
#define SCAN_BUDGET 500000L /* candidates examined per search */

void sb_twilio_error(struct sb_ctx *c, int status, int code, const char *message)
{
	json_object *o = json_object_new_object();
	char info[80];

	json_object_put(c->json);
	c->json = o;
	c->status = status;
	if (o == NULL)
		return;
	snprintf(info, sizeof(info), "https://www.twilio.com/docs/errors/%d", code);
	json_object_object_add(o, "code", json_object_new_int(code));
	json_object_object_add(o, "message", json_object_new_string(message));
	json_object_object_add(o, "more_info", json_object_new_string(info));
	json_object_object_add(o, "status", json_object_new_int(status));
}

static void not_found(struct sb_ctx *c)
{
	char msg[SB_MAX_PATH + 64];

	snprintf(msg, sizeof(msg), "The requested resource %s was not found", c->req->path);
	sb_twilio_error(c, 404, 20404, msg);
}

static json_object *str_or_null(const char *s)
{
	return s != NULL ? json_object_new_string(s) : NULL;
}

static json_object *capabilities(const struct sb_area *a, int fax)
{
	json_object *o = json_object_new_object();

	if (o == NULL)
		return NULL;
	json_object_object_add(o, "voice", json_object_new_boolean(1));
	json_object_object_add(o, "sms", json_object_new_boolean(a->sms));
	json_object_object_add(o, "mms", json_object_new_boolean(a->mms));
	if (fax)
		json_object_object_add(o, "fax", json_object_new_boolean(0));
	return o;
}

/* A coordinate serialised with 6 decimals (json-c would print 17). */
static json_object *coord(double v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%.6f", v);
	return json_object_new_double_s(v, buf);
}

static json_object *available_json(const struct sb_number *n)
{
	const struct sb_area *a = n->area;
	json_object *o = json_object_new_object();
	int loc = a->nanp && a->locality != NULL;

	if (o == NULL)
		return NULL;
	json_object_object_add(o, "friendly_name", json_object_new_string(n->friendly));
	json_object_object_add(o, "phone_number", json_object_new_string(n->e164));
	json_object_object_add(o, "lata", str_or_null(loc ? a->lata : NULL));
	json_object_object_add(o, "locality", str_or_null(a->locality));
	json_object_object_add(o, "rate_center", str_or_null(loc ? a->rate_center : NULL));
	json_object_object_add(o, "latitude", loc ? coord(a->lat) : NULL);
	json_object_object_add(o, "longitude", loc ? coord(a->lon) : NULL);
	json_object_object_add(o, "region", str_or_null(loc ? a->region : NULL));
	json_object_object_add(o, "postal_code", str_or_null(loc ? a->postal : NULL));
	json_object_object_add(o, "iso_country", json_object_new_string(a->iso));
	json_object_object_add(o, "address_requirements", json_object_new_string(a->addr_req));
	json_object_object_add(o, "beta", json_object_new_boolean(0));
	json_object_object_add(o, "capabilities", capabilities(a, 0));
	return o;
}

static void rfc2822(long long t, char *out, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

	/* Fixed English names: strftime's %a/%b follow the locale. */
	if (gmtime_r(&tt, &tm) == NULL) {
		snprintf(out, n, "Thu, 01 Jan 1970 00:00:00 +0000");
		return;
	}
	snprintf(out, n, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
		 months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* The IncomingPhoneNumber resource for an owned number. */
static json_object *incoming_json(const struct sb_ctx *c, const char *sid,
				  const struct sb_number *n, long long bought,
				  const char *friendly)
{
	const struct sb_area *a = n->area;
	json_object *o = json_object_new_object();
	char date[40], uri[256];

	if (o == NULL)
		return NULL;
	rfc2822(bought, date, sizeof(date));
	snprintf(uri, sizeof(uri), "/2010-04-01/Accounts/%s/IncomingPhoneNumbers/%s.json",
		 c->cfg->twilio_sid, sid);
	json_object_object_add(o, "account_sid", json_object_new_string(c->cfg->twilio_sid));
	json_object_object_add(o, "address_sid", NULL);
	json_object_object_add(o, "address_requirements", json_object_new_string(a->addr_req));
	json_object_object_add(o, "api_version", json_object_new_string("2010-04-01"));
	json_object_object_add(o, "beta", json_object_new_boolean(0));
	json_object_object_add(o, "capabilities", capabilities(a, 1));
	json_object_object_add(o, "date_created", json_object_new_string(date));
	json_object_object_add(o, "date_updated", json_object_new_string(date));
	json_object_object_add(o, "friendly_name", json_object_new_string(
		friendly != NULL && friendly[0] != '\0' ? friendly : n->friendly));
	json_object_object_add(o, "identity_sid", NULL);
	json_object_object_add(o, "phone_number", json_object_new_string(n->e164));
	json_object_object_add(o, "origin", json_object_new_string("twilio"));
	json_object_object_add(o, "sid", json_object_new_string(sid));
	json_object_object_add(o, "sms_application_sid", json_object_new_string(""));
	json_object_object_add(o, "sms_fallback_method", json_object_new_string("POST"));
	json_object_object_add(o, "sms_fallback_url", json_object_new_string(""));
	json_object_object_add(o, "sms_method", json_object_new_string("POST"));
	json_object_object_add(o, "sms_url", json_object_new_string(""));
	json_object_object_add(o, "status_callback", json_object_new_string(""));
	json_object_object_add(o, "status_callback_method", json_object_new_string("POST"));
	json_object_object_add(o, "trunk_sid", NULL);
	json_object_object_add(o, "uri", json_object_new_string(uri));
	json_object_object_add(o, "voice_receive_mode", json_object_new_string("voice"));
	json_object_object_add(o, "voice_application_sid", json_object_new_string(""));
	json_object_object_add(o, "voice_caller_id_lookup", json_object_new_boolean(0));
	json_object_object_add(o, "voice_fallback_method", json_object_new_string("POST"));
	json_object_object_add(o, "voice_fallback_url", json_object_new_string(""));
	json_object_object_add(o, "voice_method", json_object_new_string("POST"));
	json_object_object_add(o, "voice_url", json_object_new_string(""));
	json_object_object_add(o, "emergency_status", json_object_new_string("Inactive"));
	json_object_object_add(o, "emergency_address_sid", NULL);
	json_object_object_add(o, "emergency_address_status",
			       json_object_new_string("unregistered"));
	json_object_object_add(o, "bundle_sid", NULL);
	json_object_object_add(o, "status", json_object_new_string("in-use"));
	json_object_object_add(o, "type", json_object_new_string(sb_numbers_type_name(a->type)));
	return o;
}

/* Adds Twilio's paging fields for a single page of n items. */
static void paging(const struct sb_ctx *c, json_object *o, size_t n, long page_size)
{
	char uri[SB_MAX_PATH + 1024];

	if (c->req->query[0] != '\0')
		snprintf(uri, sizeof(uri), "%s?%.1000s", c->req->path, c->req->query);
	else
		snprintf(uri, sizeof(uri), "%s", c->req->path);
	json_object_object_add(o, "end", json_object_new_int64(n > 0 ? (long long)n - 1 : 0));
	json_object_object_add(o, "first_page_uri", json_object_new_string(uri));
	json_object_object_add(o, "next_page_uri", NULL);
	json_object_object_add(o, "page", json_object_new_int(0));
	json_object_object_add(o, "page_size", json_object_new_int64(page_size));
	json_object_object_add(o, "previous_page_uri", NULL);
	json_object_object_add(o, "start", json_object_new_int(0));
	json_object_object_add(o, "uri", json_object_new_string(uri));
}

/* PageSize: 1..1000 (larger is clamped), default 50; -1 if invalid. */
static long page_size(const struct sb_ctx *c)
{
	const char *s = sb_form_get(&c->form, "PageSize");
	char *end = NULL;
	long v;

	if (s == NULL)
		return PAGE_DEFAULT;
	v = strtol(s, &end, 10);
	if (end == s || *end != '\0' || v < 1)
		return -1;
	return v > PAGE_MAX ? PAGE_MAX : v;
}

/* 1 if number is owned by anyone; -1 on error. */
static int unavailable(const char *e164)
{
	sqlite3_stmt *st = sb_db_stmt(SB_ST_NUM_UNAVAILABLE);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, e164, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static long get_lwm(unsigned block)
{
	sqlite3_stmt *st = sb_db_stmt(SB_ST_LWM_GET);
	long v = 0;
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, block);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		v = (long)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? v : -1;
}

int sb_twilio_mark_unavailable(const struct sb_number *n)
{
	unsigned size = sb_numbers_block_size(n->area);
	long lwm = get_lwm(n->block);
	sqlite3_stmt *st;

	if (lwm < 0)
		return -1;
	if ((unsigned long)lwm != n->idx)
		return 0;
	for (;;) {
		struct sb_number m;
		int rc;

		if ((unsigned long)lwm >= size || sb_numbers_from_block(n->block, (unsigned)lwm, &m))
			break;
		rc = unavailable(m.e164);
		if (rc < 0)
			return -1;
		if (rc == 0)
			break;
		lwm++;
	}
	st = sb_db_stmt(SB_ST_LWM_PUT);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, n->block);
	sqlite3_bind_int64(st, 2, lwm);
	return sb_db_done(st);
}

/* Twilio's Contains: digits, '*' for any one digit, letters by keypad;
 * 2 to 16 characters, at least two of them not '*' (the spec).  Writes
 * the digit pattern into out; -1 if invalid.  (The spec's '%', '+' and '$'
 * meta-characters are not supported: refused, never ignored.) */
static int contains_pattern(const char *s, char *out, size_t n)
{
	static const char keypad[] = "22233344455566677778889999";
	size_t o = 0, len = strlen(s), stars = 0;

	if (len < 2 || len > 16)
		return -1;
	for (; *s; s++) {
		stars += *s == '*';
		char ch = *s;

		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		if (ch >= 'a' && ch <= 'z')
			ch = keypad[ch - 'a'];
		else if (!(ch >= '0' && ch <= '9') && ch != '*')
			return -1;
		if (o + 1 >= n)
			return -1;
		out[o++] = ch;
	}
	out[o] = '\0';
	return len - stars >= 2 ? 0 : -1;
}

static int pattern_in(const char *digits, const char *pat)
{
	size_t dl = strlen(digits), pl = strlen(pat), i, j;

	if (pl == 0)
		return 1;
	for (i = 0; i + pl <= dl; i++) {
		for (j = 0; j < pl; j++)
			if (pat[j] != '*' && pat[j] != digits[i + j])
				break;
		if (j == pl)
			return 1;
	}
	return 0;
}

static int truthy(const char *s)
{
	return s != NULL && (strcmp(s, "true") == 0 || strcmp(s, "True") == 0);
}

/* The "foreign" fault's two extra entries: the first number of another
 * country (GB, or US for a GB search), and one whose phone_number is a
 * national-format string, not E.164 (iso_country the searched one). */
static int add_foreign(json_object *arr, const char *iso)
{
	const char *other = strcmp(iso, "GB") == 0 ? "US" : "GB";
	json_object *o = NULL, *bad;
	struct sb_number n;
	size_t ai;

	for (ai = 0; ai < sb_numbers_area_count(); ai++) {
		const struct sb_area *a = sb_numbers_area(ai);

		if (strcmp(a->iso, other) == 0 && a->type == SB_NT_LOCAL) {
			sb_numbers_make(ai, 0, 0, &n);
			o = available_json(&n);
			break;
		}
	}
	if (o == NULL)
		return -1;
	json_object_array_add(arr, o);
	sb_numbers_make(0, 0, 1, &n); /* the first area's second number ... */
	bad = available_json(&n);
	if (bad == NULL)
		return -1;
	/* ... in national format, with the searched country */
	json_object_object_add(bad, "phone_number", json_object_new_string("(415) 555-0001"));
	json_object_object_add(bad, "iso_country", json_object_new_string(iso));
	json_object_array_add(arr, bad);
	return 0;
}

/* GET .../AvailablePhoneNumbers/{CC}/{Local|TollFree|Mobile}.json
 * [AreaCode, Contains, SmsEnabled, MmsEnabled, PageSize]: 200 list (empty
 * when nothing matches); 400 bad parameter: PageSize 20001, AreaCode not
 * 1-6 digits or outside US/CA ("Applies to only phone numbers in the US
 * and Canada") 21451, Contains not 2-16 characters of digits, letters and
 * '*' with two non-'*' 20001; 404 unknown country/type.  Every entry
 * carries iso_country.  Under the "foreign" fault two extra entries come
 * first (add_foreign); the service must drop both. */
int sb_twilio_available(struct sb_ctx *c)
{
	const char *iso = c->seg[1];
	const char *area = sb_form_get(&c->form, "AreaCode");
	const char *contains = sb_form_get(&c->form, "Contains");
	int sms = truthy(sb_form_get(&c->form, "SmsEnabled"));
	int mms = truthy(sb_form_get(&c->form, "MmsEnabled"));
	int type = sb_numbers_type_parse(c->seg[2]);
	long limit = page_size(c), budget = SCAN_BUDGET;
	char pat[32] = "";
	json_object *res = json_object_new_object(), *arr = json_object_new_array();
	size_t ai, count = 0;

	if (res == NULL || arr == NULL)
		goto fail;
	if (!sb_numbers_country_known(iso) || type < 0) {
		not_found(c);
		goto done;
	}
	if (limit < 0) {
		sb_twilio_error(c, 400, 20001, "Invalid PageSize");
		goto done;
	}
	if (area != NULL && (strlen(area) == 0 || strlen(area) > 6 ||
			     strspn(area, "0123456789") != strlen(area))) {
		sb_twilio_error(c, 400, 21451, "Invalid area code");
		goto done;
	}
	if (area != NULL && strcmp(iso, "US") != 0 && strcmp(iso, "CA") != 0) {
		sb_twilio_error(c, 400, 21451,
				"AreaCode applies to only phone numbers in the US and Canada");
		goto done;
	}
	if (contains != NULL && contains_pattern(contains, pat, sizeof(pat)) != 0) {
		sb_twilio_error(c, 400, 20001,
				"Invalid Contains pattern: 2 to 16 characters (digits, letters, "
				"'*'), at least two of them not '*'");
		goto done;
	}
	if (c->fault == SB_FAULT_FOREIGN && add_foreign(arr, iso) != 0)
		goto fail;

	for (ai = 0; ai < sb_numbers_area_count() && (long)count < limit; ai++) {
		const struct sb_area *a = sb_numbers_area(ai);
		unsigned xi, size = sb_numbers_block_size(a);

		if (strcmp(a->iso, iso) != 0 || (int)a->type != type ||
		    (area != NULL && strcmp(a->area, area) != 0) || (sms && !a->sms) ||
		    (mms && !a->mms))
			continue;
		for (xi = 0; xi < a->xcount && (long)count < limit && budget > 0; xi++) {
			long s = get_lwm((unsigned)ai * 1000u + xi);

			if (s < 0)
				goto fail;
			for (; (unsigned long)s < size && (long)count < limit && budget > 0; s++) {
				struct sb_number n;
				int rc;

				budget--;
				sb_numbers_make(ai, xi, (unsigned)s, &n);
				if (pat[0] != '\0' && !pattern_in(n.national, pat))
					continue;
				rc = unavailable(n.e164);
				if (rc < 0)
					goto fail;
				if (rc == 1)
					continue;
				json_object_array_add(arr, available_json(&n));
				count++;
			}
		}
	}
	json_object_object_add(res, "available_phone_numbers", arr);
	arr = NULL;
	paging(c, res, count, limit);
	c->json = res;
	c->status = 200;
	return 0;
done:
	json_object_put(res);
	json_object_put(arr);
	return 0;
fail:
	json_object_put(res);
	json_object_put(arr);
	return -1;
}

/* E.164: '+', a non-zero digit, at most 15 digits in all. */
static int is_e164(const char *s)
{
	size_t n;

	if (s[0] != '+' || s[1] < '1' || s[1] > '9')
		return 0;
	n = strlen(s + 1);
	return n >= 2 && n <= 15 && strspn(s + 1, "0123456789") == n;
}

/* POST .../IncomingPhoneNumbers.json PhoneNumber=+1...[&FriendlyName=]:
 * 201 resource (FriendlyName kept, as Twilio does); 400 21421 invalid or
 * missing, 21422 not available. */
int sb_twilio_buy(struct sb_ctx *c)
{
	const char *pn = sb_form_get(&c->form, "PhoneNumber");
	const char *fname = sb_form_get(&c->form, "FriendlyName");
	struct sb_number n;
	char sid[40];
	long long now = sb_clock_now();
	sqlite3_stmt *st;
	int rc;

	if (pn == NULL || pn[0] == '\0') {
		sb_twilio_error(c, 400, 21421,
				"A 'PhoneNumber' or 'AreaCode' parameter is required.");
		return 0;
	}
	if (!is_e164(pn)) {
		sb_twilio_error(c, 400, 21421, "PhoneNumber is invalid");
		return 0;
	}
	if (sb_numbers_lookup(pn, &n) != 0) {
		sb_twilio_error(c, 400, 21422, "PhoneNumber not available");
		return 0;
	}
	rc = unavailable(n.e164);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		sb_twilio_error(c, 400, 21422, "PhoneNumber not available");
		return 0;
	}
	sb_id_new_hex(sid, sizeof(sid), "PN", 32);
	st = sb_db_stmt(SB_ST_NUM_INS);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, sid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, n.e164, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, n.block);
	sqlite3_bind_int64(st, 4, n.idx);
	sqlite3_bind_int64(st, 5, now);
	sqlite3_bind_text(st, 6, fname != NULL ? fname : "", -1, SQLITE_TRANSIENT);
	if (sb_db_done(st) != 0 || sb_twilio_mark_unavailable(&n) != 0)
		return -1;
	c->json = incoming_json(c, sid, &n, now, fname);
	if (c->json == NULL)
		return -1;
	c->status = 201;
	return 0;
}

/* Appends "&key=value" (or "?key=value" at the start of the query) to
 * uri, percent-encoding the value (RFC 3986 unreserved kept).  The
 * buffer is large enough for every value we put in it; on overflow the
 * result is cut short, never unterminated. */
static void uri_param(char *uri, size_t n, const char *key, const char *val)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = strlen(uri);
	int w;

	w = snprintf(uri + o, n - o, "%c%s=", strchr(uri, '?') ? '&' : '?', key);
	if (w < 0 || (size_t)w >= n - o)
		return;
	o += (size_t)w;
	for (; *val && o + 4 < n; val++) {
		unsigned char ch = (unsigned char)*val;

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' ||
		    ch == '~') {
			uri[o++] = (char)ch;
		} else {
			uri[o++] = '%';
			uri[o++] = hex[ch >> 4];
			uri[o++] = hex[ch & 15];
		}
	}
	uri[o] = '\0';
}

/* One page's URI: path?[PhoneNumber=..&]PageSize=N&Page=P[&PageToken=T]. */
static void page_uri(const struct sb_ctx *c, const char *pn, long size, long long page,
		     const char *token, char *uri, size_t n)
{
	char num[32];

	snprintf(uri, n, "%s", c->req->path);
	if (pn != NULL)
		uri_param(uri, n, "PhoneNumber", pn);
	snprintf(num, sizeof(num), "%ld", size);
	uri_param(uri, n, "PageSize", num);
	snprintf(num, sizeof(num), "%lld", page);
	uri_param(uri, n, "Page", num);
	if (token != NULL)
		uri_param(uri, n, "PageToken", token);
}

/* Page: a whole number 0..PAGE_LAST; -1 if invalid. */
#define PAGE_LAST 1000000L
static long page_number(const struct sb_ctx *c)
{
	const char *s = sb_form_get(&c->form, "Page");
	char *end = NULL;
	long v;

	if (s == NULL)
		return 0;
	v = strtol(s, &end, 10);
	if (end == s || *end != '\0' || v < 0 || v > PAGE_LAST)
		return -1;
	return v;
}

/* GET .../IncomingPhoneNumbers.json [PhoneNumber, PageSize, Page,
 * PageToken]: 200 one page of the currently owned numbers, ordered by
 * sid; 400 20001 bad PageSize, Page or PageToken.
 *
 * Paging as Twilio's 2010 API: PageToken "PA<sid>" (what next_page_uri
 * carries) starts after that sid, so walking next_page_uri visits every
 * number owned throughout the walk exactly once even while others are
 * bought or released.  Without a token the page is Page * PageSize rows
 * in.  Page only labels the page (start = Page * PageSize) when a token
 * is given.  previous_page_uri is offset-based (Page - 1, no token). */
int sb_twilio_list(struct sb_ctx *c)
{
	const char *pn = sb_form_get(&c->form, "PhoneNumber");
	const char *token = sb_form_get(&c->form, "PageToken");
	long limit = page_size(c), page = page_number(c);
	char uri[SB_MAX_PATH + 512], last[SB_ID_MAX] = "", next_tok[SB_ID_MAX + 2];
	json_object *res = NULL, *arr = NULL;
	sqlite3_stmt *st;
	long long start;
	long count = 0;
	int rc, more = 0;

	if (limit < 0) {
		sb_twilio_error(c, 400, 20001, "Invalid PageSize");
		return 0;
	}
	if (page < 0) {
		sb_twilio_error(c, 400, 20001, "Invalid Page");
		return 0;
	}
	if (token != NULL && (strncmp(token, "PA", 2) != 0 || strlen(token) >= SB_ID_MAX)) {
		sb_twilio_error(c, 400, 20001, "Invalid PageToken");
		return 0;
	}
	start = (long long)page * limit;
	st = sb_db_stmt(pn != NULL ? SB_ST_NUM_LIST_OWNED : SB_ST_NUM_LIST_OWNED_ALL);
	if (st == NULL)
		return -1;
	if (pn != NULL)
		sqlite3_bind_text(st, 1, pn, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, token != NULL ? token + 2 : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, limit + 1);
	sqlite3_bind_int64(st, 4, token != NULL ? 0 : start);
	res = json_object_new_object();
	arr = json_object_new_array();
	if (res == NULL || arr == NULL)
		goto fail;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *sid = (const char *)sqlite3_column_text(st, 0);
		struct sb_number n;
		json_object *o;

		if (count == limit) {
			more = 1;
			break;
		}
		/* The cursor advances past rows we cannot render too. */
		snprintf(last, sizeof(last), "%s", sid);
		count++;
		if (sb_numbers_from_block((unsigned)sqlite3_column_int64(st, 2),
					  (unsigned)sqlite3_column_int64(st, 3), &n) != 0)
			continue;
		o = incoming_json(c, sid, &n, sqlite3_column_int64(st, 4),
				  (const char *)sqlite3_column_text(st, 5));
		if (o == NULL)
			goto fail;
		json_object_array_add(arr, o);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		goto fail;
	json_object_object_add(res, "incoming_phone_numbers", arr);
	arr = NULL;
	json_object_object_add(res, "page", json_object_new_int64(page));
	json_object_object_add(res, "page_size", json_object_new_int64(limit));
	json_object_object_add(res, "start", json_object_new_int64(start));
	json_object_object_add(res, "end",
			       json_object_new_int64(count > 0 ? start + count - 1 : start));
	page_uri(c, pn, limit, 0, NULL, uri, sizeof(uri));
	json_object_object_add(res, "first_page_uri", json_object_new_string(uri));
	page_uri(c, pn, limit, page, token, uri, sizeof(uri));
	json_object_object_add(res, "uri", json_object_new_string(uri));
	if (page > 0) {
		page_uri(c, pn, limit, page - 1, NULL, uri, sizeof(uri));
		json_object_object_add(res, "previous_page_uri", json_object_new_string(uri));
	} else {
		json_object_object_add(res, "previous_page_uri", NULL);
	}
	if (more && page < PAGE_LAST) {
		snprintf(next_tok, sizeof(next_tok), "PA%s", last);
		page_uri(c, pn, limit, page + 1, next_tok, uri, sizeof(uri));
		json_object_object_add(res, "next_page_uri", json_object_new_string(uri));
	} else {
		json_object_object_add(res, "next_page_uri", NULL);
	}
	c->json = res;
	c->status = 200;
	return 0;
fail:
	sqlite3_reset(st);
	json_object_put(res);
	json_object_put(arr);
	return -1;
}

/* DELETE .../IncomingPhoneNumbers/{PN}.json: 204; 404 unknown or already
 * released.  The number becomes available again. */
int sb_twilio_release(struct sb_ctx *c)
{
	char sid[SB_SEG_MAX];
	size_t n = strlen(c->seg[1]);
	long long now = sb_clock_now();
	sqlite3_stmt *st;
	sqlite3_int64 block, idx;
	int rc;

	if (n <= 5 || strcmp(c->seg[1] + n - 5, ".json") != 0) {
		not_found(c);
		return 0;
	}
	memcpy(sid, c->seg[1], n - 5);
	sid[n - 5] = '\0';
	st = sb_db_stmt(SB_ST_NUM_GET_OWNED);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, sid, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	block = rc == SQLITE_ROW ? sqlite3_column_int64(st, 2) : 0;
	idx = rc == SQLITE_ROW ? sqlite3_column_int64(st, 3) : 0;
	sqlite3_reset(st);
	if (rc == SQLITE_DONE) {
		not_found(c);
		return 0;
	}
	if (rc != SQLITE_ROW)
		return -1;
	st = sb_db_stmt(SB_ST_NUM_RELEASE);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, sid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, now);
	if (sb_db_done(st) != 0)
		return -1;
	st = sb_db_stmt(SB_ST_LWM_LOWER);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, block);
	sqlite3_bind_int64(st, 2, idx);
	if (sb_db_done(st) != 0)
		return -1;
	c->status = 204;
	c->json = NULL;
	return 0;
}
