/*
 * sandbox.h -- internal interfaces of sandbox.fcgi, the stateful stand-in
 * for the parts of the Stripe and Twilio HTTP APIs the service uses
 * (DESIGN.md section 6).  Nothing here is installed.
 *
 * Layout (one job per file):
 *   main.c     FastCGI/CGI loop, request reading, response writing
 *   route.c    path -> operation table, auth, faults, idempotency, transaction
 *   auth.c     Bearer / HTTP Basic credential checks
 *   form.c     x-www-form-urlencoded and query-string decoding
 *   idem.c     Stripe Idempotency-Key store
 *   db.c       SQLite connection, schema, prepared-statement table
 *   ids.c      random object ids
 *   stripe.c   Stripe customers, payment methods, card sources, errors
 *   billing.c  Stripe subscriptions and invoices; the billing run
 *   events.c   Stripe events: recording, GET /v1/events
 *   webhooks.c webhook endpoint, signed deliveries (the only libcurl user)
 *   hmac.c     SHA-256 / HMAC-SHA256 for webhook signatures (pure)
 *   clock.c    the sandbox clock (real time + an offset) and its endpoint
 *   numbers.c  the deterministic Twilio number inventory (pure)
 *   twilio.c   Twilio AvailablePhoneNumbers / IncomingPhoneNumbers
 *   control.c  /_sandbox/ endpoints: faults, ledger, reset, taken, prices
 *
 * Handler modules use the statement handles from db.c directly (so they
 * include <sqlite3.h>); all SQL text lives in db.c's statement table.  This
 * bends the "one module per library" rule on purpose: the sandbox is a test
 * double whose handlers are thin row <-> JSON mappings, and a typed store
 * layer would double its size without making it safer.
 */
#ifndef SANDBOX_H
#define SANDBOX_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#define SB_MAX_BODY (1024u * 1024u) /* request body ceiling */
#define SB_MAX_PATH 2048u
#define SB_ID_MAX 64u      /* object ids, phone numbers, keys we store */
#define SB_MAX_SEGS 3
#define SB_SEG_MAX 256u

/* Billing constants (billing.c; control.c's header has the schedule).
 * A "month" is 30 days, for Stripe's periods and the carrier's bill. */
#define SB_PERIOD_SECONDS (30LL * 86400)
#define SB_INCOMPLETE_SECONDS (23LL * 3600) /* incomplete -> incomplete_expired */
#define SB_RETRY_SECONDS (3LL * 86400)      /* between payment attempts */
#define SB_RETRY_ATTEMPTS 4                 /* attempts in all, then canceled */
#define SB_API_VERSION "2023-08-16"

/* Configuration, read once from the environment. */
struct sb_config {
	const char *db_path;
	const char *stripe_key;
	const char *twilio_sid;
	const char *twilio_token;
};

enum sb_vendor { SB_VENDOR_NONE, SB_VENDOR_STRIPE, SB_VENDOR_TWILIO, SB_VENDOR_CONTROL };

/* One name per vendor endpoint; names are the fault/ledger op names. */
enum sb_op {
	SB_OP_CUSTOMER_CREATE,
	SB_OP_CUSTOMER_GET,
	SB_OP_CUSTOMER_UPDATE,
	SB_OP_PAYMENT_METHOD_ATTACH,
	SB_OP_SUBSCRIPTION_CREATE,
	SB_OP_SUBSCRIPTION_GET,
	SB_OP_SUBSCRIPTION_LIST,
	SB_OP_SUBSCRIPTION_SEARCH,
	SB_OP_SUBSCRIPTION_UPDATE,
	SB_OP_SUBSCRIPTION_CANCEL,
	SB_OP_INVOICE_GET,
	SB_OP_INVOICE_PAY,
	SB_OP_INVOICE_VOID,
	SB_OP_SOURCE_CREATE,
	SB_OP_EVENT_LIST,
	SB_OP_EVENT_GET,
	SB_OP_NUMBERS_AVAILABLE,
	SB_OP_NUMBER_BUY,
	SB_OP_NUMBER_LIST,
	SB_OP_NUMBER_RELEASE,
	SB_OP__MAX
};

/* Returns the op's name ("customer_create"), or NULL. */
const char *sb_op_name(enum sb_op op);
/* Returns the op for a name, or SB_OP__MAX. */
enum sb_op sb_op_lookup(const char *name);

