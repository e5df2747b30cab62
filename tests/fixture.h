/*
 * fixture.h -- the world of the C tests of the middle: a temporary
 * directory with a purchase.conf, a real SQLite database created by the
 * library (purchase_db_init), a one-line price list, one account, and the
 * library context opened on them. Providers are https:// bases that are
 * never reached: every test sets a hook (tests/fake.h) on ctx->http.
 * The sqlite3 shell reads and writes rows behind the library's back.
 */
#ifndef PUR_TESTS_FIXTURE_H
#define PUR_TESTS_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctx.h"
#include "dbshell.h"
#include "fake.h"
#include "tap.h"

static char conf[300];
static struct purchase_ctx *ctx;
static struct fake f;
static int64_t account;

/* Sets everything up; extra is appended to purchase.conf. 0 or -1. */
static TAP_UNUSED int
fixture_setup_with(const char *name, const char *extra)
{
	struct purchase_detail d = {""};
	char prices[300];
	FILE *fp;

	snprintf(dir, sizeof(dir), "%s/%s.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
	    name);
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(conf, sizeof(conf), "%s/purchase.conf", dir);
	snprintf(db, sizeof(db), "%s/purchase.db", dir);
	snprintf(prices, sizeof(prices), "%s/prices.sql", dir);
	if ((fp = fopen(conf, "w")) == NULL)
		return -1;
	fprintf(fp, "database = %s\nstripe_api_base = https://api.stripe.test\n"
	            "stripe_secret_key = sk_test_x\ntwilio_api_base = https://api.twilio.test\n"
	            "twilio_account_sid = AC00000000000000000000000000000000\n"
	            "twilio_auth_token = t\nprovider_timeout_ms = 2000\n"
	            "purchase_rate_per_minute = 0\nsearch_rate_per_minute = 0\n%s",
	    db, extra ? extra : "");
	fclose(fp);
	if ((fp = fopen(prices, "w")) == NULL)
		return -1;
	fputs("INSERT INTO prices (country_code, type, price_cents, stripe_price_id) VALUES "
	      "('US', 'local', 115, 'price_us_local_monthly');\n", fp);
	fclose(fp);
	if (purchase_ctx_open(conf, &ctx, &d) != PURCHASE_OK ||
	    purchase_db_init(ctx, &d) != PURCHASE_OK ||
	    purchase_prices_load(ctx, prices, &d) != PURCHASE_OK ||
	    purchase_account_create(ctx, "test", "cus_1", &account, &d) != PURCHASE_OK) {
		diag("setup: %s", d.text);
		return -1;
	}
	return 0;
}

static TAP_UNUSED int
fixture_setup(const char *name)
{
	return fixture_setup_with(name, NULL);
}

static TAP_UNUSED void
fixture_teardown(void)
{
	char cmd[400];

	purchase_ctx_free(ctx);
	ctx = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		diag("could not remove %s", dir);
}

#endif
