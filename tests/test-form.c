/*
 * test-form.c -- unit tests of lib/form.c: percent-encoding of provider
 * request bodies (nothing outside RFC 3986 "unreserved" passes through, so
 * no value can add a field) and decoding of the client's query string.
 */
#include "autoconfig.h"

#include <string.h>

#include "form.h"
#include "tap.h"

static void
esc_is(const char *in, const char *want, const char *why)
{
	struct pur_buf b;

	pur_buf_init(&b, 4096);
	if (!ok(pur_form_escape(&b, in) == 0, "escape ok: %s", why))
		return;
	is_str(b.data ? b.data : "", want, "escape: %s", why);
	pur_buf_free(&b);
}

static void
test_escape(void)
{
	struct pur_buf b;
	char all[256], want[256 * 3 + 1];
	size_t i, n = 0;
	static const char hex[] = "0123456789ABCDEF";
	int good;

	esc_is("", "", "empty");
	esc_is("AZaz09-._~", "AZaz09-._~", "unreserved pass through");
	esc_is("&", "%26", "ampersand");
	esc_is("=", "%3D", "equals");
	esc_is("+", "%2B", "plus");
	esc_is(" ", "%20", "space");
	esc_is("[", "%5B", "left bracket");
	esc_is("]", "%5D", "right bracket");
	esc_is("%", "%25", "percent");
	esc_is("/?#@:", "%2F%3F%23%40%3A", "gen-delims");
	esc_is("!$'()*,;", "%21%24%27%28%29%2A%2C%3B", "sub-delims");
	esc_is("\r\n", "%0D%0A", "CR LF");
	esc_is("caf\xc3\xa9", "caf%C3%A9", "UTF-8 bytes, upper-case hex");
	esc_is("\xff\x80", "%FF%80", "high bytes");
	esc_is("+14155551234", "%2B14155551234", "E.164 number");
	esc_is("a&b=c", "a%26b%3Dc", "cannot smuggle a field");

	/* Every byte 1..255: unreserved as is, the rest %XX upper-case. */
	for (i = 1; i < 256; i++) {
		unsigned char c = (unsigned char)i;
		all[i - 1] = (char)c;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			want[n++] = (char)c;
		} else {
			want[n++] = '%';
			want[n++] = hex[c >> 4];
			want[n++] = hex[c & 15];
		}
	}
	all[255] = '\0';
	want[n] = '\0';
	pur_buf_init(&b, 4096);
	good = pur_form_escape(&b, all) == 0;
	ok(good && b.data != NULL && strcmp(b.data, want) == 0, "escape: every byte 1..255");
	pur_buf_free(&b);

	/* The ceiling is honoured: an escape that would pass it fails. */
	pur_buf_init(&b, 4);
	is_int(pur_form_escape(&b, "ab&"), -1, "escape: over the ceiling fails");
	pur_buf_free(&b);
	pur_buf_init(&b, 4);
	is_int(pur_form_escape(&b, "a&"), 0, "escape: exactly at the ceiling");
	pur_buf_free(&b);
}

static void
test_add(void)
{
	struct pur_buf b;

	pur_buf_init(&b, 4096);
	is_int(pur_form_add(&b, "customer", "cus_1"), 0, "add first");
	is_str(b.data, "customer=cus_1", "add: no leading &");
	is_int(pur_form_add(&b, "items[0][price]", "price x"), 0, "add second");
	is_str(b.data, "customer=cus_1&items%5B0%5D%5Bprice%5D=price%20x", "add: & and escapes");
	is_int(pur_form_add(&b, "k", ""), 0, "add empty value");
	is_str(b.data, "customer=cus_1&items%5B0%5D%5Bprice%5D=price%20x&k=",
	    "add: empty value keeps '='");
	pur_buf_free(&b);

	pur_buf_init(&b, 4096);
	is_int(pur_form_add(&b, "a=b", "c&d=e"), 0, "add hostile");
	is_str(b.data, "a%3Db=c%26d%3De", "add: key and value escaped");
	pur_buf_free(&b);

	pur_buf_init(&b, 8);
	is_int(pur_form_add(&b, "key", "value"), -1, "add: over the ceiling fails");
	pur_buf_free(&b);
}

