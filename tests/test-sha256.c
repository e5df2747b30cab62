/*
 * test-sha256.c -- unit tests of lib/sha256.c against the published
 * vectors: SHA-256 (FIPS 180-4 examples, NIST CSRC "SHA2 example values"),
 * HMAC-SHA256 (RFC 4231 §4), and the constant-time comparison.
 */
#include "autoconfig.h"

#include <string.h>

#include "sha256.h"
#include "tap.h"

static void
sha_is(const void *msg, size_t len, const char *want, const char *why)
{
	unsigned char h[PUR_SHA256_LEN];
	char hex[2 * PUR_SHA256_LEN + 1];

	pur_sha256(msg, len, h);
	pur_hex(h, sizeof(h), hex);
	is_str(hex, want, "sha256 %s", why);
}

static void
test_sha256(void)
{
	static const char m448[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	static const char m896[] =
	    "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
	    "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
	static const char million_a[] =
	    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
	struct pur_sha256 s;
	unsigned char h[PUR_SHA256_LEN], h2[PUR_SHA256_LEN];
	char hex[2 * PUR_SHA256_LEN + 1];
	unsigned char block[1000];
	size_t i, cut;
	int all_same = 1;

	sha_is("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "\"\"");
	sha_is("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "abc");
	sha_is(m448, strlen(m448),
	    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1", "448-bit message");
	sha_is(m896, strlen(m896),
	    "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1", "896-bit message");

	/* One million 'a', fed in pieces of 1000. */
	memset(block, 'a', sizeof(block));
	pur_sha256_init(&s);
	for (i = 0; i < 1000; i++)
		pur_sha256_update(&s, block, sizeof(block));
	pur_sha256_final(&s, h);
	pur_hex(h, sizeof(h), hex);
	is_str(hex, million_a, "sha256 one million 'a' (1000 x 1000)");

	/* ... and byte by byte in odd pieces: the block boundary handling. */
	pur_sha256_init(&s);
	for (i = 0; i < 1000000;) {
		size_t take = 1 + i % 131;
		if (take > 1000000 - i)
			take = 1000000 - i;
		pur_sha256_update(&s, block, take);
		i += take;
	}
	pur_sha256_final(&s, h);
	pur_hex(h, sizeof(h), hex);
	is_str(hex, million_a, "sha256 one million 'a' (uneven pieces)");

	/* Split anywhere, the 896-bit message hashes the same. */
	pur_sha256(m896, strlen(m896), h);
	for (cut = 0; cut <= strlen(m896); cut++) {
		pur_sha256_init(&s);
		pur_sha256_update(&s, m896, cut);
		pur_sha256_update(&s, m896 + cut, strlen(m896) - cut);
		pur_sha256_final(&s, h2);
		if (memcmp(h, h2, sizeof(h)) != 0)
			all_same = 0;
	}
	ok(all_same, "sha256 incremental = one-shot at every split point");

	/* Padding edge lengths: 55, 56, 64 bytes (values from coreutils
	 * sha256sum of "a" repeated). */
	sha_is(block, 55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318",
	    "55 x 'a'");
	sha_is(block, 56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a",
	    "56 x 'a'");
	sha_is(block, 64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb",
	    "64 x 'a'");

	/* pur_hex: lower-case, NUL-terminated. */
	{
		static const unsigned char in[] = {0x00, 0x0f, 0xa0, 0xff};
		char out[9];
		memset(out, 'x', sizeof(out));
		pur_hex(in, sizeof(in), out);
		is_str(out, "000fa0ff", "hex lower-case");
	}
}

static void
unhex(const char *s, unsigned char *out, size_t *n)
{
	size_t i;

	for (i = 0; s[2 * i] != '\0'; i++) {
		unsigned v = 0;
		int k;
		for (k = 0; k < 2; k++) {
			char c = s[2 * i + k];
			v <<= 4;
			v |= (unsigned)(c <= '9' ? c - '0' : c - 'a' + 10);
		}
		out[i] = (unsigned char)v;
	}
	*n = i;
}

struct hmac_case {
	int no;
	const char *key_hex;    /* or NULL with key_byte/key_len */
	unsigned char key_byte;
	size_t key_len;
	const char *data;       /* text, or NULL with data_byte/data_len */
	unsigned char data_byte;
	size_t data_len;
	const char *mac;
};

/* RFC 4231 §4.2-4.8 (test case 5 truncates the output; not applicable). */
static const struct hmac_case hmacs[] = {
	{1, NULL, 0x0b, 20, "Hi There", 0, 0,
	    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
	{2, NULL, 0, 0, "what do ya want for nothing?", 0, 0,
	    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
	{3, NULL, 0xaa, 20, NULL, 0xdd, 50,
	    "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
	{4, "0102030405060708090a0b0c0d0e0f10111213141516171819", 0, 0, NULL, 0xcd, 50,
	    "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
	{6, NULL, 0xaa, 131, "Test Using Larger Than Block-Size Key - Hash Key First", 0, 0,
	    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
	{7, NULL, 0xaa, 131,
	    "This is a test using a larger than block-size key and a larger than block-size "
	    "data. The key needs to be hashed before being used by the HMAC algorithm.",
	    0, 0, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
};

static void
test_hmac(void)
{
	unsigned char key[256], data[256], mac[PUR_SHA256_LEN];
	char hex[2 * PUR_SHA256_LEN + 1];
	size_t i, klen, dlen;

	for (i = 0; i < sizeof(hmacs) / sizeof(hmacs[0]); i++) {
		const struct hmac_case *c = &hmacs[i];
		if (c->key_hex != NULL) {
			unhex(c->key_hex, key, &klen);
		} else if (c->no == 2) {
			memcpy(key, "Jefe", 4);
			klen = 4;
		} else {
			memset(key, c->key_byte, c->key_len);
			klen = c->key_len;
		}
		if (c->data != NULL) {
			dlen = strlen(c->data);
			memcpy(data, c->data, dlen);
		} else {
			memset(data, c->data_byte, c->data_len);
			dlen = c->data_len;
		}
		pur_hmac_sha256(key, klen, data, dlen, mac);
		pur_hex(mac, sizeof(mac), hex);
		is_str(hex, c->mac, "HMAC-SHA256 RFC 4231 test case %d", c->no);
	}

	/* A 64-byte key is used as is; a 65-byte one is hashed first: they
	 * must differ from each other and from the hashed-key form. */
	{
		unsigned char k65[65], kh[PUR_SHA256_LEN], m1[PUR_SHA256_LEN], m2[PUR_SHA256_LEN];
		memset(k65, 0x5a, sizeof(k65));
		pur_hmac_sha256(k65, 65, "m", 1, m1);
		pur_sha256(k65, 65, kh);
		pur_hmac_sha256(kh, sizeof(kh), "m", 1, m2);
		ok(memcmp(m1, m2, sizeof(m1)) == 0, "HMAC: key over 64 bytes = HMAC with its hash");
		pur_hmac_sha256(k65, 64, "m", 1, m2);
		ok(memcmp(m1, m2, sizeof(m1)) != 0, "HMAC: 64-byte key is not hashed");
	}
}

static void
test_memeq(void)
{
	unsigned char a[64], b[64];
	size_t i;
	int all = 1;

	memset(a, 0x33, sizeof(a));
	memcpy(b, a, sizeof(b));
	is_int(pur_memeq_ct(a, b, sizeof(a)), 0, "memeq_ct equal -> 0");
	is_int(pur_memeq_ct(a, b, 0), 0, "memeq_ct zero length -> 0");
	for (i = 0; i < sizeof(a); i++) {
		b[i] ^= 0x80;
		if (pur_memeq_ct(a, b, sizeof(a)) == 0)
			all = 0;
		b[i] ^= 0x80;
	}
	ok(all, "memeq_ct detects a difference at every position");
	b[63] ^= 1;
	is_int(pur_memeq_ct(a, b, 63), 0, "memeq_ct compares only n bytes");
	ok(pur_memeq_ct("abc", "abd", 3) != 0, "memeq_ct \"abc\" vs \"abd\"");
}

int
main(void)
{
	test_sha256();
	test_hmac();
	test_memeq();
	return done_testing();
}
