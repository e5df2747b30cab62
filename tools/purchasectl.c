/*
 * purchasectl -- the operator's tool (DESIGN §5): database, prices,
 * accounts, keys, recovery. Machine-readable results (an id, a key) go
 * alone on stdout; everything else to stderr.
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "purchase.h"

#ifndef PKGDATADIR
#define PKGDATADIR "/usr/share/purchase"
#endif

static void
usage(void)
{
	fputs("usage: purchasectl [--config FILE] COMMAND\n"
	      "  init                                   create or migrate the database\n"
	      "  migrate --to postgresql://...          copy this SQLite database into an empty\n"
	      "                                         PostgreSQL one (stop the service first);\n"
	      "                                         print each table's rows\n"
	      "  prices load [FILE]                     load the price list (default "
	      PKGDATADIR "/prices.sql)\n"
	      "  account create --name N --stripe-customer cus_...\n"
	      "                                         print the new account id\n"
	      "  key create --account ID                print a new API key (shown once)\n"
	      "  key revoke KEY|PREFIX                  revoke a key\n"
	      "  recover                                finish interrupted purchases, due releases,\n"
	      "                                         webhook work; exit 3 when some is left\n"
	      "  numbers list [--account ID]            every number: id, account, number,\n"
	      "                                         status, period end, nickname\n"
	      "  numbers release ID                     release at the end of the billing period\n"
	      "  webhooks replay                        fetch Stripe events not yet seen and act\n"
	      "  status                                 purchases per state, numbers per status\n"
	      "  reconcile [--repair [--older-than SECONDS]]\n"
	      "                                         compare with Stripe and Twilio; print each\n"
	      "                                         difference; exit 1 when there is any;\n"
	      "                                         --repair: cancel and release what purchases\n"
	      "                                         lost with their rows (a power cut) left,\n"
	      "                                         once older than SECONDS (3600)\n"
	      "The configuration is --config, else $PURCHASE_CONFIG, else "
	      SYSCONFDIR "/purchase.conf.\n",
	    stderr);
}

static int
parse_id(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v <= 0)
		return -1;
	*out = (int64_t)v;
	return 0;
}

/* Value of "--name VALUE" among argv[from..argc). */
static const char *
option(int argc, char **argv, int from, const char *name)
{
	int i;

	for (i = from; i + 1 < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return argv[i + 1];
	return NULL;
}

static void
print_diff(void *arg, const char *kind, const char *detail)
{
	(void)arg;
	printf("%s\t%s\n", kind, detail);
}

static void
print_number(void *arg, int64_t account, const struct purchase_number *n)
{
	char end[32] = "-";
	time_t t = (time_t)n->period_end;
	struct tm tm;

	(void)arg;
	if (n->period_end > 0 && gmtime_r(&t, &tm) != NULL)
		strftime(end, sizeof(end), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%lld\t%lld\t%s\t%s\t%s\t%s\n", (long long)n->id, (long long)account,
	    n->phone_number, n->status, end, n->nickname);
}

static void
print_count(void *arg, const char *what, const char *key, int64_t n)
{
	(void)arg;
	printf("%s\t%s\t%lld\n", what, key, (long long)n);
}

static void
print_rows(void *arg, const char *table, int64_t rows)
{
	(void)arg;
	printf("%s\t%lld\n", table, (long long)rows);
}

static int
report(enum purchase_err err, const struct purchase_detail *d, const char *what)
{
	if (err == PURCHASE_OK)
		return 0;
	fprintf(stderr, "purchasectl: %s: %s%s%s\n", what, purchase_strerror(err),
	    d->text[0] ? ": " : "", d->text);
	return 1;
}

int
main(int argc, char **argv)
{
	struct purchase_detail d = {""};
	struct purchase_ctx *ctx = NULL;
	const char *config = NULL;
	enum purchase_err err;
	int i = 1, rc = 2;

	if (argc > 2 && strcmp(argv[1], "--config") == 0) {
		config = argv[2];
		i = 3;
	}
	if (i >= argc) {
		usage();
		return 2;
	}
	if ((err = purchase_ctx_open(config, &ctx, &d)) != PURCHASE_OK)
		return report(err, &d, "configuration");

	if (strcmp(argv[i], "init") == 0) {
		rc = report(purchase_db_init(ctx, &d), &d, "init");
	} else if (strcmp(argv[i], "migrate") == 0) {
		const char *to = option(argc, argv, i + 1, "--to");
		if (to == NULL)
			usage();
		else if ((rc = report(purchase_db_copy(ctx, to, print_rows, NULL, &d), &d,
		              "migrate")) == 0)
			fprintf(stderr, "purchasectl: migrate: copied; point the configuration's "
			    "database at it\n");
	} else if (strcmp(argv[i], "prices") == 0 && i + 1 < argc &&
	           strcmp(argv[i + 1], "load") == 0) {
		const char *file = i + 2 < argc ? argv[i + 2] : PKGDATADIR "/prices.sql";
		rc = report(purchase_prices_load(ctx, file, &d), &d, "prices load");
	} else if (strcmp(argv[i], "account") == 0 && i + 1 < argc &&
	           strcmp(argv[i + 1], "create") == 0) {
		const char *name = option(argc, argv, i + 2, "--name");
		const char *cus = option(argc, argv, i + 2, "--stripe-customer");
		int64_t id;
		if (name == NULL || cus == NULL) {
			usage();
		} else if ((rc = report(purchase_account_create(ctx, name, cus, &id, &d), &d,
		                "account create")) == 0) {
			printf("%lld\n", (long long)id);
		}
	} else if (strcmp(argv[i], "key") == 0 && i + 1 < argc &&
	           strcmp(argv[i + 1], "create") == 0) {
		int64_t id;
		char *key = NULL;
		if (parse_id(option(argc, argv, i + 2, "--account"), &id) != 0) {
			usage();
		} else if ((rc = report(purchase_key_create(ctx, id, &key, &d), &d, "key create")) ==
		           0) {
			printf("%s\n", key);
		}
		free(key);
	} else if (strcmp(argv[i], "key") == 0 && i + 2 < argc &&
	           strcmp(argv[i + 1], "revoke") == 0) {
		rc = report(purchase_key_revoke(ctx, argv[i + 2], &d), &d, "key revoke");
	} else if (strcmp(argv[i], "recover") == 0) {
		int done = 0, left = 0;
		rc = report(purchase_recover(ctx, &done, &left, &d), &d, "recover");
		fprintf(stderr, "purchasectl: recover: %d finished, %d left for later\n", done, left);
		if (rc == 0 && left > 0)
			rc = 3;
	} else if (strcmp(argv[i], "numbers") == 0 && i + 1 < argc &&
	           strcmp(argv[i + 1], "list") == 0) {
		const char *acct = option(argc, argv, i + 2, "--account");
		int64_t id = 0;
		if (acct != NULL && parse_id(acct, &id) != 0)
			usage();
		else
			rc = report(purchase_numbers_each(ctx, id, print_number, NULL, &d), &d,
			    "numbers list");
	} else if (strcmp(argv[i], "numbers") == 0 && i + 2 < argc &&
	           strcmp(argv[i + 1], "release") == 0) {
		int64_t id;
		if (parse_id(argv[i + 2], &id) != 0)
			usage();
		else if ((rc = report(purchase_number_release_any(ctx, id, &d), &d,
		              "numbers release")) == 0)
			fprintf(stderr, "purchasectl: number %lld will be released at the end of its "
			    "billing period\n", (long long)id);
	} else if (strcmp(argv[i], "webhooks") == 0 && i + 1 < argc &&
	           strcmp(argv[i + 1], "replay") == 0) {
		int n = 0;
		rc = report(purchase_webhooks_replay(ctx, &n, &d), &d, "webhooks replay");
		fprintf(stderr, "purchasectl: webhooks replay: %d new event%s\n", n, n == 1 ? "" : "s");
	} else if (strcmp(argv[i], "status") == 0) {
		rc = report(purchase_status(ctx, print_count, NULL, &d), &d, "status");
	} else if (strcmp(argv[i], "reconcile") == 0) {
		const char *age = option(argc, argv, i + 1, "--older-than");
		int n = 0, fixed = 0, k, repair = 0, bad;
		int64_t older = -1; /* no repair */

		for (k = i + 1; k < argc; k++)
			repair |= strcmp(argv[k], "--repair") == 0;
		bad = !repair && age != NULL;
		if (repair) {
			older = 3600;
			if (age != NULL && strcmp(age, "0") == 0)
				older = 0;
			else if (age != NULL)
				bad = parse_id(age, &older) != 0;
		}
		if (bad) {
			usage();
			purchase_ctx_free(ctx);
			return 2;
		}
		rc = report(purchase_reconcile_repair(ctx, print_diff, NULL, older, &n, &fixed, &d),
		    &d, "reconcile");
		fflush(stdout);
		if (repair)
			fprintf(stderr, "purchasectl: reconcile: %d repaired\n", fixed);
		fprintf(stderr, "purchasectl: reconcile: %d difference%s\n", n, n == 1 ? "" : "s");
		if (rc == 0 && n > 0)
			rc = 1;
		else if (rc != 0)
			rc = 2;
	} else {
		usage();
	}
	purchase_idle(ctx, 1);
	purchase_ctx_free(ctx);
	return rc;
}
