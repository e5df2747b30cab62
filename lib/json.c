/*
 * json.c -- strict JSON parsing and typed access (json-c).
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"

#define REQUEST_DEPTH 8
#define REPLY_DEPTH 32

static json_object *
parse(const char *buf, size_t len, int depth)
{
	struct json_tokener *tok;
	json_object *o;
	size_t end;

	if (len > (size_t)INT32_MAX)
		return NULL;
	if ((tok = json_tokener_new_ex(depth)) == NULL)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, buf, (int)len);
	if (o == NULL || json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(o);
		json_tokener_free(tok);
		return NULL;
	}
	for (end = json_tokener_get_parse_end(tok); end < len; end++)
		if (buf[end] != ' ' && buf[end] != '\t' && buf[end] != '\r' && buf[end] != '\n') {
			json_object_put(o);
			json_tokener_free(tok);
			return NULL;
		}
	json_tokener_free(tok);
	return o;
}

/* Number of name/value pairs of the outermost object of a syntactically
 * valid JSON text: the colons at depth 1 outside strings. json-c keeps only
 * the last of duplicate names, so fewer members than colons means a
 * duplicate, whatever escapes spelled the names. SIZE_MAX for what json-c
 * takes and JSON (or we) do not: see the cases below. */
static size_t
top_level_pairs(const char *buf, size_t len)
{
	size_t i, j, n = 0;
	int depth = 0, instr = 0, nul = 0;

	for (i = 0; i < len; i++) {
		char c = buf[i];
		if (instr) {
			/* RFC 8259 §7: control characters must be escaped. */
			if ((unsigned char)c < 0x20)
				return SIZE_MAX;
			if (c == '\\') {
				if (len - i >= 6 && memcmp(buf + i, "\\u0000", 6) == 0)
					nul = 1;
				i++;
			} else if (c == '"') {
				instr = 0;
				/* A member name with a NUL: json-c's keys are C
				 * strings, so "phone_number\u0000x" would be read
				 * as "phone_number". No name of ours has one. */
				for (j = i + 1; j < len && strchr(" \t\r\n", buf[j]) != NULL; j++)
					;
				if (nul && j < len && buf[j] == ':')
					return SIZE_MAX;
			}
			continue;
		}
		switch (c) {
		/* json-c's strict mode still takes 'single-quoted' strings and
		 * NaN/Infinity, which are not JSON: refuse them here. */
		case '\'': case 'N': case 'I': return SIZE_MAX;
		case '"': instr = 1; nul = 0; break;
		case '{': case '[':
			/* The documented limit counts containers; json-c's
			 * tokener also counts the scalar at the bottom, so it is
			 * given one more and the containers are counted here. */
			if (++depth > REQUEST_DEPTH)
				return SIZE_MAX;
			break;
		case '}': case ']': depth--; break;
		case ':': if (depth == 1) n++; break;
		default: break;
		}
	}
	return n;
}

/* 1 when buf[0..len) is well-formed UTF-8 (RFC 3629 §4): no overlong
 * forms, no surrogates, nothing above U+10FFFF. */
