/*
 * sha256.c -- SHA-256 per FIPS 180-4 §6.2, HMAC per RFC 2104.
 */
#include "autoconfig.h"

#include <string.h>

#include "sha256.h"

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
	0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
	0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
	0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
	0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void
compress(uint32_t h[8], const unsigned char *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, hh, t1, t2;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		    (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
	for (i = 16; i < 64; i++) {
		uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
	for (i = 0; i < 64; i++) {
		t1 = hh + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
		t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
		hh = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
	}
	h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
}

void
pur_sha256_init(struct pur_sha256 *s)
{
	static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

	memcpy(s->h, iv, sizeof(iv));
	s->total = 0;
	s->fill = 0;
}

void
pur_sha256_update(struct pur_sha256 *s, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t take;

	s->total += len;
	while (len > 0) {
		take = 64 - s->fill;
		if (take > len)
			take = len;
		memcpy(s->block + s->fill, p, take);
		s->fill += take;
		p += take;
		len -= take;
		if (s->fill == 64) {
			compress(s->h, s->block);
			s->fill = 0;
		}
	}
}

void
pur_sha256_final(struct pur_sha256 *s, unsigned char out[PUR_SHA256_LEN])
{
	uint64_t bits = s->total * 8;
	unsigned char pad = 0x80, zero = 0, len[8];
	int i;

	pur_sha256_update(s, &pad, 1);
	while (s->fill != 56)
		pur_sha256_update(s, &zero, 1);
	for (i = 0; i < 8; i++)
		len[i] = (unsigned char)(bits >> (56 - 8 * i));
	pur_sha256_update(s, len, 8);
	for (i = 0; i < 8; i++) {
		out[4 * i] = (unsigned char)(s->h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(s->h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(s->h[i] >> 8);
		out[4 * i + 3] = (unsigned char)s->h[i];
	}
}

void
pur_sha256(const void *data, size_t len, unsigned char out[PUR_SHA256_LEN])
{
	struct pur_sha256 s;

	pur_sha256_init(&s);
	pur_sha256_update(&s, data, len);
	pur_sha256_final(&s, out);
}

void
pur_hmac_init(struct pur_hmac *h, const void *key, size_t keylen)
{
	unsigned char pad[64];
	size_t i;

	memset(h->k, 0, sizeof(h->k));
	if (keylen > 64)
		pur_sha256(key, keylen, h->k);
	else if (keylen > 0)
		memcpy(h->k, key, keylen);
	for (i = 0; i < 64; i++)
		pad[i] = h->k[i] ^ 0x36;
	pur_sha256_init(&h->inner);
	pur_sha256_update(&h->inner, pad, 64);
}

void
pur_hmac_update(struct pur_hmac *h, const void *msg, size_t len)
{
	pur_sha256_update(&h->inner, msg, len);
}

void
pur_hmac_final(struct pur_hmac *h, unsigned char out[PUR_SHA256_LEN])
{
	unsigned char pad[64], inner[PUR_SHA256_LEN];
	struct pur_sha256 s;
	size_t i;

	pur_sha256_final(&h->inner, inner);
	for (i = 0; i < 64; i++)
		pad[i] = h->k[i] ^ 0x5c;
	pur_sha256_init(&s);
	pur_sha256_update(&s, pad, 64);
	pur_sha256_update(&s, inner, sizeof(inner));
	pur_sha256_final(&s, out);
	memset(h, 0, sizeof(*h));
}

void
pur_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen,
    unsigned char out[PUR_SHA256_LEN])
{
	struct pur_hmac h;

	pur_hmac_init(&h, key, keylen);
	pur_hmac_update(&h, msg, msglen);
	pur_hmac_final(&h, out);
}

void
pur_hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int
pur_memeq_ct(const void *a, const void *b, size_t n)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		d |= x[i] ^ y[i];
	return d != 0;
}
