/*
 * purchase.h -- the public interface of libpurchase, the library behind the
 * phone-number purchase service: validation, pricing, billing (Stripe),
 * provisioning (Twilio), storage (SQLite) and recovery.
 *
 * The library never writes to stdout and never exits. It does own the
 * status table (lib/status.c): a purchase's answer is rendered when the
 * purchase ends -- possibly in `purchasectl recover`, with no web server --
 * and stored under the client's Idempotency-Key, so that a replay is byte
 * for byte what was (or would have been) sent.
 *
 * Conventions: functions return an enum purchase_err (PURCHASE_OK on
 * success); an optional caller-owned struct purchase_detail receives a
 * human-readable detail for logs (never for clients, never secrets). Every
 * _free() accepts NULL. A returned char * is the caller's to free(); a
 * returned const char * is borrowed from its owner.
 */
#ifndef PURCHASE_H
#define PURCHASE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library's one error enum. purchase_strerror() names each; the HTTP
 * status and client message for each live in the responder's status table
 * (cgi-bin/status.c). Never renumber: values are only compared, not stored. */
enum purchase_err {
	PURCHASE_OK = 0,
	PURCHASE_ENOMEM,            /* allocation failed */
	PURCHASE_EINVAL,            /* bad argument from the caller (a bug) */
	PURCHASE_ECONFIG,           /* configuration file missing or invalid */
	PURCHASE_EDB,               /* database error (I/O, full, corrupt) */
	PURCHASE_EBUSY,             /* database locked past busy_timeout */
	PURCHASE_ESCHEMA,           /* database schema missing or not current */
	PURCHASE_EAUTH,             /* missing, malformed, unknown or revoked key */
	PURCHASE_EBODY,             /* body not a JSON object; unknown/duplicate field */
	PURCHASE_EFIELD,            /* required field missing or of the wrong type */
	PURCHASE_EPHONE,            /* phone number is not valid E.164 */
	PURCHASE_EPARAM,            /* bad query parameter */
	PURCHASE_ENOPRICE,          /* no price for that country and number type */
	PURCHASE_EIDEMKEY,          /* malformed Idempotency-Key header */
	PURCHASE_EIDEM_BUSY,        /* same Idempotency-Key still in progress */
	PURCHASE_EIDEM_MISMATCH,    /* same Idempotency-Key, different request */
	PURCHASE_ERATE,             /* rate limit reached */
	PURCHASE_EIN_USE,           /* number owned, or being bought right now */
	PURCHASE_ENOT_AVAILABLE,    /* not offered, offer expired, carrier says gone */
	PURCHASE_ENO_PAYMENT_METHOD,/* customer has no default payment method */
	PURCHASE_EDECLINED,         /* the card was declined */
	PURCHASE_EPROVIDER,         /* purchase could not be completed or undone now */
	PURCHASE_ESEARCH,           /* carrier search failed */
	PURCHASE_ENOT_FOUND,        /* no such number for this account */
	PURCHASE_ERELEASE_PENDING,  /* number already scheduled for release */
	PURCHASE_ERELEASE,          /* release could not be scheduled */
	/* Transport-level conditions the responder detects itself; kept here so
	 * that one table maps every outcome to a status. */
	PURCHASE_ENO_ROUTE,         /* no such path */
	PURCHASE_EMETHOD,           /* method not allowed on this path */
	PURCHASE_ELENGTH,           /* body without Content-Length */
	PURCHASE_ETOO_LARGE,        /* body over the limit */
	PURCHASE_EMEDIA,            /* Content-Type is not application/json */
	PURCHASE_ELEASE,            /* purchase taken over by a newer worker */
	PURCHASE_EINTERNAL,         /* anything else: a bug or an unexpected state */
	/* The number's life (DESIGN §2.3); appended, so that no value moves. */
	PURCHASE_ENOT_SCHEDULED,    /* restore of a number whose release is not scheduled */
	PURCHASE_ERELEASED,         /* the number has been released already */
	PURCHASE_ERESTORE,          /* the restore could not be told to Stripe */
	PURCHASE_ENICKNAME_TYPE,    /* nickname neither a string nor null */
	PURCHASE_ENICKNAME_LONG,    /* nickname over 50 characters */
	PURCHASE_EPAGE,             /* bad page / per_page */
	PURCHASE_ESIGNATURE,        /* webhook signature missing, malformed, wrong or stale */
	PURCHASE_EOVERLOAD,         /* every purchase slot of the process is taken */
	PURCHASE_ERR__MAX
};