static int
utf8_ok(const unsigned char *s, size_t len)
{
	size_t i = 0, k, n;
	unsigned long cp;

	while (i < len) {
		unsigned char c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07;
		else
			return 0;
		if (len - i <= n)
			return 0;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}

/* 1 when s[0..n) is a number by RFC 8259 §6:
 * -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int
number_ok(const char *s, size_t n)
{
	size_t i = 0;

#define DIGIT(k) ((k) < n && s[k] >= '0' && s[k] <= '9')
	if (i < n && s[i] == '-')
		i++;
	if (i < n && s[i] == '0')
		i++;
	else if (DIGIT(i))
		while (DIGIT(i))
			i++;
	else
		return 0;
	if (i < n && s[i] == '.') {
		i++;
		if (!DIGIT(i))
			return 0;
		while (DIGIT(i))
			i++;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		if (++i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (!DIGIT(i))
			return 0;
		while (DIGIT(i))
			i++;
	}
#undef DIGIT
	return i == n;
}

/* json-c's strict mode still takes numbers that JSON does not -- "05.5",
 * "05e3", "00", "1." (found by tests/fuzz/fuzz-json) -- though it refuses
 * "01": every number outside strings must match the grammar. A number is
 * what json-c reads as one: a run of "0123456789.+-eE" that starts with a
 * digit or "-" (true, false and null hold no digit). */
static int
numbers_ok(const char *buf, size_t len)
{
	size_t i, j;
	int instr = 0;

	for (i = 0; i < len; i++) {
		char c = buf[i];
		if (instr) {
			if (c == '\\')
				i++;
			else if (c == '"')
				instr = 0;
			continue;
		}
		if (c == '"') {
			instr = 1;
		} else if (c == '-' || (c >= '0' && c <= '9')) {
			for (j = i; j < len && buf[j] != '\0' && strchr("0123456789.+-eE", buf[j]); j++)
				;
			if (!number_ok(buf + i, j - i))
				return 0;
			i = j - 1;
		}
	}
	return 1;
}

enum purchase_err
pur_json_parse_request(const char *buf, size_t len, json_object **out)
{
	json_object *o;

	*out = NULL;
	if (!utf8_ok((const unsigned char *)buf, len) || !numbers_ok(buf, len))
		return PURCHASE_EBODY;
	if ((o = parse(buf, len, REQUEST_DEPTH + 1)) == NULL)
		return PURCHASE_EBODY;
	if (!json_object_is_type(o, json_type_object) ||
	    (size_t)json_object_object_length(o) != top_level_pairs(buf, len)) {
		json_object_put(o);
		return PURCHASE_EBODY;
	}
	*out = o;
	return PURCHASE_OK;
}

json_object *
pur_json_parse_reply(const char *buf, size_t len)
{
	json_object *o;

	if (buf == NULL || (o = parse(buf, len, REPLY_DEPTH)) == NULL)
		return NULL;
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/*
 * The filtered parse (pur_json_parse_reply_only): a scan of the top-level
 * object finds where each member's value ends -- strings, their escapes,
 * nesting and depth followed, nothing built -- and only the kept members
 * are handed to json-c, copied side by side into one small text, so that
 * what is not read is not built. What the scan cannot follow (a member
 * name spelled with escapes, anything malformed) goes to the whole parse
 * instead, which then accepts or refuses it as it always did.
 */
#define KEEP_MAX 24

static size_t
skip_ws(const char *b, size_t i, size_t len)
{
	while (i < len && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n'))
		i++;
	return i;
}

/* The bytes the scan stops at: in a string, its quote, an escape or a
 * control character (1); after a number or literal, what may end it (2). */
static const unsigned char stop[256] = {
    [0] = 3, [1] = 1, [2] = 1, [3] = 1, [4] = 1, [5] = 1, [6] = 1, [7] = 1, [8] = 1,
    [9] = 3, [10] = 3, [11] = 1, [12] = 1, [13] = 3, [14] = 1, [15] = 1, [16] = 1, [17] = 1,
    [18] = 1, [19] = 1, [20] = 1, [21] = 1, [22] = 1, [23] = 1, [24] = 1, [25] = 1, [26] = 1,
    [27] = 1, [28] = 1, [29] = 1, [30] = 1, [31] = 1, ['"'] = 3, ['\\'] = 1, [' '] = 2,
    [','] = 2, [':'] = 2, [']'] = 2, ['}'] = 2, ['['] = 2, ['{'] = 2,
};

/* The end of the string starting at b[i] == '"' (one past its closing
 * quote), or 0. *esc: whether it holds an escape. */
static size_t
skip_string(const char *b, size_t i, size_t len, int *esc)
{
	*esc = 0;
	for (i++; i < len; i++) {
		unsigned char c = (unsigned char)b[i];
		if (!(stop[c] & 1))
			continue;
		if (c == '"')
			return i + 1;
		if (c < 0x20)
			return 0;
		/* a backslash: the next byte is escaped */
		*esc = 1;
		if (++i >= len)
			return 0;
	}
	return 0;
}

/* The end of the value starting at b[i] (one past it), or 0. Containers
 * count against the reply's depth, the top-level object being one. */
static size_t
skip_value(const char *b, size_t i, size_t len)
{
	char stack[REPLY_DEPTH];
	int depth = 0, esc;

	do {
		if (i >= len)
			return 0;
		switch (b[i]) {
		case '"':
			if ((i = skip_string(b, i, len, &esc)) == 0)
				return 0;
			break;
		case '{': case '[':
			if (depth + 1 >= REPLY_DEPTH)
				return 0;
			stack[depth++] = b[i] == '{' ? '}' : ']';
			i++;
			break;
		case '}': case ']':
			if (depth == 0 || stack[depth - 1] != b[i])
				return 0;
			depth--;
			i++;
			break;
		case ',': case ':': case ' ': case '\t': case '\r': case '\n':
			if (depth == 0)
				return 0;
			i++;
			break;
		default:
			/* a number, true, false or null: up to what ends it */
			if (b[i] == '\0' || strchr("-0123456789tfn", b[i]) == NULL)
				return 0;
			while (i < len && !(stop[(unsigned char)b[i]] & 2))
				i++;
			break;
		}
	} while (depth > 0);
	return i;
}

json_object *
pur_json_parse_reply_only(const char *buf, size_t len, const char *const *keep)
{
	struct { size_t at, len; } seg[KEEP_MAX];
	char small[2048], *text = small;
	json_object *o = NULL;
	size_t i, k, n = 0, end, total;
	int esc;

	if (buf == NULL || len > (size_t)INT32_MAX)
		return NULL;
	i = skip_ws(buf, 0, len);
	if (i >= len || buf[i] != '{')
		goto whole;
	i = skip_ws(buf, i + 1, len);
	if (i < len && buf[i] == '}')
		goto whole; /* {} : nothing to save */
	for (;;) {
		size_t name = i, vend;
		int kept = 0;

		if (i >= len || buf[i] != '"' || (i = skip_string(buf, i, len, &esc)) == 0 || esc)
			goto whole;
		for (k = 0; keep[k] != NULL; k++)
			if (strlen(keep[k]) == i - name - 2 && memcmp(buf + name + 1, keep[k], i - name - 2) == 0)
				kept = 1;
		i = skip_ws(buf, i, len);
		if (i >= len || buf[i] != ':')
			goto whole;
		i = skip_ws(buf, i + 1, len);
		if ((vend = skip_value(buf, i, len)) == 0)
			goto whole;
		if (kept) {
			if (n == KEEP_MAX)
				goto whole;
			seg[n].at = name;
			seg[n++].len = vend - name;
		}
		i = skip_ws(buf, vend, len);
		if (i < len && buf[i] == ',') {
			i = skip_ws(buf, i + 1, len);
			continue;
		}
		if (i < len && buf[i] == '}')
			break;
		goto whole;
	}
	if (skip_ws(buf, i + 1, len) != len)
		goto whole;

	/* The kept members, side by side: one parse (json-c sets up its
	 * locale at every call of its tokener, so not one call per piece). */
	for (k = 0, total = 2; k < n; k++)
		total += seg[k].len + 1;
	if (total > sizeof(small) && (text = malloc(total)) == NULL)
		return NULL;
	end = 0;
	text[end++] = '{';
	for (k = 0; k < n; k++) {
		if (k > 0)
			text[end++] = ',';
		memcpy(text + end, buf + seg[k].at, seg[k].len);
		end += seg[k].len;
	}
	text[end++] = '}';
	if ((o = parse(text, end, REPLY_DEPTH)) != NULL && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	if (text != small)
		free(text);
	return o;
whole:
	return pur_json_parse_reply(buf, len);
}

static json_object *
member(json_object *o, const char *key, json_type t)
{
	json_object *v;

	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, t))
		return NULL;
	return v;
}

const char *
pur_json_str(json_object *o, const char *key)
{
	json_object *v = member(o, key, json_type_string);

	return v ? json_object_get_string(v) : NULL;
}

json_object *
pur_json_obj(json_object *o, const char *key)
{
	return member(o, key, json_type_object);
}

json_object *
pur_json_arr(json_object *o, const char *key)
{
	return member(o, key, json_type_array);
}

int
pur_json_bool(json_object *o, const char *key, int *out)
{
	json_object *v = member(o, key, json_type_boolean);

	if (v == NULL)
		return -1;
	*out = json_object_get_boolean(v) ? 1 : 0;
	return 0;
}

int
pur_json_int(json_object *o, const char *key, int64_t *out)
{
	json_object *v = member(o, key, json_type_int);

	if (v == NULL)
		return -1;
	*out = json_object_get_int64(v);
	return 0;
}

int
pur_json_copy(json_object *o, const char *key, char *dst, size_t dstlen)
{
	json_object *v = member(o, key, json_type_string);
	size_t n;

	dst[0] = '\0';
	if (v == NULL)
		return -1;
	n = (size_t)json_object_get_string_len(v);
	if (n >= dstlen || memchr(json_object_get_string(v), '\0', n) != NULL)
		return -1;
	memcpy(dst, json_object_get_string(v), n);
	dst[n] = '\0';
	return 0;
}

int
pur_json_add(json_object *o, const char *key, json_object *v)
{
	if (v == NULL)
		return -1;
	if (o == NULL || json_object_object_add(o, key, v) != 0) {
		json_object_put(v);
		return -1;
	}
	return 0;
}

int
pur_json_add_null(json_object *o, const char *key)
{
	return o != NULL && json_object_object_add(o, key, NULL) == 0 ? 0 : -1;
}

int
pur_json_push(json_object *a, json_object *v)
{
	if (v == NULL)
		return -1;
	if (a == NULL || json_object_array_add(a, v) != 0) {
		json_object_put(v);
		return -1;
	}
	return 0;
}

/*
 * json-c before 0.17 ignores most failed appends while it serialises: out of
 * memory, the text can lack a piece -- a value's characters, a quote, a
 * colon -- and still be returned (tests/test-alloc found
 * {"error":"...","code"number_not_available"}). A rendered reply is stored
 * and replayed, so the text is read back and must be the object itself;
 * anything else (or a failure to read it) is an allocation failure. It also
 * refuses what json-c writes and JSON is not (NaN, Infinity).
 */
char *
pur_json_dump(json_object *o, size_t *len)
{
	json_object *back;
	const char *s;
	size_t n;
	char *p;
	int same;

	s = json_object_to_json_string_length(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	if (s == NULL || (back = parse(s, n, REPLY_DEPTH)) == NULL)
		return NULL;
	same = json_object_equal(o, back);
	json_object_put(back);
	if (!same || (p = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(p, s, n + 1);
	if (len != NULL)
		*len = n;
	return p;
}

enum purchase_err
pur_json_check_fields(json_object *obj, const struct pur_field *fields, size_t nfields)
{
	size_t i;
	json_object *v;

	json_object_object_foreach(obj, key, val) {
		(void)val;
		for (i = 0; i < nfields; i++)
			if (strcmp(fields[i].name, key) == 0)
				break;
		if (i == nfields)
			return PURCHASE_EBODY;
	}
	for (i = 0; i < nfields; i++) {
		if (!json_object_object_get_ex(obj, fields[i].name, &v)) {
			if (fields[i].required)
				return PURCHASE_EFIELD;
			continue;
		}
		if (fields[i].type == PUR_FIELD_STRING && !json_object_is_type(v, json_type_string))
			return PURCHASE_EFIELD;
	}
	return PURCHASE_OK;
}
