/*
 * config.h -- purchase.conf: "key = value" lines, "#" comments (DESIGN §4).
 * Unknown keys and malformed lines are errors: a typo in a billing service's
 * configuration must stop it, not be ignored.
 */
#ifndef PUR_CONFIG_H
#define PUR_CONFIG_H

#include "purchase.h"

struct pur_config {
	char *path;                 /* the file it came from */
	char *database;             /* SQLite file */
	char *stripe_api_base;      /* default https://api.stripe.com */
	char *stripe_secret_key;
	char *stripe_webhook_secret;
	char *twilio_api_base;      /* default https://api.twilio.com */
	char *twilio_account_sid;
	char *twilio_auth_token;
	long offer_ttl_seconds;     /* default 3600 */
	long provider_timeout_ms;   /* total per provider call, default 8000 */
	long provider_connect_timeout_ms; /* default 3000 */
	long busy_timeout_ms;       /* SQLite busy_timeout, default 2000 */
	long lease_seconds;         /* purchase lease, default 60 */
	long purchase_rate_per_minute; /* per account, 0 = unlimited; default 30 */
	long search_rate_per_minute;   /* per account, 0 = unlimited; default 120 */
	long release_margin_seconds;   /* release at the carrier this long before the
	                                  period ends; default 3600 */
};

/* Reads and validates the file. On success *out is the caller's
 * (pur_config_free). Errors: ECONFIG (with the line in detail), ENOMEM. */
enum purchase_err pur_config_load(const char *path, struct pur_config **out,
    struct purchase_detail *detail);
/* Parses configuration text (for tests); path only names it in messages. */
enum purchase_err pur_config_parse(const char *text, const char *path, struct pur_config **out,
    struct purchase_detail *detail);
void pur_config_free(struct pur_config *c);

/* 1 when base is https://, or http:// to a loopback host (the sandbox). */
int pur_config_base_ok(const char *base);

#endif
