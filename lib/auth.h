/*
 * auth.h -- API keys: generation, hashing, verification.
 *
 * A key is "pur_" + 12 hex characters of public prefix + "_" + 48 hex
 * characters of secret (192 bits from getrandom). The database keeps the
 * prefix (to find the row and to name the key in `purchasectl key revoke`)
 * and the SHA-256 of the whole key; a fast hash is enough for a key of that
 * entropy (no password stretching needed), and the comparison is constant
 * time.
 */
#ifndef PUR_AUTH_H
#define PUR_AUTH_H

#include <stddef.h>

#include "purchase.h"

#define PUR_KEY_LEN (4 + 12 + 1 + 48)
#define PUR_KEY_PREFIX_LEN (4 + 12)

/* n bytes from the kernel's generator (getrandom); -1 when it has none to
 * give. Keys and purchase nonces come from here. */
int pur_random(unsigned char *p, size_t n);

/* Fills key (PUR_KEY_LEN + 1 bytes) with a fresh key. -1 when the system has
 * no randomness to give. */
int pur_auth_key_generate(char key[PUR_KEY_LEN + 1]);

/* 0 when key has the shape above; its prefix ("pur_" + 12 hex) goes to
 * prefix (PUR_KEY_PREFIX_LEN + 1 bytes). */
int pur_auth_key_split(const char *key, size_t len, char prefix[PUR_KEY_PREFIX_LEN + 1]);

/* SHA-256 of the key, in hex (65 bytes). */
void pur_auth_key_hash(const char *key, size_t len, char hex[65]);

/* Extracts the token from an Authorization header value "Bearer <token>"
 * (scheme case-insensitive, RFC 7235 §2.1). -1 when absent or malformed. */
int pur_auth_bearer(const char *header, const char **token, size_t *len);

#endif