/* Decodes all of q into "k=v|k=v|" (or "ERR" at a malformed pair). */
static void
next_is(const char *q, const char *want, const char *why)
{
	char key[16], val[16], out[512];
	const char *pos = q;
	size_t n = 0, kl, vl;
	int rc, guard = 0;

	out[0] = '\0';
	while ((rc = pur_form_next(&pos, key, sizeof(key), val, sizeof(val))) == 1 && guard++ < 50) {
		kl = strlen(key);
		vl = strlen(val);
		if (n + kl + vl + 3 >= sizeof(out))
			break;
		memcpy(out + n, key, kl);
		n += kl;
		out[n++] = '=';
		memcpy(out + n, val, vl);
		n += vl;
		out[n++] = '|';
		out[n] = '\0';
	}
	if (rc == -1) {
		if (n + 4 < sizeof(out)) {
			memcpy(out + n, "ERR", 4);
			n += 3;
		}
	} else if (rc == 0 && *pos != '\0') {
		memcpy(out + n, "NOTEND", 7);
	}
	is_str(out, want, "next: %s", why);
}

static void
test_next(void)
{
	char key[8], val[8], longv[64];
	const char *pos;

	next_is("", "", "empty");
	next_is("a=1&b=2", "a=1|b=2|", "two pairs");
	next_is("a=1+2", "a=1 2|", "'+' is a space");
	next_is("a=%41%42%7e", "a=AB~|", "percent escapes (either case)");
	next_is("a=", "a=|", "empty value");
	next_is("a", "a=|", "key without '='");
	next_is("a&b=2", "a=|b=2|", "key without '=' then a pair");
	next_is("=v", "=v|", "empty key");
	next_is("a=1&&b=2", "a=1|b=2|", "repeated '&&'");
	next_is("&&&a=1&&&", "a=1|", "leading and trailing '&'");
	next_is("a=b=c", "a=b=c|", "'=' in value");
	next_is("a=%26&b=%3D", "a=&|b==|", "escaped '&' and '=' are data");
	next_is("k%20y=v", "k y=v|", "escape in key");
	next_is("a=%4", "ERR", "short escape %4");
	next_is("a=%", "ERR", "lone %");
	next_is("a=%zz", "ERR", "bad escape %zz");
	next_is("a=%4g", "ERR", "bad escape %4g");
	next_is("a=%00", "ERR", "%00 refused");
	next_is("%00=v", "ERR", "%00 in key refused");
	next_is("ok=1&a=%4", "ok=1|ERR", "bad escape in a later pair");
	next_is("a=%41%4", "ERR", "bad escape after a good one");
	next_is("a=%C3%A9", "a=\xc3\xa9|", "UTF-8 bytes decoded");

	/* Buffer limits: key 7 chars + NUL fit in 8; 8 do not. */
	pos = "abcdefg=1234567";
	is_int(pur_form_next(&pos, key, sizeof(key), val, sizeof(val)), 1, "next: fits exactly");
	is_str(key, "abcdefg", "next: longest key");
	is_str(val, "1234567", "next: longest value");
	pos = "abcdefgh=1";
	is_int(pur_form_next(&pos, key, sizeof(key), val, sizeof(val)), -1, "next: overlong key");
	pos = "a=12345678";
	is_int(pur_form_next(&pos, key, sizeof(key), val, sizeof(val)), -1, "next: overlong value");
	pos = "abcdefgh";
	is_int(pur_form_next(&pos, key, sizeof(key), val, sizeof(val)), -1,
	    "next: overlong key without '='");
	/* Escapes count decoded bytes: "%41" x7 is 7 bytes. */
	pos = "k=%41%41%41%41%41%41%41";
	is_int(pur_form_next(&pos, key, sizeof(key), val, sizeof(val)), 1,
	    "next: limit counts decoded bytes");
	memset(longv, 'x', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';
	pos = longv;
	is_int(pur_form_next(&pos, key, sizeof(key), val, sizeof(val)), -1, "next: 63-byte key");

	/* The position advances to the '&' (or the end). */
	pos = "a=1&b=2";
	pur_form_next(&pos, key, sizeof(key), val, sizeof(val));
	is_str(pos, "&b=2", "next: position after first pair");
	pur_form_next(&pos, key, sizeof(key), val, sizeof(val));
	is_str(pos, "", "next: position at end");
	is_int(pur_form_next(&pos, key, sizeof(key), val, sizeof(val)), 0, "next: 0 at the end");
}

int
main(void)
{
	test_escape();
	test_add();
	test_next();
	return done_testing();
}