enum sb_fault_kind {
	SB_FAULT_NONE,
	SB_FAULT_TIMEOUT_BEFORE,
	SB_FAULT_TIMEOUT_AFTER,
	SB_FAULT_500,
	SB_FAULT_500_AFTER,
	SB_FAULT_429,
	SB_FAULT_MALFORMED,
	SB_FAULT_HUGE,
	SB_FAULT_DELAY,
	SB_FAULT_FOREIGN, /* numbers_available only: a foreign and a non-E.164 entry */
	SB_FAULT__MAX
};

struct sb_fault {
	enum sb_fault_kind kind;
	long delay_ms;
};

/* A decoded x-www-form-urlencoded body or query string. */
struct sb_pair {
	char *key;
	char *val;
};
struct sb_form {
	size_t n;
	struct sb_pair *pairs;
};

/* The request as read from the server.  Strings are borrowed from the
 * FastCGI environment (valid until FCGX_Finish_r) except path and body. */
struct sb_request {
	const char *method;
	char path[SB_MAX_PATH]; /* REQUEST_URI without the query, not decoded */
	const char *query;      /* QUERY_STRING, never NULL */
	const char *content_type;
	const char *authorization;
	const char *idem_key; /* Idempotency-Key, or NULL */
	char *body;           /* owned, NUL-terminated, body_len bytes */
	size_t body_len;
};

/* The response handed back to main.c.  body is owned (malloc). */
struct sb_response {
	int status;
	int replayed;    /* emit Idempotent-Replayed: true */
	int retry_after; /* seconds; 0 = no header */
	enum sb_vendor vendor;
	char request_id[40];
	int www_auth;    /* emit WWW-Authenticate (Twilio 401) */
	char idem_key[256]; /* echoed Idempotency-Key, "" = none */
	char *body;
	size_t body_len;
};

/* Per-request handler context. */
struct sb_ctx {
	const struct sb_config *cfg;
	const struct sb_request *req;
	struct sb_form form; /* parameters: the body for POST, else the query */
	char seg[SB_MAX_SEGS][SB_SEG_MAX]; /* captured path segments */
	const char *request_id; /* the reply's Request-Id (events' request.id) */
	enum sb_fault_kind fault; /* the fault consumed for this request */
	int status;           /* handler result */
	json_object *json;    /* handler result body, owned; NULL = empty */
	int no_store;         /* don't save this reply under an idempotency key */
};

/* A handler fills c->status and c->json.  Returns 0, or -1 on an internal
 * (database) failure, in which case the transaction is rolled back and a
 * 500 is sent. */
typedef int (*sb_handler)(struct sb_ctx *c);

/* main.c / route.c */
/* Set by SIGTERM: fault sleeps and webhook deliveries stop early, the
 * accept loop ends after the request in flight. */
extern volatile sig_atomic_t sb_stopping;
void sb_route_handle(const struct sb_config *cfg, const struct sb_request *req,
		     struct sb_response *resp);

/* auth.c */
int sb_auth_bearer(const char *header, const char *key);
int sb_auth_basic(const char *header, const char *user, const char *pass);
/* Fills out (size n) with a masked copy of the presented Bearer key. */
void sb_auth_mask_bearer(const char *header, char *out, size_t n);

/* form.c: decode; returns 0, or -1 on malformed input or over limits. */
int sb_form_parse(struct sb_form *f, const char *s, size_t len);
void sb_form_free(struct sb_form *f);
/* First value for exactly this key, or NULL (borrowed). */
const char *sb_form_get(const struct sb_form *f, const char *key);
/* Canonicalises "expand[0]" etc.: 1 if key is name[] or name[N]. */
int sb_form_is_array_key(const char *key, const char *name);
/* If key is "prefix[inner]" returns inner (borrowed, unterminated) and its
 * length; else NULL. */
const char *sb_form_bracket(const char *key, const char *prefix, size_t *len);

