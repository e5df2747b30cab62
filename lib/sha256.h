/*
 * sha256.h -- SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), for API-key
 * hashes and webhook signatures, without pulling in a crypto library.
 */
#ifndef PUR_SHA256_H
#define PUR_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define PUR_SHA256_LEN 32

struct pur_sha256 {
	uint32_t h[8];
	uint64_t total;
	unsigned char block[64];
	size_t fill;
};

void pur_sha256_init(struct pur_sha256 *s);
void pur_sha256_update(struct pur_sha256 *s, const void *data, size_t len);
void pur_sha256_final(struct pur_sha256 *s, unsigned char out[PUR_SHA256_LEN]);
void pur_sha256(const void *data, size_t len, unsigned char out[PUR_SHA256_LEN]);
void pur_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen,
    unsigned char out[PUR_SHA256_LEN]);
/* HMAC-SHA256 over a message given in parts (a webhook's "<t>." and its
 * body, without copying the body). final wipes the state. */
struct pur_hmac {
	unsigned char k[64];
	struct pur_sha256 inner;
};
void pur_hmac_init(struct pur_hmac *h, const void *key, size_t keylen);
void pur_hmac_update(struct pur_hmac *h, const void *msg, size_t len);
void pur_hmac_final(struct pur_hmac *h, unsigned char out[PUR_SHA256_LEN]);
/* Lower-case hex of n bytes into out (2n+1 bytes). */
void pur_hex(const unsigned char *in, size_t n, char *out);
/* Constant-time comparison of n bytes: 0 when equal. */
int pur_memeq_ct(const void *a, const void *b, size_t n);

#endif