/* Short, stable, human-readable name of an error (for logs). Never NULL. */
const char *purchase_strerror(enum purchase_err err);

/* Optional detail for logs. text is always NUL-terminated. */
struct purchase_detail {
	char text[256];
};

/* The process-wide context: configuration, database connection (opened in
 * this process, so after any fork), the reusable HTTP handle. One per
 * process; not thread-safe. */
struct purchase_ctx;

/* A number as the API shows it (DESIGN §2.3). */
struct purchase_number {
	int64_t id;
	char phone_number[17];     /* E.164, "+" and up to 15 digits */
	char country_code[3];      /* ISO 3166-1 alpha-2 */
	char type[16];             /* "normal", "toll_free" or "mobile" */
	int sms_capable;
	char status[24];           /* "active", "past_due", "release_scheduled", "released" */
	int64_t price_cents;       /* monthly, USD cents */
	int64_t period_end;        /* subscription period end, Unix time; 0 unknown */
	int64_t created_at;        /* Unix time */
	char region[64];           /* the carrier's region of the number; "" none */
	char nickname[204];        /* UTF-8, at most 50 characters; "" none */
	int cancel_at_period_end;  /* a release at the period's end is scheduled */
};

/* A list of numbers: all of them, or one page (paged: page or per_page
 * was asked for). v is malloc'd (purchase_numbers_free). */
struct purchase_numbers {
	size_t n;
	struct purchase_number *v;
	int paged;
	int64_t page, per_page, total, last_page;
};
void purchase_numbers_free(struct purchase_numbers *list);

/* A reply ready for the client. body is malloc'd (the owner frees it with
 * purchase_reply_free). */
struct purchase_reply {
	int status;
	char *body;
	size_t len;
};

void purchase_reply_free(struct purchase_reply *reply);

/* The status table: for every error, the HTTP status, the stable snake_case
 * code and the exact client message (DESIGN §2). Never NULL. */
struct purchase_status {
	int http;
	const char *code;
	const char *message;
};
const struct purchase_status *purchase_status_of(enum purchase_err err);

/* Renders an outcome as the API answers it: for PURCHASE_OK with num, 201
 * {"message": ..., "data": {...}}; otherwise {"error": ..., "message": ...,
 * "code": ...} with the table's status. Deterministic: the same input
 * gives the same bytes (a stored reply is replayed as it was). ENOMEM on
 * failure: a body is never half built. */
enum purchase_err purchase_render(enum purchase_err outcome, const struct purchase_number *num,
    struct purchase_reply *out);

/* The other bodies of the API, each checked as purchase_render is (every
 * allocation, and the serialised text read back); out->status is set.
 * Search: 200 {"data": [offer, ...]}. */
struct purchase_offers;
enum purchase_err purchase_render_offers(const struct purchase_offers *offers,
    struct purchase_reply *out);
/* A number (DESIGN §2.3): GET {"data": number}; UPDATED (the PUT's short
 * "data"), RESTORED ({"message", "data": number}) and RELEASED ({"message"}),
 * all 200. */
enum purchase_render_as {
	PURCHASE_AS_NUMBER,
	PURCHASE_AS_UPDATED,
	PURCHASE_AS_RESTORED,
	PURCHASE_AS_RELEASED,
};
enum purchase_err purchase_render_number(const struct purchase_number *num,
    enum purchase_render_as as, struct purchase_reply *out);
/* 200 {"data": [number, ...]} (+ "current_page", "last_page", "per_page",
 * "total" when paged). */
enum purchase_err purchase_render_numbers(const struct purchase_numbers *list,
    struct purchase_reply *out);
/* GET /api/health: 200 {"status": "ok", "database": "ok"}, or 503 with the
 * error's name. */
enum purchase_err purchase_render_health(enum purchase_err health, struct purchase_reply *out);
/* The webhook's 200 {"received": true}. */
enum purchase_err purchase_render_received(struct purchase_reply *out);

/* Opens the context from the configuration file at config_path (NULL: the
 * PURCHASE_CONFIG environment variable, else SYSCONFDIR/purchase.conf) and
 * opens the database. Does not require the schema to exist (see
 * purchase_db_init). On success *out is the caller's (purchase_ctx_free).
 * Errors: ECONFIG, EDB, ENOMEM. */
enum purchase_err purchase_ctx_open(const char *config_path, struct purchase_ctx **out,
    struct purchase_detail *detail);