/* db.c */
enum sb_stmt {
	SB_ST_CALL_INC,
	SB_ST_CALL_EFFECT_INC,
	SB_ST_EFFECT_INC,
	SB_ST_FAULT_FIRST,
	SB_ST_FAULT_DEC,
	SB_ST_FAULT_DEL,
	SB_ST_FAULT_INS,
	SB_ST_FAULT_CLEAR,
	SB_ST_IDEM_GET,
	SB_ST_IDEM_PUT,
	SB_ST_CLOCK_GET,
	SB_ST_CLOCK_PUT,
	SB_ST_CUS_INS,
	SB_ST_CUS_GET,
	SB_ST_CUS_SET_PM,
	SB_ST_CUS_SET_SOURCE,
	SB_ST_PM_INS,
	SB_ST_PM_GET,
	SB_ST_PM_SET_CUS,
	SB_ST_PRICE_GET,
	SB_ST_PRICE_PUT,
	SB_ST_SUB_INS,
	SB_ST_SUB_GET,
	SB_ST_SUB_LIST,
	SB_ST_SUB_LIST_CUS,
	SB_ST_SUB_SET_STATUS,
	SB_ST_SUB_END,
	SB_ST_SUB_SET_CAPE,
	SB_ST_SUB_SET_PM,
	SB_ST_SUB_SET_SOURCE,
	SB_ST_SUB_RENEW,
	SB_ST_META_PUT,
	SB_ST_META_DEL,
	SB_ST_META_LIST,
	SB_ST_META_SEARCH,
	SB_ST_INV_INS,
	SB_ST_INV_GET,
	SB_ST_INV_PAID,
	SB_ST_INV_ATTEMPT,
	SB_ST_INV_VOID,
	SB_ST_INV_OPEN_FOR_SUB,
	SB_ST_BILL_EXPIRE_NEXT,
	SB_ST_BILL_PERIOD_NEXT,
	SB_ST_BILL_RETRY_NEXT,
	SB_ST_EVT_INS,
	SB_ST_EVT_GET,
	SB_ST_EVT_LIST_DESC,
	SB_ST_EVT_LIST_ASC,
	SB_ST_EVT_PENDING,
	SB_ST_EVT_CLAIM,
	SB_ST_EVT_DELIVERED,
	SB_ST_EVT_UNLEASE,
	SB_ST_EVT_CLEAR_PENDING,
	SB_ST_DLV_INS,
	SB_ST_WH_GET,
	SB_ST_WH_PUT,
	SB_ST_WH_DEL,
	SB_ST_NUM_UNAVAILABLE,
	SB_ST_NUM_INS,
	SB_ST_NUM_GET_OWNED,
	SB_ST_NUM_RELEASE,
	SB_ST_NUM_LIST_OWNED,
	SB_ST_NUM_LIST_OWNED_ALL,
	SB_ST_TAKEN_INS,
	SB_ST_LWM_GET,
	SB_ST_LWM_PUT,
	SB_ST_LWM_LOWER,
	SB_ST_LEDGER_CUS,
	SB_ST_LEDGER_SUB,
	SB_ST_LEDGER_INV,
	SB_ST_LEDGER_NUM,
	SB_ST_LEDGER_TAKEN,
	SB_ST_LEDGER_COUNTERS,
	SB_ST_LEDGER_EVT,
	SB_ST_LEDGER_DLV,
	SB_ST__MAX
};

struct sqlite3_stmt;
/* Opens the database, sets WAL/busy_timeout, creates the schema if
 * missing.  Returns 0 or -1 (message on stderr). */
int sb_db_open(const char *path);
void sb_db_close(void);
/* The prepared statement for id, reset and with bindings cleared; NULL on
 * failure.  Borrowed: owned by db.c for the life of the process. */
struct sqlite3_stmt *sb_db_stmt(enum sb_stmt id);
/* Steps a statement that returns no rows; 0 or -1. */
int sb_db_done(struct sqlite3_stmt *st);
/* Rows changed by the last statement. */
int sb_db_changes(void);
int sb_db_begin(void);  /* BEGIN IMMEDIATE */
int sb_db_begin_read(void); /* BEGIN (deferred): a read snapshot, no lock */
int sb_db_commit(void); /* resets all statements first */
void sb_db_rollback(void);
/* Marks the start of a handler's writes / undoes them (keeping what came
 * before: call counters, consumed faults).  0 or -1. */
int sb_db_savepoint(void);
int sb_db_undo(void);
/* Deletes every row of every table (keeps the schema). */
int sb_db_wipe(void);

/* ids.c: writes prefix + n random alphanumerics (or hex) into out. */
void sb_id_new(char *out, size_t size, const char *prefix, size_t n);
void sb_id_new_hex(char *out, size_t size, const char *prefix, size_t n);

/* idem.c */
enum sb_idem_result { SB_IDEM_NONE, SB_IDEM_REPLAY, SB_IDEM_MISMATCH, SB_IDEM_ERROR };
/* On SB_IDEM_REPLAY sets *status and *body (malloc, caller frees). */
enum sb_idem_result sb_idem_lookup(const struct sb_request *req, int *status,
				   char **body, size_t *body_len);
