/*
 * test-auth.c -- unit tests of lib/auth.c: API key generation and shape,
 * splitting, hashing, and the Authorization: Bearer parser.
 */
#include "autoconfig.h"

#include <string.h>

#include "auth.h"
#include "sha256.h"
#include "tap.h"

static int
all_lower_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static int
split(const char *key)
{
	char prefix[PUR_KEY_PREFIX_LEN + 1];

	return pur_auth_key_split(key, strlen(key), prefix);
}

static void
test_generate(void)
{
	char k1[PUR_KEY_LEN + 1], k2[PUR_KEY_LEN + 1], prefix[PUR_KEY_PREFIX_LEN + 1];
	char bad[PUR_KEY_LEN + 2];

	memset(k1, 'x', sizeof(k1));
	is_int(pur_auth_key_generate(k1), 0, "generate");
	is_int((intmax_t)strlen(k1), 65, "key is 65 characters, NUL-terminated");
	ok(memcmp(k1, "pur_", 4) == 0, "key starts with pur_");
	ok(all_lower_hex(k1 + 4, 12), "12 lower-case hex of prefix");
	is_int(k1[16], '_', "underscore at 16");
	ok(all_lower_hex(k1 + 17, 48), "48 lower-case hex of secret");
	is_int(pur_auth_key_generate(k2), 0, "generate again");
	ok(strcmp(k1, k2) != 0, "two keys differ");
	ok(memcmp(k1 + 17, k2 + 17, 48) != 0, "two secrets differ");

	memset(prefix, 'x', sizeof(prefix));
	is_int(pur_auth_key_split(k1, strlen(k1), prefix), 0, "split accepts a generated key");
	ok(strlen(prefix) == PUR_KEY_PREFIX_LEN && memcmp(prefix, k1, PUR_KEY_PREFIX_LEN) == 0,
	    "split: prefix is pur_ + 12 hex");

	/* Mutations of a good key. */
	is_int(pur_auth_key_split(k1, strlen(k1) - 1, prefix), -1, "split: one short (by length)");
	memcpy(bad, k1, sizeof(k1));
	bad[65] = 'a';
	bad[66] = '\0';
	is_int(split(bad), -1, "split: one long");
	memcpy(bad, k1, sizeof(k1));
	bad[0] = 'P';
	is_int(split(bad), -1, "split: prefix PUR_");
	memcpy(bad, k1, sizeof(k1));
	memcpy(bad, "pk__", 4);
	is_int(split(bad), -1, "split: other prefix");
	memcpy(bad, k1, sizeof(k1));
	bad[16] = '-';
	is_int(split(bad), -1, "split: '-' instead of underscore");
	memcpy(bad, k1, sizeof(k1));
	bad[5] = 'A';
	is_int(split(bad), -1, "split: upper-case hex in prefix");
	memcpy(bad, k1, sizeof(k1));
	bad[40] = 'F';
	is_int(split(bad), -1, "split: upper-case hex in secret");
	memcpy(bad, k1, sizeof(k1));
	bad[20] = 'g';
	is_int(split(bad), -1, "split: non-hex in secret");
	memcpy(bad, k1, sizeof(k1));
	bad[64] = ' ';
	is_int(split(bad), -1, "split: trailing space within length");
	is_int(split(""), -1, "split: empty");
	is_int(split("pur_"), -1, "split: prefix only");
	/* No underscore: 65 hex-ish characters. */
	is_int(split("pur_0123456789ab0123456789abcdef0123456789abcdef0123456789abcdef0"), -1,
	    "split: missing underscore");
	is_int(split("pur_0123456789ab_0123456789abcdef0123456789abcdef0123456789abcdef"), 0,
	    "split: a literal well-formed key");
	{
		static const char nul[] =
		    "pur_0123456789ab_0123456789abcdef0123456789abcdef0123456789abcde\0";
		is_int(pur_auth_key_split(nul, sizeof(nul) - 1, prefix), -1, "split: NUL inside");
	}
}

static void
test_hash(void)
{
	static const char key[] = "pur_0123456789ab_0123456789abcdef0123456789abcdef0123456789abcdef";
	unsigned char h[PUR_SHA256_LEN];
	char want[65], got[65];

	pur_sha256(key, strlen(key), h);
	pur_hex(h, sizeof(h), want);
	memset(got, 'x', sizeof(got));
	pur_auth_key_hash(key, strlen(key), got);
	is_str(got, want, "key hash is SHA-256 hex");
	pur_auth_key_hash("abc", 3, got);
	is_str(got, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	    "key hash of \"abc\" (FIPS vector)");
	pur_auth_key_hash("", 0, got);
	is_str(got, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "key hash of empty");
}

struct bearer {
	const char *header;
	int rc;
	const char *token;
};

static const struct bearer bearers[] = {
	{"Bearer x", 0, "x"},
	{"bearer x", 0, "x"},
	{"BEARER x", 0, "x"},
	{"Bearer   x", 0, "x"},
	{"Bearer pur_0123456789ab_0123", 0, "pur_0123456789ab_0123"},
	{"Basic x", -1, NULL},
	{"Bearer", -1, NULL},
	{"Bearer ", -1, NULL},
	{"Bearer    ", -1, NULL},
	{"Bearer a b", -1, NULL},
	{"Bearer x ", -1, NULL},
	{"Bearer x\t", -1, NULL},
	{"Bearer\tx", -1, NULL},
	{"Bearerx", -1, NULL},
	{" Bearer x", -1, NULL},
	{"", -1, NULL},
	{NULL, -1, NULL},
};

static void
test_bearer(void)
{
	const char *tok;
	size_t len;
	size_t i;
	char buf[64];

	for (i = 0; i < sizeof(bearers) / sizeof(bearers[0]); i++) {
		const struct bearer *b = &bearers[i];
		const char *h = b->header ? b->header : "NULL";
		tok = NULL;
		len = 0;
		if (!is_int(pur_auth_bearer(b->header, &tok, &len), b->rc, "bearer \"%s\" -> %d", h,
		        b->rc) ||
		    b->rc != 0)
			continue;
		if (tok == NULL || len >= sizeof(buf)) {
			ok(0, "bearer \"%s\" token", h);
			continue;
		}
		memcpy(buf, tok, len);
		buf[len] = '\0';
		is_str(buf, b->token, "bearer \"%s\" token", h);
	}
}

int
main(void)
{
	test_generate();
	test_hash();
	test_bearer();
	return done_testing();
}
