/*
 * auth.c -- API keys and the Authorization header.
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "auth.h"
#include "ctx.h"
#include "error.h"
#include "sha256.h"
#include "store.h"

int
pur_random(unsigned char *p, size_t n)
{
	ssize_t got;

	while (n > 0) {
		got = getrandom(p, n, 0);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

int
pur_auth_key_generate(char key[PUR_KEY_LEN + 1])
{
	unsigned char r[6 + 24];

	if (pur_random(r, sizeof(r)) != 0)
		return -1;
	memcpy(key, "pur_", 4);
	pur_hex(r, 6, key + 4);
	key[16] = '_';
	pur_hex(r + 6, 24, key + 17);
	return 0;
}

static int
is_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

int
pur_auth_key_split(const char *key, size_t len, char prefix[PUR_KEY_PREFIX_LEN + 1])
{
	if (len != PUR_KEY_LEN || memcmp(key, "pur_", 4) != 0 || key[16] != '_' ||
	    !is_hex(key + 4, 12) || !is_hex(key + 17, 48))
		return -1;
	memcpy(prefix, key, PUR_KEY_PREFIX_LEN);
	prefix[PUR_KEY_PREFIX_LEN] = '\0';
	return 0;
}

void
pur_auth_key_hash(const char *key, size_t len, char hex[65])
{
	unsigned char h[PUR_SHA256_LEN];

	pur_sha256(key, len, h);
	pur_hex(h, sizeof(h), hex);
}

int
pur_auth_bearer(const char *header, const char **token, size_t *len)
{
	const char *p;

	if (header == NULL || strncasecmp(header, "Bearer ", 7) != 0)
		return -1;
	for (p = header + 7; *p == ' '; p++)
		;
	*token = p;
	*len = strcspn(p, " \t");
	if (*len == 0 || p[*len] != '\0')
		return -1;
	return 0;
}

enum purchase_err
purchase_authenticate(struct purchase_ctx *ctx, const char *authorization, int64_t *account_id)
{
	/* Every path hashes and compares once, so a missing, malformed,
	 * unknown and wrong key cost the same. */
	static const char dummy[65] =
	    "0000000000000000000000000000000000000000000000000000000000000000";
	char prefix[PUR_KEY_PREFIX_LEN + 1], want[65], got[65];
	const char *tok = "";
	size_t len = 0;
	int ok = 1;
	enum purchase_err err;

	*account_id = 0;
	if (pur_auth_bearer(authorization, &tok, &len) != 0 ||
	    pur_auth_key_split(tok, len, prefix) != 0) {
		ok = 0;
		memcpy(prefix, "pur_000000000000", sizeof(prefix));
	}
	memcpy(want, dummy, sizeof(want));
	/* In the read transaction the request's next reads join (a
	 * purchase's checks): one snapshot and one shared lock for both. */
	if ((err = pur_store_read_begin(ctx->store)) != PURCHASE_OK)
		return err;
	err = pur_store_key_lookup(ctx->store, prefix, account_id, want);
	if (err == PURCHASE_ENOT_FOUND)
		ok = 0;
	else if (err != PURCHASE_OK)
		return err;
	pur_auth_key_hash(tok, len, got);
	if (pur_memeq_ct(want, got, 64) != 0)
		ok = 0;
	if (!ok) {
		*account_id = 0;
		return PURCHASE_EAUTH;
	}
	return PURCHASE_OK;
}