int sb_idem_store(const struct sb_request *req, int status, const char *body,
		  size_t body_len);

/* stripe.c: error bodies and the customer / payment method handlers. */
void sb_stripe_error(struct sb_ctx *c, int status, const char *type,
		     const char *code, const char *param, const char *message);
void sb_stripe_missing(struct sb_ctx *c, int status, const char *what,
		       const char *id, const char *param);
int sb_stripe_customer_create(struct sb_ctx *c);
int sb_stripe_customer_get(struct sb_ctx *c);
int sb_stripe_customer_update(struct sb_ctx *c);
int sb_stripe_pm_attach(struct sb_ctx *c);
int sb_stripe_source_create(struct sb_ctx *c);
/* 1 if pm (a payment method or a card source) exists and is attached to
 * customer, 0 if not, -1 on error; *declines set to the card's
 * behaviour. */
int sb_stripe_pm_owned(const char *pm, const char *customer, int *declines);
/* 1 if card is a card source (object "card") of customer, 0 if not, -1. */
int sb_stripe_source_owned(const char *card, const char *customer);
/* Customer's invoice_settings.default_payment_method into pm and
 * default_source into src ("" = none; either may be NULL); returns 1
 * found, 0 no such customer, -1 error. */
int sb_stripe_customer_defaults(const char *id, char *pm, size_t pn, char *src, size_t sn);
/* The Stripe objects as the API shows them now (snapshots for events).
 * 1 found (*out owned by the caller), 0 missing, -1 error. */
int sb_stripe_customer_json(const char *id, json_object **out);
int sb_stripe_sub_json(const char *id, int expand_invoice, json_object **out);
int sb_stripe_invoice_json(const char *id, json_object **out);

/* billing.c */
int sb_stripe_sub_create(struct sb_ctx *c);
int sb_stripe_sub_get(struct sb_ctx *c);
int sb_stripe_sub_list(struct sb_ctx *c);
int sb_stripe_sub_search(struct sb_ctx *c);
int sb_stripe_sub_update(struct sb_ctx *c);
int sb_stripe_sub_cancel(struct sb_ctx *c);
int sb_stripe_invoice_get(struct sb_ctx *c);
int sb_stripe_invoice_pay(struct sb_ctx *c);
int sb_stripe_invoice_void(struct sb_ctx *c);
/* The billing run (POST /_sandbox/clock): every expiry, period end and
 * payment retry due at or before target, in time order, each stamped with
 * its own moment.  Inside the caller's write transaction.  *steps counts
 * what it did.  0 or -1. */
int sb_billing_run(long long target, long *steps);

/* events.c */
/* Records one event in the current transaction: obj is data.object (the
 * snapshot), prev data.previous_attributes (NULL = none); both are taken
 * over (freed here, also on failure).  c is the request that caused it,
 * NULL for automatic events (request.id null).  0 or -1. */
int sb_event_emit(const struct sb_ctx *c, const char *type, const char *object_id,
		  json_object *obj, json_object *prev);
/* Returns and clears "an event was recorded since the last call" (main.c
 * uses it to start automatic deliveries after a reply). */
int sb_events_take_emitted(void);
int sb_stripe_event_list(struct sb_ctx *c);
int sb_stripe_event_get(struct sb_ctx *c);

/* webhooks.c */
int sb_control_webhooks_set(struct sb_ctx *c);
int sb_control_webhooks_get(struct sb_ctx *c);
int sb_control_webhooks_delete(struct sb_ctx *c);
int sb_control_webhooks_pending(struct sb_ctx *c);
/* POST /_sandbox/webhooks/deliver: runs its own transactions (no lock is
 * held while a delivery is in flight). */
int sb_control_webhooks_deliver(struct sb_ctx *c);
/* In mode "auto": delivers every pending event, oldest first (called after
 * a reply has been sent).  Outside any transaction. */
void sb_webhooks_auto(void);
/* Frees libcurl's state at exit. */
void sb_webhooks_cleanup(void);

/* hmac.c */
#define SB_SHA256_LEN 32
void sb_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen,
		    unsigned char out[SB_SHA256_LEN]);

/* clock.c: the sandbox's "now" is real time plus an offset kept in the
 * database (POST /_sandbox/clock moves it forward). */
long long sb_clock_now(void);
/* While pinned, sb_clock_now() answers t (the billing run stamps each
 * step with its own moment). */
