/*
 * store.h -- the one module that holds SQL, on an SQLite file or a
 * PostgreSQL server (database = postgresql://...: store-pg.c; several nodes
 * on one database): every statement the service runs is in store.c, one
 * text for both where they agree, prepared once per connection and reused,
 * with bound values only. Writes are small transactions (BEGIN IMMEDIATE on
 * SQLite); no transaction is ever held across a provider call (the caller
 * cannot: no function here leaves one open). store-copy.c moves an SQLite
 * database to PostgreSQL. A store takes a connection from its process's
 * pool for the database (at most 16) when it first needs one and
 * gives it back at pur_store_reads_done: a thread waiting on a provider
 * holds none.
 */
#ifndef PUR_STORE_H
#define PUR_STORE_H

#include <stdint.h>

#include "purchase.h"

#define PUR_SCHEMA_VERSION 4
#define PUR_ID_MAX 256

struct pur_store;

/* Opens (creating if needed) the database: a store on the process's pool
 * of connections to that path, holding one of them now (so that a file that
 * cannot be opened is told here). *out is the caller's, for one thread at a
 * time. EDB, ENOMEM; EBUSY when all 16 stay lent for busy_timeout_ms. */
enum purchase_err pur_store_open(const char *path, long busy_timeout_ms,
    struct pur_store **out, struct purchase_detail *detail);
void pur_store_close(struct pur_store *s);

/* A read transaction around several lookups: on SQLite the shared lock
 * taken and dropped once rather than by each statement. Begun when one is
 * open, it joins it (the key's lookup, then the purchase's checks); a
 * write transaction ends it first. On PostgreSQL, which has no such lock,
 * pur_store_read_begin opens no transaction (each lookup is a check that
 * the claim makes again: two round trips fewer); pur_store_snapshot_begin
 * is for reads that must agree (a page and its count): one snapshot on
 * both. pur_store_reads_done (arg: the store) ends it if open and gives
 * the connection back to the pool: called before every provider call and
 * at the end of a request. */
enum purchase_err pur_store_read_begin(struct pur_store *s);
enum purchase_err pur_store_snapshot_begin(struct pur_store *s);
void pur_store_read_end(struct pur_store *s);
void pur_store_reads_done(void *store);

/* A WAL checkpoint if the log has grown past its threshold: for after a
 * reply, off the request's path (two fsyncs). last: this process exits
 * next; a lower threshold, and the WAL is truncated (purchase_idle). */
void pur_store_checkpoint(struct pur_store *s, int last);

/* Seconds to add to this machine's clock to read the database's: 0 for an
 * SQLite file; for a PostgreSQL server, measured at each new connection,
 * so that the leases, offers and times of several nodes are on one clock
 * (pur_now adds it). */
int64_t pur_store_clock_offset(void);

/* PRAGMA user_version. */
enum purchase_err pur_store_schema_version(struct pur_store *s, int *version);
/* Applies the embedded schema to an empty database (version 0); no-op at the
 * current version; ESCHEMA for a newer or unknown one. */
enum purchase_err pur_store_migrate(struct pur_store *s, struct purchase_detail *detail);
/* purchasectl migrate (store-copy.c): the SQLite file from copied into the
 * empty PostgreSQL database to, in one transaction; see purchase_db_copy. */
enum purchase_err pur_store_copy(const char *from, const char *to, long busy_timeout_ms,
    purchase_copy_fn each, void *arg, struct purchase_detail *detail);
/* Runs a price-list script in one transaction: DELETE FROM prices, then the
 * script, which may only INSERT INTO prices (an authorizer enforces it). */
enum purchase_err pur_store_load_prices(struct pur_store *s, const char *sql,
    struct purchase_detail *detail);

/* --- accounts and keys --- */
struct pur_account {
	int64_t id;
	char name[201];
	char stripe_customer[PUR_ID_MAX];
};

enum purchase_err pur_store_account_insert(struct pur_store *s, const char *name,
    const char *stripe_customer, int64_t now, int64_t *id);
/* ENOT_FOUND when absent. */
enum purchase_err pur_store_account_get(struct pur_store *s, int64_t id, struct pur_account *out);
enum purchase_err pur_store_key_insert(struct pur_store *s, int64_t account_id,
    const char *prefix, const char *hash_hex, int64_t now);
/* Live (not revoked) key by prefix: ENOT_FOUND when none. */
enum purchase_err pur_store_key_lookup(struct pur_store *s, const char *prefix,
    int64_t *account_id, char hash_hex[65]);
/* ENOT_FOUND when no live key has that prefix. */
enum purchase_err pur_store_key_revoke(struct pur_store *s, const char *prefix, int64_t now);

