/*
 * fuzz-form.c -- libFuzzer target: form encoding.
 *
 * The input up to its first NUL byte is a query string, read with
 * pur_form_next into the buffer sizes the search handler uses (lib/search.c:
 * 32 and 64 bytes) and into exact-fit ones. Properties: every pair read is
 * NUL-terminated within its buffer, the position only moves forward, to an
 * "&" or the end, and the loop ends.
 *
 * Round trip: a = the input up to the first NUL, b = what follows it up to
 * the next. pur_form_add(a, b) then (b, a) must produce only unreserved
 * characters, "%XX" escapes and the two separators, and pur_form_next must
 * read back exactly (a, b), (b, a), then the end.
 */
#include "autoconfig.h"

#include "form.h"
#include "fuzz.h"

static int
escaped_ok(const char *s)
{
	static const char hexd[] = "0123456789ABCDEF";

	for (; *s != '\0'; s++) {
		if (*s == '%') {
			if (s[1] == '\0' || !strchr(hexd, s[1]) || s[2] == '\0' || !strchr(hexd, s[2]))
				return 0;
			s += 2;
		} else if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		               (*s >= '0' && *s <= '9') || strchr("-._~=&", *s))) {
			return 0;
		}
	}
	return 1;
}

/* Reads all of qs with buffers of keylen and vallen bytes. */
static void
read_all(const char *qs, size_t keylen, size_t vallen)
{
	char *key = malloc(keylen), *val = malloc(vallen);
	const char *pos = qs, *prev;
	size_t rounds = 0, len = strlen(qs);
	int rc;

	FUZZ_CHECK(key != NULL && val != NULL);
	for (;;) {
		prev = pos;
		rc = pur_form_next(&pos, key, keylen, val, vallen);
		FUZZ_CHECK(rc >= -1 && rc <= 1);
		if (rc != 1)
			break;
		FUZZ_CHECK(fuzz_terminated(key, keylen) && fuzz_terminated(val, vallen));
		FUZZ_CHECK(pos > prev && pos <= qs + len && (*pos == '&' || *pos == '\0'));
		FUZZ_CHECK(++rounds <= len);
	}
	if (rc == 0)
		FUZZ_CHECK(*pos == '\0');
	free(val);
	free(key);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = fuzz_cstr(data, size), *a, *b, *key, *val;
	const char *pos;
	struct pur_buf buf;
	size_t la, lb, cap;

	a = in;
	la = strlen(a);
	b = la < size ? in + la + 1 : in + size;
	lb = strlen(b);

	read_all(a, 32, 64);
	read_all(a, la + 1, la + 1);

	pur_buf_init(&buf, 64 * 1024);
	FUZZ_CHECK(pur_form_add(&buf, a, b) == 0 && pur_form_add(&buf, b, a) == 0);
	FUZZ_CHECK(escaped_ok(buf.data));
	cap = la + lb + 2; /* the longest of a, b and "k", with its NUL */
	key = malloc(cap);
	val = malloc(cap);
	FUZZ_CHECK(key != NULL && val != NULL);
	pos = buf.data;
	FUZZ_CHECK(pur_form_next(&pos, key, cap, val, cap) == 1);
	FUZZ_CHECK(strcmp(key, a) == 0 && strcmp(val, b) == 0);
	FUZZ_CHECK(pur_form_next(&pos, key, cap, val, cap) == 1);
	FUZZ_CHECK(strcmp(key, b) == 0 && strcmp(val, a) == 0);
	FUZZ_CHECK(pur_form_next(&pos, key, cap, val, cap) == 0);

	/* pur_form_escape alone decodes back too (as a value). */
	pur_buf_reset(&buf);
	FUZZ_CHECK(pur_buf_adds(&buf, "k=") == 0 && pur_form_escape(&buf, a) == 0);
	pos = buf.data;
	FUZZ_CHECK(pur_form_next(&pos, key, cap, val, cap) == 1 && strcmp(val, a) == 0);

	free(val);
	free(key);
	pur_buf_free(&buf);
	free(in);
	return 0;
}
