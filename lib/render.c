/*
 * render.c -- every JSON body the API answers with (DESIGN §2): a
 * purchase's outcome (the one that is stored and replayed), search offers,
 * numbers one or many, health, the webhook's receipt. The responder only
 * writes them. Every json-c allocation is checked and the text is read back
 * (pur_json_dump): a body under memory pressure is an error, never half an
 * answer. The list of numbers, which may hold thousands, is written
 * straight into a buffer instead (put_number: the same bytes as json-c's,
 * which tests/test-status.c compares; every append checked): a tree of
 * json-c objects and the parse back of a megabyte cost a list of 4,000
 * numbers tens of ms and scattered the heap of a threaded worker.
 */
#include "autoconfig.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "json.h"
#include "purchase.h"

#define LIST_MAX ((size_t)256 << 20) /* a body's ceiling: ~700,000 numbers */

/* Serialises o into out (status set by the caller) and puts o. */
static enum purchase_err
finish(json_object *o, int bad, int status, struct purchase_reply *out)
{
	out->body = NULL;
	out->len = 0;
	out->status = status;
	if (!bad && o != NULL)
		out->body = pur_json_dump(o, &out->len);
	json_object_put(o);
	if (out->body == NULL) {
		out->len = 0;
		return PURCHASE_ENOMEM;
	}
	return PURCHASE_OK;
}

/* Money as a JSON number with two decimals, written from the integer cents
 * (no float formatting: 1.15 is "1.15"). */
static void
money_text(int64_t cents, char s[32])
{
	snprintf(s, 32, "%lld.%02lld", (long long)(cents / 100), (long long)(cents % 100));
}

static json_object *
money(int64_t cents)
{
	char s[32];

	money_text(cents, s);
	return json_object_new_double_s((double)cents / 100.0, s);
}

/* A time as the platform writes it: "2026-12-02T10:30:00.000000Z" (UTC);
 * 0 (null) for none. */
static int
time_text(int64_t t, char s[40])
{
	struct tm tm;
	time_t tt = (time_t)t;

	return t > 0 && gmtime_r(&tt, &tm) != NULL &&
	    strftime(s, 40, "%Y-%m-%dT%H:%M:%S.000000Z", &tm) != 0;
}

static int
add_time(json_object *o, const char *key, int64_t t)
{
	char s[40];

	if (!time_text(t, s))
		return pur_json_add_null(o, key);
	return pur_json_add(o, key, json_object_new_string(s));
}

static int
add_str_or_null(json_object *o, const char *key, const char *v)
{
	if (v == NULL || *v == '\0')
		return pur_json_add_null(o, key);
	return pur_json_add(o, key, json_object_new_string(v));
}

static const char *
type_label(const char *type)
{
	if (strcmp(type, "toll_free") == 0)
		return "Toll-Free Number";
	if (strcmp(type, "mobile") == 0)
		return "Mobile Number";
	return "Dedicated Number";
}

/* A number, every field of DESIGN §2.3 in its order: the ten Sondos names
 * and types first, ours after. NULL on allocation failure. */