void sb_clock_pin(long long t);
void sb_clock_unpin(void);
/* Forgets the offset read for this request (start of a request, reset). */
void sb_clock_forget(void);
int sb_control_clock_get(struct sb_ctx *c);
int sb_control_clock_advance(struct sb_ctx *c);

/* numbers.c: the deterministic inventory. */
enum sb_ntype { SB_NT_LOCAL, SB_NT_TOLLFREE, SB_NT_MOBILE, SB_NT__MAX };

struct sb_area {
	const char *iso;
	enum sb_ntype type;
	const char *cc;       /* country calling code, "1" */
	const char *area;     /* area / prefix digits, "415" */
	unsigned xfirst;      /* first exchange */
	unsigned xcount;      /* exchanges in the series */
	unsigned xdigits;     /* digits of an exchange */
	unsigned sdigits;     /* subscriber digits after the exchange */
	const char *locality, *region, *lata, *rate_center, *postal;
	double lat, lon; /* used when locality != NULL and nanp */
	int nanp;        /* North American formatting and location fields */
	int sms, mms;
	const char *addr_req;
};

struct sb_number {
	char e164[24];
	char national[20]; /* digits after the country code */
	char friendly[32];
	const struct sb_area *area;
	unsigned block; /* area index * 1000 + exchange index */
	unsigned idx;   /* subscriber index in the block */
};

size_t sb_numbers_area_count(void);
const struct sb_area *sb_numbers_area(size_t i);
int sb_numbers_country_known(const char *iso);
/* "Local.json" -> SB_NT_LOCAL; SB_NT__MAX for a Twilio type the sandbox
 * has no numbers of (National.json, Voip.json ...); -1 if unknown. */
int sb_numbers_type_parse(const char *seg);
const char *sb_numbers_type_name(enum sb_ntype t); /* "local" ... */
unsigned sb_numbers_block_size(const struct sb_area *a);
void sb_numbers_make(size_t ai, unsigned xi, unsigned s, struct sb_number *out);
/* Finds e164 in the inventory; 0 found, -1 not in it. */
int sb_numbers_lookup(const char *e164, struct sb_number *out);
/* Builds the number for block/idx; 0 or -1 if out of range. */
int sb_numbers_from_block(unsigned block, unsigned idx, struct sb_number *out);

/* twilio.c */
void sb_twilio_error(struct sb_ctx *c, int status, int code, const char *message);
int sb_twilio_available(struct sb_ctx *c);
int sb_twilio_buy(struct sb_ctx *c);
int sb_twilio_list(struct sb_ctx *c);
int sb_twilio_release(struct sb_ctx *c);
/* Marks a number unavailable in the low-water table after buy/taken;
 * 0 or -1. */
int sb_twilio_mark_unavailable(const struct sb_number *n);

/* control.c */
/* Counts one call (effect 0) or one effect (1) of op. */
int sb_control_count(enum sb_op op, int effect);
/* Counts one call of op and, if effect, one effect, in one statement
 * (atomic on its own outside a transaction).  0 or -1. */
int sb_control_count_call(enum sb_op op, int effect);
/* 1 if a fault is queued for op, 0 if none, -1 on error.  Consumes
 * nothing. */
int sb_control_fault_armed(enum sb_op op);
/* Consumes the next armed fault for op (inside the caller's transaction);
 * f->kind is SB_FAULT_NONE if none.  0 or -1. */
int sb_control_take_fault(enum sb_op op, struct sb_fault *f);
int sb_control_reset(struct sb_ctx *c);
int sb_control_faults_set(struct sb_ctx *c);
int sb_control_faults_clear(struct sb_ctx *c);
int sb_control_taken(struct sb_ctx *c);
int sb_control_prices(struct sb_ctx *c);
int sb_control_ledger(struct sb_ctx *c);
/* Helpers for control handlers in other files: the body as one strict
 * JSON object (NULL with a 400 reply set, or NULL and no reply on
 * allocation failure), a check that it has only the listed keys (-1 with a
 * 400 reply), a 400 {"error": message} reply, {"ok": true}. */
json_object *sb_control_parse_body(struct sb_ctx *c);
int sb_control_only_keys(struct sb_ctx *c, json_object *o, const char *const *keys, size_t n);
void sb_control_bad_request(struct sb_ctx *c, int status, const char *message);
int sb_control_reply_ok(struct sb_ctx *c);

#endif /* SANDBOX_H */