/* --- prices and offers --- */
/* ENOPRICE when there is none. */
enum purchase_err pur_store_price_get(struct pur_store *s, const char *country,
    const char *type, int64_t *cents, char price_id[PUR_ID_MAX]);

struct pur_offer_row {
	char phone_number[17];
	char country_code[3];
	char type[16];              /* search type: local, toll_free, mobile */
	int64_t price_cents;
	char stripe_price_id[PUR_ID_MAX];
	int sms_capable;
	char region[64];
	int64_t expires_at;
};

/* ERATE when the account's search window (60 s) already holds limit
 * searches (limit 0: no limit), with *retry_after the seconds until it
 * starts over. Read only. */
enum purchase_err pur_store_search_rate_check(struct pur_store *s, int64_t account_id,
    long limit, int64_t now, int64_t *retry_after);
/* Records the offers (replacing older ones of the same numbers), counts the
 * search in the rate window, and prunes a few expired offers: one
 * transaction. */
enum purchase_err pur_store_offers_put(struct pur_store *s, int64_t account_id,
    const struct pur_offer_row *rows, size_t n, int64_t now);
/* The unexpired offer of that number to the account: ENOT_AVAILABLE when
 * none. */
enum purchase_err pur_store_offer_get(struct pur_store *s, int64_t account_id,
    const char *e164, int64_t now, struct pur_offer_row *out);

/* --- purchases --- */

/* The states of a purchase (DESIGN §3, §3a): the database keeps their
 * names (pur_state_name) under a CHECK; the flow that moves between them
 * is the table in purchase.c.
 *
 *   pending -> subscribed -> provisioned -> (paid) -> complete
 *   (refused) -> voiding -> compensating -> failed
 *   complete -> releasing -> released                              */
enum pur_state {
	PUR_PENDING,      /* claimed; no subscription recorded */
	PUR_SUBSCRIBED,   /* subscription (incomplete, unpaid) recorded */
	PUR_PROVISIONED,  /* number bought at the carrier */
	PUR_PAID,         /* invoice paid: never stored on its own (the finish is) */
	PUR_COMPLETE,     /* delivered: the number is the account's */
	PUR_VOIDING,      /* refused; making payment impossible before undoing */
	PUR_COMPENSATING, /* refused, the money settled; undoing the rest */
	PUR_FAILED,       /* refused and undone */
	PUR_RELEASING,    /* the number's subscription ended: releasing it */
	PUR_RELEASED,     /* released at the carrier */
	PUR_STATE__MAX
};

/* Why a refused purchase was refused: the answer it gives. */
enum pur_outcome {
	PUR_OUT_NONE,
	PUR_OUT_NOT_AVAILABLE,
	PUR_OUT_DECLINED,
	PUR_OUT_NO_PAYMENT_METHOD,
	PUR_OUT_PROVIDER,
	PUR_OUTCOME__MAX
};

/* The database's name of a state / outcome ("" for PUR_OUT_NONE). */
const char *pur_state_name(enum pur_state st);
const char *pur_outcome_name(enum pur_outcome o);
/* 1 for a state that needs no more work (complete, failed, released). */
int pur_state_at_rest(enum pur_state st);

#define PUR_NONCE_LEN 32 /* hex characters: 128 random bits */

struct pur_purchase {
	int64_t id;
	int64_t account_id;
	char nonce[PUR_NONCE_LEN + 1]; /* "" for purchases made before schema 2 */
	char phone_number[17];
	char country_code[3];
	char type[16];
	int64_t price_cents;
	char stripe_price_id[PUR_ID_MAX];
	int sms_capable;
	char region[64];
	char stripe_customer[PUR_ID_MAX];
	char payment_method[PUR_ID_MAX];
	enum pur_state state;
	enum pur_outcome outcome;
	char subscription_id[PUR_ID_MAX];
	char invoice_id[PUR_ID_MAX];
	char number_sid[40];
	int64_t period_end;
	int64_t lease_token;
	int64_t lease_until;
	/* No provider request of an earlier holder of the lease, nor an
	 * unanswered one of this holder, can still land after this time. */
	int64_t settle_at;
	int64_t created_at;
	/* Claimed without an Idempotency-Key, by this process: no record to
	 * store its answer in (0: there may be one -- a purchase read back). */
	int no_idem;
};

/* Purchases created by the account since a time (for its rate limit), and
 * when the oldest of them was (0 when none). */
enum purchase_err pur_store_purchase_count_since(struct pur_store *s, int64_t account_id,
    int64_t since, long *count, int64_t *oldest);

/* A purchase's checks, in DESIGN §3's order, in one read: EIN_USE when the
 * number has a live purchase (an unreleased number is its purchase's),
 * ENOT_AVAILABLE without an unexpired offer of it to the account,
 * ENOT_FOUND without the account; else the offer and the account. */
