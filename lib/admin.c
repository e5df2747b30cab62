/*
 * admin.c -- the operator's functions behind purchasectl: schema, price
 * list, accounts and keys.
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "buf.h"
#include "ctx.h"
#include "error.h"

#define PRICES_MAX (1024 * 1024)

enum purchase_err
purchase_db_init(struct purchase_ctx *ctx, struct purchase_detail *d)
{
	enum purchase_err err = pur_store_migrate(ctx->store, d);

	if (err == PURCHASE_OK)
		ctx->schema_ok = 1;
	return err;
}

enum purchase_err
purchase_db_copy(struct purchase_ctx *ctx, const char *to, purchase_copy_fn fn, void *arg,
    struct purchase_detail *d)
{
	return pur_store_copy(ctx->cfg->database, to, ctx->cfg->busy_timeout_ms, fn, arg, d);
}

enum purchase_err
purchase_prices_load(struct purchase_ctx *ctx, const char *path, struct purchase_detail *d)
{
	struct pur_buf b;
	char chunk[4096];
	enum purchase_err err;
	size_t n;
	FILE *f;

	if ((err = pur_ctx_ready(ctx, d)) != PURCHASE_OK)
		return err;
	if ((f = fopen(path, "re")) == NULL)
		return pur_error_set(d, PURCHASE_EINVAL, "%s: %s", path, strerror(errno));
	pur_buf_init(&b, PRICES_MAX);
	err = PURCHASE_OK;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (pur_buf_add(&b, chunk, n) != 0) {
			err = pur_error_set(d, PURCHASE_EINVAL, "%s: too large", path);
			break;
		}
	if (err == PURCHASE_OK && ferror(f))
		err = pur_error_set(d, PURCHASE_EINVAL, "%s: read error", path);
	fclose(f);
	if (err == PURCHASE_OK)
		err = pur_store_load_prices(ctx->store, b.data ? b.data : "", d);
	pur_buf_free(&b);
	return err;
}

enum purchase_err
purchase_account_create(struct purchase_ctx *ctx, const char *name, const char *cus,
    int64_t *id, struct purchase_detail *d)
{
	enum purchase_err err;
	size_t i;

	if ((err = pur_ctx_ready(ctx, d)) != PURCHASE_OK)
		return err;
	if (name == NULL || *name == '\0' || strlen(name) > 200)
		return pur_error_set(d, PURCHASE_EINVAL, "name must be 1 to 200 bytes");
	if (cus == NULL || strncmp(cus, "cus_", 4) != 0 || strlen(cus) < 5 || strlen(cus) > 255)
		return pur_error_set(d, PURCHASE_EINVAL, "stripe customer must look like cus_...");
	for (i = 4; cus[i] != '\0'; i++)
		if (!((cus[i] >= 'a' && cus[i] <= 'z') || (cus[i] >= 'A' && cus[i] <= 'Z') ||
		        (cus[i] >= '0' && cus[i] <= '9') || cus[i] == '_'))
			return pur_error_set(d, PURCHASE_EINVAL, "stripe customer must look like cus_...");
	return pur_store_account_insert(ctx->store, name, cus, pur_now(), id);
}

enum purchase_err
purchase_key_create(struct purchase_ctx *ctx, int64_t account_id, char **key,
    struct purchase_detail *d)
{
	struct pur_account acct;
	char k[PUR_KEY_LEN + 1], prefix[PUR_KEY_PREFIX_LEN + 1], hash[65];
	enum purchase_err err;

	*key = NULL;
	if ((err = pur_ctx_ready(ctx, d)) != PURCHASE_OK)
		return err;
	if ((err = pur_store_account_get(ctx->store, account_id, &acct)) != PURCHASE_OK)
		return pur_error_set(d, err, "no account %lld", (long long)account_id);
	if (pur_auth_key_generate(k) != 0)
		return pur_error_set(d, PURCHASE_EINTERNAL, "no randomness available");
	(void)pur_auth_key_split(k, PUR_KEY_LEN, prefix);
	pur_auth_key_hash(k, PUR_KEY_LEN, hash);
	if ((err = pur_store_key_insert(ctx->store, account_id, prefix, hash, pur_now())) !=
	    PURCHASE_OK)
		return err;
	if ((*key = strdup(k)) == NULL)
		return PURCHASE_ENOMEM;
	return PURCHASE_OK;
}

enum purchase_err
purchase_key_revoke(struct purchase_ctx *ctx, const char *key_or_prefix,
    struct purchase_detail *d)
{
	char prefix[PUR_KEY_PREFIX_LEN + 1];
	enum purchase_err err;
	size_t n;

	if ((err = pur_ctx_ready(ctx, d)) != PURCHASE_OK)
		return err;
	n = key_or_prefix ? strlen(key_or_prefix) : 0;
	if (n == PUR_KEY_LEN && pur_auth_key_split(key_or_prefix, n, prefix) == 0)
		return pur_store_key_revoke(ctx->store, prefix, pur_now());
	if (n == PUR_KEY_PREFIX_LEN && strncmp(key_or_prefix, "pur_", 4) == 0)
		return pur_store_key_revoke(ctx->store, key_or_prefix, pur_now());
	return pur_error_set(d, PURCHASE_EINVAL, "not a key or key prefix");
}

enum purchase_err
purchase_status(struct purchase_ctx *ctx, purchase_count_fn fn, void *arg,
    struct purchase_detail *d)
{
	enum purchase_err err;

	if ((err = pur_ctx_ready(ctx, d)) != PURCHASE_OK)
		return err;
	return pur_store_counts(ctx->store, fn, arg);
}