void purchase_ctx_free(struct purchase_ctx *ctx);

/* The configuration path the context was opened with (borrowed). */
const char *purchase_ctx_config_path(const struct purchase_ctx *ctx);

/* Sets the request id that log lines carry (copied; NULL clears). */
void purchase_ctx_set_request_id(struct purchase_ctx *ctx, const char *request_id);

/* Seconds a client should wait before retrying after the last ERATE of
 * this request (the rate window's reopening: Retry-After); 1 when there
 * is nothing better to say. The request id setter resets it. */
int purchase_retry_after(const struct purchase_ctx *ctx);

/* Writes one log line to stderr: "purchase[pid]: req=<id> <msg>". */
void purchase_log(struct purchase_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Checks that the database answers and its schema is current. Never calls a
 * provider. Errors: EDB, EBUSY, ESCHEMA. */
enum purchase_err purchase_health(struct purchase_ctx *ctx, struct purchase_detail *detail);

/* Resolves "Bearer <key>" (the whole Authorization header value, may be
 * NULL) to an account id. Every failure is PURCHASE_EAUTH (EDB/EBUSY aside),
 * whatever the cause, and costs the same time for unknown and wrong keys. */
enum purchase_err purchase_authenticate(struct purchase_ctx *ctx, const char *authorization,
    int64_t *account_id);

/* One offered number, as search returns it. */
struct purchase_offer {
	char phone_number[17];
	char phone_number_formatted[64];
	char country_code[3];
	int64_t price_cents;
	char stripe_price_id[256];
	char address_requirements[8]; /* none, local, foreign, any */
	int sms_capable;
};

struct purchase_offers {
	size_t n;
	struct purchase_offer *v;
};

void purchase_offers_free(struct purchase_offers *offers);

/* GET /api/user/phone-numbers/search: validates the raw query string
 * (country_code, contains, area_code, type, limit), asks the carrier, prices
 * every number and records each as an offer to the account (expiring after
 * offer_ttl_seconds). On success *out is the caller's.
 * Errors: EPARAM, ENOPRICE, ERATE, ESEARCH, EDB, EBUSY, ENOMEM. */
enum purchase_err purchase_search(struct purchase_ctx *ctx, int64_t account_id,
    const char *query, struct purchase_offers *out, struct purchase_detail *detail);

/* POST /api/user/phone-numbers/purchase. body/len is the raw request body;
 * idem_key the Idempotency-Key header or NULL. Runs check, claim, subscribe,
 * provision, pay, finish (DESIGN §3).
 *
 * Returns PURCHASE_OK when *reply holds the client's answer -- the outcome of
 * a purchase that was decided (201, or a failure being compensated),
 * rendered once and stored, or its byte-identical replay.
 * Otherwise returns the error to render (nothing stored): EBODY, EFIELD,
 * EPHONE, EIDEMKEY, EIDEM_BUSY, EIDEM_MISMATCH, ERATE, EIN_USE,
 * ENOT_AVAILABLE, ENO_PAYMENT_METHOD, EPROVIDER (left for recovery), EDB,
 * EBUSY, ENOMEM. */
enum purchase_err purchase_buy(struct purchase_ctx *ctx, int64_t account_id, const char *body,
    size_t len, const char *idem_key, struct purchase_reply *reply,
    struct purchase_detail *detail);

/* --- The number's life (DESIGN §2.3, §3a) ------------------------------ */

/* Which numbers a list shows: every one of the account's (GET
 * /api/user/phone-numbers/all), or Sondos' legacy list (GET
 * /api/user/phone-numbers: SMS-capable, not released). */
enum purchase_list {
	PURCHASE_LIST_ALL,
	PURCHASE_LIST_LEGACY,
};

/* The account's numbers, newest first; query is the raw query string
 * ("page", "per_page": 1-100, default 25; neither: all of them). Never
 * calls a provider. Errors: EPAGE, EDB, EBUSY, ENOMEM. */
enum purchase_err purchase_numbers_list(struct purchase_ctx *ctx, int64_t account_id,
    enum purchase_list which, const char *query, struct purchase_numbers *out,
    struct purchase_detail *detail);

/* The number id (the path's text: a positive integer) of the account.
 * ENOT_FOUND for an unknown id, another account's, or one that is not a
 * positive integer. Never calls a provider. */
enum purchase_err purchase_number_get(struct purchase_ctx *ctx, int64_t account_id,
    const char *id, struct purchase_number *out, struct purchase_detail *detail);

/* PUT: body {"nickname": "..."} (null or "" clears it; at most 50
 * characters); *out the number afterwards. Errors: ENOT_FOUND, EBODY,
 * ENICKNAME_TYPE, ENICKNAME_LONG, EDB, EBUSY. */
enum purchase_err purchase_number_rename(struct purchase_ctx *ctx, int64_t account_id,
    const char *id, const char *body, size_t len, struct purchase_number *out,
    struct purchase_detail *detail);

/* DELETE: the release at the end of the billing period (Stripe
 * cancel_at_period_end=true; the number works until then, and is released
 * at the carrier no later than release_margin_seconds before the period
 * ends). Errors: ENOT_FOUND, ERELEASE_PENDING (scheduled, or released),
 * ERELEASE (Stripe could not be told: nothing changed), EBUSY, EDB. */
enum purchase_err purchase_number_release(struct purchase_ctx *ctx, int64_t account_id,
    const char *id, struct purchase_detail *detail);

/* POST .../restore: undoes a scheduled release (cancel_at_period_end=
 * false); *out the number afterwards. Errors: ENOT_FOUND, ENOT_SCHEDULED,
 * ERELEASED, ERESTORE, EBUSY, EDB. */
enum purchase_err purchase_number_restore(struct purchase_ctx *ctx, int64_t account_id,
    const char *id, struct purchase_number *out, struct purchase_detail *detail);

/* Operator functions (purchasectl numbers): every number (account_id 0) or
 * one account's, oldest first, each to fn with its account; and the
 * release of any number by id, by the same path as DELETE. */
typedef void (*purchase_number_fn)(void *arg, int64_t account_id,
    const struct purchase_number *num);
enum purchase_err purchase_numbers_each(struct purchase_ctx *ctx, int64_t account_id,
    purchase_number_fn fn, void *arg, struct purchase_detail *detail);
enum purchase_err purchase_number_release_any(struct purchase_ctx *ctx, int64_t number_id,
    struct purchase_detail *detail);

/* POST /api/webhooks/stripe: body/len the raw body, signature the
 * Stripe-Signature header (may be NULL). Verified against
 * stripe_webhook_secret (one, or two comma-separated while one is rolled;
 * 300 s tolerance), the event id is recorded once -- durably, before the
 * 200 -- and its work (fetch the subscription or customer again and act on
 * what Stripe says now) is done after the reply, by purchase_idle() or
 * recovery. PURCHASE_OK for every verified event, duplicates and ignored
 * types included; ESIGNATURE (400); EBUSY, EDB, ENOMEM when it could not be
 * recorded (503: Stripe retries). */
enum purchase_err purchase_webhook(struct purchase_ctx *ctx, const char *body, size_t len,
    const char *signature, struct purchase_detail *detail);

/* Fetches the Stripe events newer than the newest one recorded (GET
 * /v1/events; all of the last 30 days when none is), records those not
 * seen, and does their work: for a webhook endpoint that was down.
 * *recorded counts the new ones. Errors: EPROVIDER, EDB, EBUSY, ENOMEM. */
enum purchase_err purchase_webhooks_replay(struct purchase_ctx *ctx, int *recorded,
    struct purchase_detail *detail);

/* Drives every purchase whose lease has expired to a terminal state: a paid
 * one forward (deliver), any other backward (compensate); and the numbers'
 * lives: releases that are due (release_margin_seconds before a scheduled
 * period end, or a subscription that ended), periods that ended without a
 * word from Stripe (asked again), webhook events not yet worked on. *done
 * counts what was finished. Errors: EDB, EBUSY; provider trouble leaves
 * work for the next run and is counted in *left. */
enum purchase_err purchase_recover(struct purchase_ctx *ctx, int *done, int *left,
    struct purchase_detail *detail);

/* Upkeep that belongs after a reply, not before it: copies the database's
 * write-ahead log into the database file once it has grown past its
 * threshold (a checkpoint: two fsyncs every few dozen purchases). Call it
 * once the answer has left (FastCGI: after FCGX_Finish; CGI: after stdout
 * is closed). last: the process exits next (plain CGI, a command). The
 * next process to open the database is then likely the first connection,
 * which reads the whole WAL to rebuild its index: the WAL is emptied
 * (checkpoint, truncate) from a quarter of the threshold on. Cheap when
 * there is nothing to do. */
void purchase_idle(struct purchase_ctx *ctx, int last);

/* Receives one difference found by purchase_reconcile: kind is one of
 * paid_without_number, charged_without_number, number_without_payment,
 * duplicate, orphan_subscription, orphan_number, unfinished,
 * released_number_owned, released_number_billed, release_flag_mismatch;
 * or "repaired" for what purchase_reconcile_repair undid; detail says
 * which objects (no secrets). */
typedef void (*purchase_diff_fn)(void *arg, const char *kind, const char *detail);

/* Compares our rows with Stripe's subscriptions and Twilio's numbers (their
 * list APIs) and reports every difference; *ndiff counts them. Changes
 * nothing. Errors: EPROVIDER (a list could not be read), EDB, ENOMEM. */
enum purchase_err purchase_reconcile(struct purchase_ctx *ctx, purchase_diff_fn fn, void *arg,
    int *ndiff, struct purchase_detail *detail);

/* The same, and undoes what a purchase lost with its row (a power cut
 * before the purchase's first synced commit) left at the providers, for
 * objects at least older_than seconds old: an incomplete subscription whose
 * metadata names a nonce no purchase of ours has is cancelled; a number
 * whose FriendlyName is such a nonce's tag is released, unless a
 * subscription of that nonce bills or was paid. Each undone object is
 * reported as kind "repaired" and counted in *nrepaired, not in *ndiff.
 * Presumes this database is the only one selling from these accounts. */
enum purchase_err purchase_reconcile_repair(struct purchase_ctx *ctx, purchase_diff_fn fn,
    void *arg, int64_t older_than, int *ndiff, int *nrepaired, struct purchase_detail *detail);

/* --- Operator functions (purchasectl) --------------------------------- */

/* Creates or migrates the schema to the current version. */
enum purchase_err purchase_db_init(struct purchase_ctx *ctx, struct purchase_detail *detail);

/* Receives the rows copied of each table by purchase_db_copy. */
typedef void (*purchase_copy_fn)(void *arg, const char *table, int64_t rows);

/* Copies the configured database (an SQLite file at the current schema
 * version) into the PostgreSQL database named by the libpq URI to, which
 * must be empty (given its schema if it has none): every table in one
 * transaction, the rows counted on both sides; fn (may be NULL) told each
 * table's count. Nothing is written to either on failure. The source is
 * held against writers meanwhile: stop the service first. Errors: EINVAL
 * (not SQLite to PostgreSQL, or the target not empty), ESCHEMA, EDB,
 * EBUSY. */
enum purchase_err purchase_db_copy(struct purchase_ctx *ctx, const char *to,
    purchase_copy_fn fn, void *arg, struct purchase_detail *detail);

/* Loads the price list (SQL file of INSERTs into prices, see sql/prices.sql)
 * replacing the current one, in one transaction. */
enum purchase_err purchase_prices_load(struct purchase_ctx *ctx, const char *path,
    struct purchase_detail *detail);

/* Creates an account; *id receives its id. stripe_customer must look like
 * "cus_...". Errors: EINVAL, EDB, EBUSY. */
enum purchase_err purchase_account_create(struct purchase_ctx *ctx, const char *name,
    const char *stripe_customer, int64_t *id, struct purchase_detail *detail);

/* Issues an API key for the account. *key (malloc'd, caller frees) is the
 * only copy ever shown; the database keeps its prefix and SHA-256 hash.
 * Errors: ENOT_FOUND (no such account), EDB, EBUSY, ENOMEM. */
enum purchase_err purchase_key_create(struct purchase_ctx *ctx, int64_t account_id, char **key,
    struct purchase_detail *detail);

/* Receives one count of purchase_status: what is "purchases" (key: a
 * state) or "numbers" (key: a status). */
typedef void (*purchase_count_fn)(void *arg, const char *what, const char *key, int64_t n);

/* Counts purchases per state and numbers per status (for purchasectl
 * status and monitoring). Read only. Errors: ESCHEMA, EDB, EBUSY. */
enum purchase_err purchase_status(struct purchase_ctx *ctx, purchase_count_fn fn, void *arg,
    struct purchase_detail *detail);

/* Revokes a key given either the whole key or its public prefix.
 * Errors: ENOT_FOUND, EDB, EBUSY. */
enum purchase_err purchase_key_revoke(struct purchase_ctx *ctx, const char *key_or_prefix,
    struct purchase_detail *detail);

#ifdef __cplusplus
}
#endif
#endif /* PURCHASE_H */