enum purchase_err pur_store_purchase_checks(struct pur_store *s, int64_t account_id,
    const char *e164, int64_t now, struct pur_offer_row *offer, struct pur_account *acct);

struct pur_idem {
	char request_hash[65];
	int64_t purchase_id;
	int status;      /* 0 while in progress */
	char *body;      /* malloc'd when status != 0 */
	size_t len;
};
void pur_idem_free(struct pur_idem *i);

/* The record of (account, key): ENOT_FOUND when none. */
enum purchase_err pur_store_idem_get(struct pur_store *s, int64_t account_id, const char *key,
    struct pur_idem *out);

/* The claim (DESIGN §3 step 2), one BEGIN IMMEDIATE transaction: when key is
 * set and already recorded, returns EIDEM_BUSY with *idem filled (the caller
 * decides between replay, 409 and 422); when the number is in use (an
 * unreleased number, or the partial unique index refusing a second live
 * purchase), EIN_USE; else inserts the purchase (state pending, lease token
 * 1 until lease_until, p->nonce) and the idempotency record, and fills
 * p->id and p->lease_token. */
enum purchase_err pur_store_claim(struct pur_store *s, struct pur_purchase *p,
    const char *key, const char *request_hash, int64_t now, struct pur_idem *idem);

/* *known: whether a purchase (in any state) has this nonce. */
enum purchase_err pur_store_nonce_known(struct pur_store *s, const char *nonce, int *known);
enum purchase_err pur_store_purchase_get(struct pur_store *s, int64_t id,
    struct pur_purchase *out);

/* Writes p's state and provider ids, extends its lease to lease_until,
 * provided p->lease_token still holds the lease (else ELEASE: someone
 * newer took over; the caller must stop); in the same transaction, stores
 * reply (when not NULL) on the purchase's idempotency record. The commit is
 * fsynced (synchronous=FULL) when durable is set or a reply is stored; else
 * it survives a crash of the process but maybe not of the machine. */
enum purchase_err pur_store_purchase_save(struct pur_store *s, const struct pur_purchase *p,
    int64_t now, int64_t lease_until, const struct purchase_reply *reply, int durable);

/* Takes the lease of purchase id if it is unfinished and its lease has
 * expired: bumps the token, sets lease_until, moves settle_at to at least
 * the old lease's end + settle (what the last holder may have sent is given
 * that long to land), and fills *p. EIDEM_BUSY when another holder's lease
 * is still running; ENOT_FOUND when the purchase is at rest or absent. */
enum purchase_err pur_store_purchase_lease(struct pur_store *s, int64_t id, int64_t now,
    int64_t lease_until, int64_t settle, struct pur_purchase *p);

/* Ends a purchase, fenced by its token (ELEASE), in one transaction: state
 * complete and the number row created -- its id is the purchase's -- when
 * num is given, else state failed; and reply (when not NULL) stored on its
 * idempotency record. Synced when durable is set. */
enum purchase_err pur_store_purchase_end(struct pur_store *s, struct pur_purchase *p,
    const struct purchase_number *num, const struct purchase_reply *reply, int64_t now,
    int durable);

/* A purchase under way moves on (pending -> subscribed -> provisioned,
 * voiding -> compensating): its state, provider ids, payment method and
 * settle_at, fenced by its token (ELEASE). Its lease is not touched, nor
 * any index entry: one row written. Synced when durable is set. */
enum purchase_err pur_store_purchase_progress(struct pur_store *s,
    const struct pur_purchase *p, int64_t now, int durable);

/* Ids of unfinished purchases whose lease expired before now (at most max). */
enum purchase_err pur_store_purchases_stale(struct pur_store *s, int64_t now, int64_t *ids,
    size_t max, size_t *n);

/* Takes back a claim that never reached a provider that changes anything
 * (fenced by its token): the purchase row and its Idempotency-Key record
 * are deleted, so that the check phase wrote nothing in the end (DESIGN
 * §3: the payment-method check is one of the checks) and a retry with the
 * key is judged afresh (e.g. once a payment method was added). */
enum purchase_err pur_store_purchase_abandon(struct pur_store *s, struct pur_purchase *p,
    int64_t now);

/* Calls fn with the count of purchases per state and of numbers per
 * status (what = "purchases" or "numbers"). */
enum purchase_err pur_store_counts(struct pur_store *s,
    void (*fn)(void *arg, const char *what, const char *key, int64_t n), void *arg);

/* --- numbers (DESIGN §2.3): the delivered numbers and their lives --- */

