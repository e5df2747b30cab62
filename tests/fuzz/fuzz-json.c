/*
 * fuzz-json.c -- libFuzzer target: the client request parser
 * (pur_json_parse_request, over bytes that are not NUL-terminated), then
 * pur_json_check_fields with the purchase request's field table
 * (lib/purchase.c: one required string, "phone_number").
 *
 * Properties: what parses is an object and JSON by RFC 8259's grammar (a
 * small strict reader here, independent of json-c: no single quotes, NaN,
 * comments, leading zeros, raw control characters, bad escapes); what
 * passes the table has a string phone_number; what parses serialises to a
 * text that parses again, passes the table the same way and serialises to
 * the same bytes.
 *
 * And the reply parsers: what the whole parse (pur_json_parse_reply)
 * takes, the filtered one (pur_json_parse_reply_only) takes too, with the
 * same kept members, equal, and no other.
 */
#include "autoconfig.h"

#include "fuzz.h"
#include "json.h"

static const struct pur_field purchase_fields[] = {
	{"phone_number", PUR_FIELD_STRING, 1},
};
#define NFIELDS (sizeof(purchase_fields) / sizeof(purchase_fields[0]))

/* --- RFC 8259 §2-§7, strictly: p moves past one value; -1 when not JSON. */
struct rd {
	const char *p, *end;
	int depth;
};

static void
ws(struct rd *r)
{
	while (r->p < r->end && strchr(" \t\r\n", *r->p) != NULL && *r->p != '\0')
		r->p++;
}

static int
lit(struct rd *r, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(r->end - r->p) < n || memcmp(r->p, w, n) != 0)
		return -1;
	r->p += n;
	return 0;
}

static int
digits(struct rd *r)
{
	const char *s = r->p;

	while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
		r->p++;
	return r->p > s ? 0 : -1;
}

static int
number(struct rd *r)
{
	if (r->p < r->end && *r->p == '-')
		r->p++;
	if (r->p < r->end && *r->p == '0')
		r->p++;
	else if (digits(r) != 0)
		return -1;
	if (r->p < r->end && *r->p == '.') {
		r->p++;
		if (digits(r) != 0)
			return -1;
	}
	if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
		r->p++;
		if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
			r->p++;
		if (digits(r) != 0)
			return -1;
	}
	return 0;
}

static int
string(struct rd *r)
{
	int i;

	if (r->p >= r->end || *r->p++ != '"')
		return -1;
	while (r->p < r->end) {
		unsigned char c = (unsigned char)*r->p++;
		if (c == '"')
			return 0;
		if (c < 0x20)
			return -1;
		if (c != '\\')
			continue;
		if (r->p >= r->end)
			return -1;
		c = (unsigned char)*r->p++;
		if (c == 'u') {
			for (i = 0; i < 4; i++, r->p++)
				if (r->p >= r->end || !strchr("0123456789abcdefABCDEF", *r->p) || *r->p == '\0')
					return -1;
		} else if (strchr("\"\\/bfnrt", c) == NULL || c == '\0') {
			return -1;
		}
	}
	return -1;
}

static int
value(struct rd *r)
{
	int first = 1;
	char close;

	ws(r);
	if (r->p >= r->end)
		return -1;
	switch (*r->p) {
	case '"': return string(r);
	case 't': return lit(r, "true");
	case 'f': return lit(r, "false");
	case 'n': return lit(r, "null");
	case '{': case '[':
		if (++r->depth > 64)
			return -1;
		close = *r->p++ == '{' ? '}' : ']';
		for (;;) {
			ws(r);
			if (r->p < r->end && *r->p == close && first) {
				r->p++;
				break;
			}
			if (close == '}') {
				if (string(r) != 0)
					return -1;
				ws(r);
				if (r->p >= r->end || *r->p++ != ':')
					return -1;
			}
			if (value(r) != 0)
				return -1;
			ws(r);
			first = 0;
			if (r->p < r->end && *r->p == ',') {
				r->p++;
				continue;
			}
			if (r->p < r->end && *r->p == close) {
				r->p++;
				break;
			}
			return -1;
		}
		r->depth--;
		return 0;
	default:
		return number(r);
	}
}

/* 1 when s[0..len) is one JSON text (white space around it allowed). */
static int
is_json(const char *s, size_t len)
{
	struct rd r = {s, s + len, 0};

	if (value(&r) != 0)
		return 0;
	ws(&r);
	return r.p == r.end;
}

static void
check_filtered(const char *s, size_t size)
{
	static const char *const keep[] = {"id", "status", "metadata", "a", "", NULL};
	json_object *w = pur_json_parse_reply(s, size);
	json_object *f = pur_json_parse_reply_only(s, size, keep);
	json_object *wv, *fv;
	size_t k, n = 0;

	FUZZ_CHECK(f == NULL || json_object_is_type(f, json_type_object));
	if (w != NULL) {
		FUZZ_CHECK(f != NULL);
		for (k = 0; keep[k] != NULL; k++) {
			int in_w = json_object_object_get_ex(w, keep[k], &wv);
			int in_f = json_object_object_get_ex(f, keep[k], &fv);
			FUZZ_CHECK(in_w == in_f);
			if (in_w) {
				/* (as text: json-c takes NaN, never equal to itself) */
				FUZZ_CHECK(strcmp(json_object_to_json_string_ext(wv,
				    JSON_C_TO_STRING_PLAIN), json_object_to_json_string_ext(fv,
				    JSON_C_TO_STRING_PLAIN)) == 0);
				n++;
			}
		}
		/* (the whole text when the scan gave up) */
		FUZZ_CHECK(json_object_object_length(f) == (int)n ||
		    json_object_object_length(f) == json_object_object_length(w));
	}
	json_object_put(f);
	json_object_put(w);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_exact(data, size), *d1 = NULL, *d2 = NULL, *e = NULL;
	json_object *o = NULL, *o2 = NULL;
	enum purchase_err err, err2;
	size_t n1, n2;

	check_filtered(s, size);
	if (pur_json_parse_request(s, size, &o) != PURCHASE_OK) {
		FUZZ_CHECK(o == NULL);
		goto done;
	}
	FUZZ_CHECK(o != NULL && json_object_is_type(o, json_type_object));
	FUZZ_CHECK(is_json(s, size));
	err = pur_json_check_fields(o, purchase_fields, NFIELDS);
	FUZZ_CHECK(err == PURCHASE_OK || err == PURCHASE_EBODY || err == PURCHASE_EFIELD);
	if (err == PURCHASE_OK)
		FUZZ_CHECK(pur_json_str(o, "phone_number") != NULL);

	/* Round trip through the serialiser. */
	FUZZ_CHECK((d1 = pur_json_dump(o, &n1)) != NULL && strlen(d1) == n1);
	e = fuzz_exact((const uint8_t *)d1, n1);
	FUZZ_CHECK(pur_json_parse_request(e, n1, &o2) == PURCHASE_OK);
	FUZZ_CHECK(json_object_object_length(o2) == json_object_object_length(o));
	err2 = pur_json_check_fields(o2, purchase_fields, NFIELDS);
	FUZZ_CHECK(err2 == err);
	FUZZ_CHECK((d2 = pur_json_dump(o2, &n2)) != NULL && n2 == n1 && memcmp(d1, d2, n1) == 0);
done:
	free(d2);
	free(d1);
	free(e);
	json_object_put(o2);
	json_object_put(o);
	free(s);
	return 0;
}