static json_object *
number_json(const struct purchase_number *n)
{
	json_object *o = json_object_new_object();
	int bad = 0;

	if (o == NULL)
		return NULL;
	bad |= pur_json_add(o, "id", json_object_new_int64(n->id));
	bad |= pur_json_add(o, "phone_number", json_object_new_string(n->phone_number));
	bad |= pur_json_add(o, "country_code", json_object_new_string(n->country_code));
	bad |= pur_json_add(o, "type", json_object_new_string(n->type));
	bad |= pur_json_add(o, "type_label", json_object_new_string(type_label(n->type)));
	bad |= pur_json_add(o, "sms_capable", json_object_new_boolean(n->sms_capable));
	bad |= add_str_or_null(o, "region", n->region);
	bad |= pur_json_add(o, "has_active_subscription",
	    json_object_new_boolean(strcmp(n->status, "released") != 0));
	bad |= add_time(o, "created_at", n->created_at);
	bad |= add_str_or_null(o, "nickname", n->nickname);
	bad |= pur_json_add(o, "status", json_object_new_string(n->status));
	bad |= pur_json_add(o, "price", money(n->price_cents));
	bad |= add_time(o, "current_period_end", n->period_end);
	bad |= pur_json_add(o, "cancel_at_period_end",
	    json_object_new_boolean(n->cancel_at_period_end));
	if (bad) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

enum purchase_err
purchase_render(enum purchase_err outcome, const struct purchase_number *num,
    struct purchase_reply *out)
{
	const struct purchase_status *st = purchase_status_of(outcome);
	json_object *o = json_object_new_object(), *data;
	int bad = o == NULL;

	if (!bad && outcome == PURCHASE_OK && num != NULL) {
		bad |= pur_json_add(o, "message", json_object_new_string(st->message));
		data = json_object_new_object();
		bad |= pur_json_add(o, "data", data);
		if (!bad) {
			bad |= pur_json_add(data, "id", json_object_new_int64(num->id));
			bad |= pur_json_add(data, "phone_number", json_object_new_string(num->phone_number));
			bad |= pur_json_add(data, "country_code", json_object_new_string(num->country_code));
			bad |= pur_json_add(data, "type", json_object_new_string(num->type));
			bad |= pur_json_add(data, "sms_capable", json_object_new_boolean(num->sms_capable));
		}
	} else if (!bad) {
		/* DESIGN §2: "error" for the existing clients, "message" -- the
		 * same text -- for those that read only that one, "code" ours. */
		bad |= pur_json_add(o, "error", json_object_new_string(st->message));
		bad |= pur_json_add(o, "message", json_object_new_string(st->message));
		bad |= pur_json_add(o, "code", json_object_new_string(st->code));
	}
	return finish(o, bad, st->http, out);
}

enum purchase_err
purchase_render_offers(const struct purchase_offers *offers, struct purchase_reply *out)
{
	json_object *o = json_object_new_object(), *arr = json_object_new_array(), *e;
	int bad = o == NULL || pur_json_add(o, "data", arr) != 0;
	size_t i;

	for (i = 0; !bad && i < offers->n; i++) {
		const struct purchase_offer *of = &offers->v[i];
		if ((e = json_object_new_object()) == NULL || pur_json_push(arr, e) != 0) {
			bad = 1;
			break;
		}
		bad |= pur_json_add(e, "phone_number", json_object_new_string(of->phone_number));
		bad |= pur_json_add(e, "phone_number_formatted",
		    json_object_new_string(of->phone_number_formatted));
		bad |= pur_json_add(e, "country_code", json_object_new_string(of->country_code));
		bad |= pur_json_add(e, "price", money(of->price_cents));
		bad |= pur_json_add(e, "stripe_price_id", json_object_new_string(of->stripe_price_id));
		bad |= pur_json_add(e, "address_requirements",
		    json_object_new_string(of->address_requirements));
		bad |= pur_json_add(e, "sms_capable", json_object_new_boolean(of->sms_capable));
	}
	if (o == NULL)
		json_object_put(arr);
	return finish(o, bad, 200, out);
}

enum purchase_err
purchase_render_number(const struct purchase_number *num, enum purchase_render_as as,
    struct purchase_reply *out)
{
	json_object *o = json_object_new_object(), *data;
	int bad = o == NULL;

	switch (as) {
	case PURCHASE_AS_NUMBER:
		bad |= pur_json_add(o, "data", number_json(num));
		break;
	case PURCHASE_AS_RESTORED:
		bad |= pur_json_add(o, "message",
		    json_object_new_string("Phone number restored successfully."));
		bad |= pur_json_add(o, "data", number_json(num));
		break;
	case PURCHASE_AS_RELEASED:
		bad |= pur_json_add(o, "message", json_object_new_string(
		    "Phone number released successfully. It will be removed at the end of the "
		    "billing period."));
		break;
	case PURCHASE_AS_UPDATED:
		bad |= pur_json_add(o, "message",
		    json_object_new_string("Phone number updated successfully."));
		data = json_object_new_object();
		bad |= pur_json_add(o, "data", data);
		if (!bad) {
			bad |= pur_json_add(data, "id", json_object_new_int64(num->id));
			bad |= pur_json_add(data, "phone_number", json_object_new_string(num->phone_number));
			bad |= add_str_or_null(data, "nickname", num->nickname);
			bad |= pur_json_add(data, "country_code", json_object_new_string(num->country_code));
			bad |= pur_json_add(data, "type", json_object_new_string(num->type));
		}
		break;
	}
	return finish(o, bad, 200, out);
}

/* ,"key": then the value; put_str's result. */
static int
put_key(struct pur_buf *b, const char *key)
{
	return pur_buf_add(b, ",\"", 2) | pur_buf_adds(b, key) | pur_buf_add(b, "\":", 2);
}

static int
put_str_or_null(struct pur_buf *b, const char *v)
{
	return v == NULL || *v == '\0' ? pur_buf_adds(b, "null") : pur_buf_json_str(b, v);
}

static int
put_time(struct pur_buf *b, int64_t t)
{
	char s[40];

	return time_text(t, s) ? pur_buf_json_str(b, s) : pur_buf_adds(b, "null");
}

static int
put_bool(struct pur_buf *b, int v)
{
	return pur_buf_adds(b, v ? "true" : "false");
}

/* number_json's object, as json-c would write it. */
static int
put_number(struct pur_buf *b, const struct purchase_number *n)
{
	char t[48];
	int bad = 0;

	snprintf(t, sizeof(t), "{\"id\":%lld", (long long)n->id);
	bad |= pur_buf_adds(b, t);
	bad |= put_key(b, "phone_number") | pur_buf_json_str(b, n->phone_number);
	bad |= put_key(b, "country_code") | pur_buf_json_str(b, n->country_code);
	bad |= put_key(b, "type") | pur_buf_json_str(b, n->type);
	bad |= put_key(b, "type_label") | pur_buf_json_str(b, type_label(n->type));
	bad |= put_key(b, "sms_capable") | put_bool(b, n->sms_capable);
	bad |= put_key(b, "region") | put_str_or_null(b, n->region);
	bad |= put_key(b, "has_active_subscription") | put_bool(b, strcmp(n->status, "released") != 0);
	bad |= put_key(b, "created_at") | put_time(b, n->created_at);
	bad |= put_key(b, "nickname") | put_str_or_null(b, n->nickname);
	bad |= put_key(b, "status") | pur_buf_json_str(b, n->status);
	money_text(n->price_cents, t);
	bad |= put_key(b, "price") | pur_buf_adds(b, t);
	bad |= put_key(b, "current_period_end") | put_time(b, n->period_end);
	bad |= put_key(b, "cancel_at_period_end") | put_bool(b, n->cancel_at_period_end);
	return bad | pur_buf_add(b, "}", 1);
}

enum purchase_err
purchase_render_numbers(const struct purchase_numbers *list, struct purchase_reply *out)
{
	struct pur_buf b;
	char t[160];
	size_t i;
	int bad;

	out->status = 200;
	out->body = NULL;
	out->len = 0;
	pur_buf_init(&b, LIST_MAX);
	bad = pur_buf_adds(&b, "{\"data\":[");
	for (i = 0; !bad && i < list->n; i++)
		bad |= (i > 0 ? pur_buf_add(&b, ",", 1) : 0) | put_number(&b, &list->v[i]);
	bad |= pur_buf_add(&b, "]", 1);
	if (list->paged) {
		snprintf(t, sizeof(t), ",\"current_page\":%lld,\"last_page\":%lld,\"per_page\":%lld,"
		    "\"total\":%lld", (long long)list->page, (long long)list->last_page,
		    (long long)list->per_page, (long long)list->total);
		bad |= pur_buf_adds(&b, t);
	}
	bad |= pur_buf_add(&b, "}", 1);
	if (bad || b.data == NULL) {
		pur_buf_free(&b);
		return PURCHASE_ENOMEM;
	}
	out->body = b.data;
	out->len = b.len;
	return PURCHASE_OK;
}

enum purchase_err
purchase_render_health(enum purchase_err health, struct purchase_reply *out)
{
	json_object *o = json_object_new_object();
	int bad = o == NULL;

	bad |= pur_json_add(o, "status",
	    json_object_new_string(health == PURCHASE_OK ? "ok" : "unavailable"));
	bad |= pur_json_add(o, "database",
	    json_object_new_string(health == PURCHASE_OK ? "ok" : purchase_strerror(health)));
	return finish(o, bad, health == PURCHASE_OK ? 200 : 503, out);
}

enum purchase_err
purchase_render_received(struct purchase_reply *out)
{
	json_object *o = json_object_new_object();
	int bad = o == NULL;

	bad |= pur_json_add(o, "received", json_object_new_boolean(1));
	return finish(o, bad, 200, out);
}