struct pur_number {
	int64_t id;                  /* = its purchase's id */
	int64_t account_id;
	int64_t purchase_id;
	char phone_number[17];
	char country_code[3];
	char type[16];               /* normal, toll_free, mobile */
	char region[64];
	int sms_capable;
	int64_t price_cents;
	char status[24];             /* active, past_due, release_scheduled, released */
	char nickname[204];
	char subscription_id[PUR_ID_MAX];
	char number_sid[40];
	int64_t period_end;
	int cancel_at_period_end;
	char release_reason[32];
	int64_t released_at;
	int64_t created_at;
};

/* An account's numbers, newest first (legacy: SMS-capable and not
 * released only); limit -1 for all. *v is malloc'd (free), *n its count. */
enum purchase_err pur_store_numbers_list(struct pur_store *s, int64_t account_id, int legacy,
    int64_t limit, int64_t offset, struct pur_number **v, size_t *n);
enum purchase_err pur_store_numbers_count(struct pur_store *s, int64_t account_id, int legacy,
    int64_t *total);
/* The number of the account (0: any account's). ENOT_FOUND. */
enum purchase_err pur_store_number_get(struct pur_store *s, int64_t account_id, int64_t id,
    struct pur_number *out);
/* Sets (nickname "" clears) the nickname. ENOT_FOUND. Not synced: a lost
 * rename costs the client a retry. */
enum purchase_err pur_store_number_rename(struct pur_store *s, int64_t account_id, int64_t id,
    const char *nickname, int64_t now);
/* Takes the lease of a delivered number's purchase (state complete) for
 * work on its life: bumps the token, fills *p and *n. EIDEM_BUSY while
 * another holds it; ENOT_FOUND when it is not complete (releasing, or
 * released: the release machine owns it) or absent. */
enum purchase_err pur_store_number_take(struct pur_store *s, int64_t purchase_id, int64_t now,
    int64_t lease_until, struct pur_purchase *p, struct pur_number *n);
/* Writes what the number's life came to, fenced by p's token (ELEASE): the
 * number's status, period end, flag and release reason, and the purchase's
 * state (complete, or releasing), payment method and lease_until. Synced
 * when durable is set. */
enum purchase_err pur_store_number_save(struct pur_store *s, const struct pur_purchase *p,
    const struct pur_number *n, int64_t now, int64_t lease_until, int durable);
/* The release done at the carrier: the purchase released, the number
 * released (with reason, unless one is set already) at now, fenced. Synced. */
enum purchase_err pur_store_number_released(struct pur_store *s, struct pur_purchase *p,
    const char *reason, int64_t now);
/* Purchase ids (at most max) of delivered numbers whose life needs a look
 * now: a scheduled release within margin of its period's end, or a period
 * that has ended; not leased. */
enum purchase_err pur_store_numbers_due(struct pur_store *s, int64_t now, int64_t margin,
    int64_t *ids, size_t max, size_t *n);
/* Purchase ids of the live numbers of the accounts of a Stripe customer. */
enum purchase_err pur_store_numbers_of_customer(struct pur_store *s, const char *customer,
    int64_t *ids, size_t max, size_t *n);
/* Calls fn for every number (account_id 0) or an account's, oldest first;
 * stops when fn returns non-zero. */
enum purchase_err pur_store_numbers_all(struct pur_store *s, int64_t account_id,
    int (*fn)(void *arg, const struct pur_number *n), void *arg);

/* --- Stripe events (webhooks, replay) --- */
struct pur_event {
	char id[PUR_ID_MAX];
	char type[64];
	char object_id[PUR_ID_MAX];
	int64_t created;
};
/* Records an event id once, synced (the 200 follows): *dup is 1 when it
 * was recorded before (nothing written), 2 when so but its work is not done
 * yet. done: nothing to do for it (a type we ignore). */
enum purchase_err pur_store_event_record(struct pur_store *s, const struct pur_event *e,
    int64_t now, int done, int *dup);
/* Takes the lease of the oldest event whose work is not done: ENOT_FOUND
 * when there is none. */
enum purchase_err pur_store_event_take(struct pur_store *s, int64_t now, int64_t lease_until,
    struct pur_event *out);
/* The event's work done; or left for another try at retry_at. */
enum purchase_err pur_store_event_done(struct pur_store *s, const char *id, int64_t now);
enum purchase_err pur_store_event_again(struct pur_store *s, const char *id, int64_t retry_at);
/* The id of the newest event recorded (Stripe's created). ENOT_FOUND. */
enum purchase_err pur_store_event_newest(struct pur_store *s, char id[PUR_ID_MAX]);

/* Calls fn for every purchase not at rest. */
enum purchase_err pur_store_unfinished_each(struct pur_store *s,
    int (*fn)(void *arg, int64_t id, const char *e164, const char *state, int64_t lease_until),
    void *arg);

#endif
