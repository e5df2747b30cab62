/*
 * store.c -- all of the service's SQL, for SQLite and PostgreSQL (its
 * statements where they differ are in sql_pg below; store-pg.c runs them).
 *
 * Statements are listed once in the table below, prepared on first use with
 * SQLITE_PREPARE_PERSISTENT and reused for the life of the process; every
 * use ends in sqlite3_reset() (a half-read SELECT would otherwise keep its
 * read snapshot). Every write is BEGIN IMMEDIATE .. COMMIT, kept small.
 *
 * The busy handler sleeps in short steps (DESIGN §7: SQLite's default
 * back-off grows to 100 ms sleeps, which shows as p99 spikes under several
 * writer processes) and gives up after busy_timeout_ms: EBUSY, 503.
 */
#include "autoconfig.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "schema-sql.h"
#include "store.h"
#include "store-pg.h"
#include "store-vfs.h"

enum stmt {
	S_BEGIN,
	S_BEGIN_READ,
	S_COMMIT,
	S_ROLLBACK,
	S_USER_VERSION,
	S_ACCOUNT_INSERT,
	S_ACCOUNT_GET,
	S_KEY_INSERT,
	S_KEY_LOOKUP,
	S_KEY_REVOKE,
	S_PRICE_GET,
	S_PRICES_CLEAR,
	S_RATE_GET,
	S_RATE_BUMP,
	S_OFFER_PUT,
	S_SEARCH_SAVE,
	S_PURCHASE_FINISH,
	S_OFFER_PRUNE,
	S_OFFER_GET,
	S_PURCHASE_COUNT,
	S_PURCHASE_CHECKS,
	S_IDEM_GET,
	S_IDEM_INSERT,
	S_IDEM_REPLY,
	S_PURCHASE_INSERT,
	S_PURCHASE_GET,
	S_NONCE_KNOWN,
	S_PURCHASE_SAVE,
	S_PURCHASE_PROGRESS,
	S_PURCHASE_COMPLETE,
	S_PURCHASE_LEASE,
	S_PURCHASE_STALE,
	S_NUMBER_INSERT,
	S_IDEM_DELETE,
	S_PURCHASE_DELETE,
	S_COUNT_PURCHASES,
	S_COUNT_NUMBERS,
	S_PURCHASES_UNFINISHED,
	S_NUMBERS_LIST,
	S_NUMBERS_COUNT,
	S_NUMBER_GET,
	S_NUMBER_RENAME,
	S_NUMBER_TAKE,
	S_NUMBER_SAVE,
	S_NUMBER_RELEASED,
	S_PURCHASE_STATE,
	S_NUMBERS_DUE,
	S_NUMBERS_OF_CUSTOMER,
	S_NUMBERS_ALL,
	S_EVENT_INSERT,
	S_EVENT_NEXT,
	S_EVENT_TAKE,
	S_EVENT_DONE,
	S_EVENT_AGAIN,
	S_EVENT_NEWEST,
	S_EVENT_TODO,
	S_CLAIM_LOCK,
	S__MAX
};

/* The states in which a purchase still needs work (pur_state_at_rest):
 * purchases.open, and those that hold their number: purchases.live. Every
 * statement that sets a state across those lines sets the flags too (the
 * schema's CHECKs say so); the partial indexes are on the flags, so a state
 * change that crosses none -- pending -> provisioned -- writes no index. */
#define UNFINISHED "('pending', 'subscribed', 'provisioned', 'paid', 'voiding', " \
                   "'compensating', 'releasing')"
#define FLAGS_OF(state) "open = CASE WHEN " state " IN " UNFINISHED " THEN 1 ELSE 0 END, " \
                        "live = CASE WHEN " state " IN ('failed', 'released') THEN 0 ELSE 1 END"

/* The columns of a number, in number_from_row's order (table alias n). */
#define NUMBER_COLS "n.id, n.account_id, n.purchase_id, n.phone_number, n.country_code, n.type, " \
	"coalesce(n.region, ''), n.sms_capable, n.price_cents, n.status, coalesce(n.nickname, ''), " \
	"n.subscription_id, n.number_sid, coalesce(n.period_end, 0), n.cancel_at_period_end, " \
	"coalesce(n.release_reason, ''), coalesce(n.released_at, 0), n.created_at"

/* A delivered purchase: no longer open, still live (it holds its number);
 * fenced by its lease token. S_PURCHASE_COMPLETE, and on PostgreSQL the
 * first part of S_PURCHASE_FINISH. */
#define PURCHASE_COMPLETE \
	"UPDATE purchases SET state = 'complete', open = 0, lease_until = 0, updated_at = ?3, " \
	"subscription_id = nullif(?4, ''), invoice_id = nullif(?5, ''), " \
	"number_sid = nullif(?6, ''), period_end = nullif(?7, 0), payment_method = ?8 " \
	"WHERE id = ?1 AND lease_token = ?2"
#define NUMBER_INSERT \
	"INSERT INTO numbers (id, account_id, purchase_id, phone_number, country_code, type, " \
	"sms_capable, price_cents, status, subscription_id, number_sid, period_end, " \
	"created_at, updated_at, region) "
#define ACCOUNT_INSERT \
	"INSERT INTO accounts (name, stripe_customer, created_at) VALUES (?1, ?2, ?3)"
#define PURCHASE_INSERT \
	"INSERT INTO purchases (account_id, phone_number, country_code, type, price_cents, " \
	"stripe_price_id, sms_capable, stripe_customer, payment_method, state, lease_token, " \
	"lease_until, created_at, updated_at, nonce, region) " \
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'pending', 1, ?10, ?11, ?11, ?12, " \
	"nullif(?13, ''))"

static const char *const sql[S__MAX] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_BEGIN_READ] = "BEGIN",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_USER_VERSION] = "PRAGMA user_version",
	[S_ACCOUNT_INSERT] = ACCOUNT_INSERT,
	[S_ACCOUNT_GET] = "SELECT id, name, stripe_customer FROM accounts WHERE id = ?1",
	[S_KEY_INSERT] = "INSERT INTO api_keys (account_id, prefix, hash, created_at) "
	                 "VALUES (?1, ?2, ?3, ?4)",
	[S_KEY_LOOKUP] = "SELECT account_id, hash FROM api_keys "
	                 "WHERE prefix = ?1 AND revoked_at IS NULL",
	[S_KEY_REVOKE] = "UPDATE api_keys SET revoked_at = ?2 "
	                 "WHERE prefix = ?1 AND revoked_at IS NULL",
	[S_PRICE_GET] = "SELECT price_cents, stripe_price_id FROM prices "
	                "WHERE country_code = ?1 AND type = ?2",
	[S_PRICES_CLEAR] = "DELETE FROM prices",
	[S_RATE_GET] = "SELECT window_start, count FROM search_rate WHERE account_id = ?1",
	[S_RATE_BUMP] = "INSERT INTO search_rate (account_id, window_start, count) "
	                "VALUES (?1, ?2, 1) ON CONFLICT (account_id) DO UPDATE SET "
	                "count = CASE WHEN search_rate.window_start > ?2 - 60 "
	                "THEN search_rate.count + 1 ELSE 1 END, "
	                "window_start = CASE WHEN search_rate.window_start > ?2 - 60 "
	                "THEN search_rate.window_start ELSE ?2 END",
	[S_OFFER_PUT] = "INSERT OR REPLACE INTO offers (account_id, phone_number, country_code, "
	                "type, price_cents, stripe_price_id, sms_capable, expires_at, region) "
	                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, nullif(?9, ''))",
	/* Bounded pruning: each search removes at most 100 expired offers. */
	[S_OFFER_PRUNE] = "DELETE FROM offers WHERE (account_id, phone_number) IN "
	                  "(SELECT account_id, phone_number FROM offers WHERE expires_at < ?1 "
	                  "LIMIT 100)",
	[S_OFFER_GET] = "SELECT country_code, type, price_cents, stripe_price_id, sms_capable, "
	                "expires_at, coalesce(region, '') FROM offers WHERE account_id = ?1 AND phone_number = ?2 "
	                "AND expires_at >= ?3",
	[S_PURCHASE_COUNT] = "SELECT count(*), coalesce(min(created_at), 0) FROM purchases "
	                     "WHERE account_id = ?1 AND created_at >= ?2",
	/* A purchase's checks in one statement (one round trip on PostgreSQL,
	 * not three): a live purchase of the number (purchases_live_number: a
	 * delivered number is its purchase's), the offer, the account. */
	[S_PURCHASE_CHECKS] =
	    "SELECT CASE WHEN EXISTS (SELECT 1 FROM purchases WHERE phone_number = ?2 AND live = 1) "
	    "THEN 1 ELSE 0 END, o.country_code, o.type, o.price_cents, o.stripe_price_id, "
	    "o.sms_capable, o.expires_at, coalesce(o.region, ''), a.id, a.name, a.stripe_customer "
	    "FROM (SELECT 1 AS one) AS x "
	    "LEFT JOIN offers o ON o.account_id = ?1 AND o.phone_number = ?2 AND o.expires_at >= ?3 "
	    "LEFT JOIN accounts a ON a.id = ?1",
	[S_IDEM_GET] = "SELECT request_hash, purchase_id, status, body FROM idempotency "
	               "WHERE account_id = ?1 AND key = ?2",
	[S_IDEM_INSERT] = "INSERT INTO idempotency (account_id, key, request_hash, purchase_id, "
	                  "created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_IDEM_REPLY] = "UPDATE idempotency SET status = ?2, body = ?3 WHERE purchase_id = ?1",
	[S_PURCHASE_INSERT] = PURCHASE_INSERT,
	/* reconcile --repair only, for the rare object a lost row left: no
	 * index is kept for it (every purchase would pay for it). */
	[S_NONCE_KNOWN] = "SELECT 1 FROM purchases WHERE nonce = ?1 LIMIT 1",
	[S_PURCHASE_GET] =
	    "SELECT id, account_id, phone_number, country_code, type, price_cents, "
	    "stripe_price_id, sms_capable, stripe_customer, payment_method, state, "
	    "coalesce(outcome, ''), coalesce(subscription_id, ''), coalesce(invoice_id, ''), "
	    "coalesce(number_sid, ''), coalesce(period_end, 0), lease_token, lease_until, "
	    "created_at, coalesce(nonce, ''), settle_at, coalesce(region, '') FROM purchases "
	    "WHERE id = ?1",
	[S_PURCHASE_SAVE] =
	    "UPDATE purchases SET state = ?3, outcome = nullif(?4, ''), "
	    "subscription_id = nullif(?5, ''), invoice_id = nullif(?6, ''), "
	    "number_sid = nullif(?7, ''), period_end = nullif(?8, 0), lease_until = ?9, "
	    "updated_at = ?10, payment_method = ?11, settle_at = ?12, " FLAGS_OF("?3") " "
	    "WHERE id = ?1 AND lease_token = ?2",
	/* The step of a purchase under way that crosses no line (open and live
	 * before and after): no lease, no flag set -- only the row is written,
	 * no index entry. */
	[S_PURCHASE_PROGRESS] =
	    "UPDATE purchases SET state = ?3, subscription_id = nullif(?4, ''), "
	    "invoice_id = nullif(?5, ''), number_sid = nullif(?6, ''), period_end = nullif(?7, 0), "
	    "payment_method = ?8, settle_at = ?9, updated_at = ?10 "
	    "WHERE id = ?1 AND lease_token = ?2",
	[S_PURCHASE_COMPLETE] = PURCHASE_COMPLETE,
	[S_PURCHASE_LEASE] =
	    "UPDATE purchases SET lease_token = lease_token + 1, lease_until = ?3, updated_at = ?2, "
	    "settle_at = max(settle_at, lease_until + ?4) "
	    "WHERE id = ?1 AND open = 1 AND lease_until <= ?2",
	[S_PURCHASE_STALE] =
	    "SELECT id FROM purchases WHERE open = 1 AND lease_until <= ?1 "
	    "ORDER BY lease_until LIMIT ?2",
	[S_NUMBER_INSERT] = NUMBER_INSERT "VALUES (?2, ?1, ?2, ?3, ?4, ?5, ?6, ?7, 'active', ?8, "
	    "?9, nullif(?10, 0), ?11, ?11, nullif(?12, ''))",
	[S_IDEM_DELETE] = "DELETE FROM idempotency WHERE purchase_id = ?1",
	[S_PURCHASE_DELETE] = "DELETE FROM purchases WHERE id = ?1 AND lease_token = ?2",
	[S_COUNT_PURCHASES] = "SELECT state, count(*) FROM purchases GROUP BY state ORDER BY state",
	[S_COUNT_NUMBERS] = "SELECT status, count(*) FROM numbers GROUP BY status ORDER BY status",
	[S_PURCHASES_UNFINISHED] = "SELECT id, phone_number, state, lease_until FROM purchases "
	                           "WHERE open = 1 ORDER BY id",
	/* An account's numbers, newest first; ?2: the legacy list (SMS-capable,
	 * not released); ?3/?4: LIMIT/OFFSET (-1: all). */
	[S_NUMBERS_LIST] = "SELECT " NUMBER_COLS " FROM numbers n WHERE n.account_id = ?1 "
	                   "AND (?2 = 0 OR (n.sms_capable = 1 AND n.status <> 'released')) "
	                   "ORDER BY n.id DESC LIMIT ?3 OFFSET ?4",
	[S_NUMBERS_COUNT] = "SELECT count(*) FROM numbers n WHERE n.account_id = ?1 "
	                    "AND (?2 = 0 OR (n.sms_capable = 1 AND n.status <> 'released'))",
	/* ?2 = 0: any account's (the operator's). */
	[S_NUMBER_GET] = "SELECT " NUMBER_COLS " FROM numbers n WHERE n.id = ?1 "
	                 "AND (?2 = 0 OR n.account_id = ?2)",
	[S_NUMBER_RENAME] = "UPDATE numbers SET nickname = nullif(?3, ''), updated_at = ?4 "
	                    "WHERE id = ?1 AND account_id = ?2",
	/* The lease of a delivered number's purchase, for work on its life. */
	[S_NUMBER_TAKE] = "UPDATE purchases SET lease_token = lease_token + 1, lease_until = ?3 "
	                  "WHERE id = ?1 AND state = 'complete' AND lease_until <= ?2",
	[S_NUMBER_SAVE] = "UPDATE numbers SET status = ?2, period_end = nullif(?3, 0), "
	                  "cancel_at_period_end = ?4, release_reason = nullif(?5, ''), "
	                  "updated_at = ?6 WHERE purchase_id = ?1 AND status <> 'released'",
	[S_NUMBER_RELEASED] = "UPDATE numbers SET status = 'released', released_at = ?2, "
	                      "cancel_at_period_end = 0, release_reason = coalesce(release_reason, ?3), "
	                      "updated_at = ?2 WHERE purchase_id = ?1",
	/* complete <-> releasing: both live. */
	[S_PURCHASE_STATE] = "UPDATE purchases SET state = ?3, lease_until = ?4, payment_method = ?5, "
	                     "updated_at = ?6, open = CASE WHEN ?3 = 'releasing' THEN 1 ELSE 0 END "
	                     "WHERE id = ?1 AND lease_token = ?2",
	/* Delivered numbers whose life needs a look: a scheduled release
	 * coming due (within the margin ?2 of the period's end), or a period
	 * that ended without word from Stripe. Their purchase not leased. */
	[S_NUMBERS_DUE] = "SELECT n.purchase_id FROM numbers n JOIN purchases p ON p.id = "
	                  "n.purchase_id WHERE n.status <> 'released' AND n.period_end <= ?1 + ?2 "
	                  "AND (n.period_end <= ?1 OR n.status = 'release_scheduled') "
	                  "AND p.state = 'complete' AND p.lease_until <= ?1 ORDER BY n.period_end "
	                  "LIMIT ?3",
	[S_NUMBERS_OF_CUSTOMER] = "SELECT n.purchase_id FROM numbers n JOIN accounts a ON "
	                          "a.id = n.account_id WHERE a.stripe_customer = ?1 AND "
	                          "n.status <> 'released' ORDER BY n.id LIMIT ?2",
	/* ?1 = 0: every account's. */
	[S_NUMBERS_ALL] = "SELECT " NUMBER_COLS " FROM numbers n WHERE ?1 = 0 OR n.account_id = ?1 "
	                  "ORDER BY n.id",
	[S_EVENT_INSERT] = "INSERT INTO stripe_events (id, type, object_id, created, received_at, "
	                   "done_at) VALUES (?1, ?2, nullif(?3, ''), ?4, ?5, ?6) "
	                   "ON CONFLICT (id) DO NOTHING",
	[S_EVENT_NEXT] = "SELECT id, type, coalesce(object_id, ''), created FROM stripe_events "
	                 "WHERE done_at IS NULL AND lease_until <= ?1 ORDER BY received_at LIMIT 1",
	[S_EVENT_TAKE] = "UPDATE stripe_events SET lease_until = ?3, attempts = attempts + 1 "
	                 "WHERE id = ?1 AND done_at IS NULL AND lease_until <= ?2",
	[S_EVENT_DONE] = "UPDATE stripe_events SET done_at = ?2, lease_until = 0 WHERE id = ?1",
	[S_EVENT_AGAIN] = "UPDATE stripe_events SET lease_until = ?2 WHERE id = ?1",
	[S_EVENT_NEWEST] = "SELECT id FROM stripe_events ORDER BY created DESC, received_at DESC "
	                   "LIMIT 1",
	[S_EVENT_TODO] = "SELECT 1 FROM stripe_events WHERE id = ?1 AND done_at IS NULL",
};

/*
 * PostgreSQL's text of the statements that differ (store-pg.c turns ?NNN
 * into $NNN); the others are the same for both. What SQLite's single
 * writer gave for free is said where it is replaced:
 *
 * - the claim: under BEGIN IMMEDIATE, the Idempotency-Key's lookup and the
 *   inserts are one writer's; on PostgreSQL two twins of one request
 *   (same account, same key) would both miss the record. The claim takes
 *   a transaction-scoped advisory lock on the account first (S_CLAIM_LOCK):
 *   an account's claims queue, others' do not. Two accounts buying one
 *   number meet at the partial unique index, as in SQLite (unique_violation
 *   is EIN_USE).
 * - leases: the fenced UPDATEs (WHERE lease_token = .. / lease_until <= ..)
 *   are re-checked by PostgreSQL on the row it waited for (READ COMMITTED):
 *   of two nodes taking one lease, one changes the row, the other none.
 * - the next webhook event: FOR UPDATE SKIP LOCKED, so that workers of
 *   several nodes each take another one instead of queueing on the first.
 */
static const char *const sql_pg[S__MAX] = {
	[S_BEGIN] = "BEGIN",
	[S_BEGIN_READ] = "BEGIN ISOLATION LEVEL REPEATABLE READ",
	[S_USER_VERSION] = "SELECT coalesce(max(version), 0) FROM schema_version",
	[S_ACCOUNT_INSERT] = ACCOUNT_INSERT " RETURNING id",
	/* (set_config: asynchronous commit for the transaction the INSERT is
	 * in -- its own, when the claim has no key: one round trip) */
	[S_PURCHASE_INSERT] = PURCHASE_INSERT
	    " RETURNING id, set_config('synchronous_commit', 'off', true)",
	[S_PURCHASE_LEASE] =
	    "UPDATE purchases SET lease_token = lease_token + 1, lease_until = ?3, updated_at = ?2, "
	    "settle_at = greatest(settle_at, lease_until + ?4) "
	    "WHERE id = ?1 AND open = 1 AND lease_until <= ?2",
	[S_NUMBERS_LIST] = "SELECT " NUMBER_COLS " FROM numbers n WHERE n.account_id = ?1 "
	                   "AND (?2 = 0 OR (n.sms_capable = 1 AND n.status <> 'released')) "
	                   "ORDER BY n.id DESC LIMIT nullif(?3, -1) OFFSET ?4",
	[S_EVENT_NEXT] = "SELECT id, type, coalesce(object_id, ''), created FROM stripe_events "
	                 "WHERE done_at IS NULL AND lease_until <= ?1 ORDER BY received_at LIMIT 1 "
	                 "FOR UPDATE SKIP LOCKED",
	[S_CLAIM_LOCK] = "SELECT pg_advisory_xact_lock(?1)",
	/* A search's writes in one statement, a transaction of its own (one
	 * round trip, not five: BEGIN, offers, rate, prune, COMMIT),
	 * committed asynchronously (set_config: an offer lost to a power cut
	 * costs one more search). ?2: the offers, a JSON array of {n, c, t,
	 * p, s, m, e, r} objects (offers_json). DISTINCT ON: a number twice
	 * in one reply would make ON CONFLICT touch its row twice, which
	 * PostgreSQL refuses. The parts see one snapshot, not each other's
	 * rows, so the prune leaves alone what this search offers again. */
	[S_SEARCH_SAVE] =
	    "WITH o AS (SELECT * FROM json_to_recordset(?2::json) AS o(n text, c text, "
	    "t text, p bigint, s text, m integer, e bigint, r text)), "
	    "put AS (INSERT INTO offers (account_id, phone_number, country_code, "
	    "type, price_cents, stripe_price_id, sms_capable, expires_at, region) "
	    "SELECT DISTINCT ON (o.n) ?1, o.n, o.c, o.t, o.p, o.s, o.m, o.e, nullif(o.r, '') "
	    "FROM o "
	    "ON CONFLICT (account_id, phone_number) DO UPDATE SET "
	    "country_code = excluded.country_code, type = excluded.type, "
	    "price_cents = excluded.price_cents, "
	    "stripe_price_id = excluded.stripe_price_id, "
	    "sms_capable = excluded.sms_capable, expires_at = excluded.expires_at, "
	    "region = excluded.region RETURNING 1), "
	    "bump AS (INSERT INTO search_rate (account_id, window_start, count) "
	    "VALUES (?1, ?3, 1) ON CONFLICT (account_id) DO UPDATE SET "
	    "count = CASE WHEN search_rate.window_start > ?3 - 60 "
	    "THEN search_rate.count + 1 ELSE 1 END, "
	    "window_start = CASE WHEN search_rate.window_start > ?3 - 60 "
	    "THEN search_rate.window_start ELSE ?3 END RETURNING 1), "
	    "prune AS (DELETE FROM offers WHERE (account_id, phone_number) IN "
	    "(SELECT account_id, phone_number FROM offers WHERE expires_at < ?3 "
	    "AND NOT (account_id = ?1 AND phone_number IN (SELECT n FROM o)) LIMIT 100) "
	    "RETURNING 1) "
	    "SELECT set_config('synchronous_commit', 'off', true)",
	/* A delivered purchase's finish in one statement, a transaction of
	 * its own (one round trip, not four: BEGIN, the purchase, the number,
	 * COMMIT; five with a stored reply): S_PURCHASE_COMPLETE's fenced
	 * UPDATE (?1-?8), S_NUMBER_INSERT's row (?9-?16) only when the
	 * UPDATE changed the purchase, the reply (?17 status, 0: none; ?18)
	 * on its idempotency record; committed asynchronously unless ?19.
	 * Its first column: 1, or 0 when the lease was lost (nothing
	 * written). A failure of any part (the number's unique id) fails
	 * the whole, as the transaction did. */
	[S_PURCHASE_FINISH] =
	    "WITH u AS (" PURCHASE_COMPLETE " RETURNING id), "
	    "n AS (" NUMBER_INSERT "SELECT u.id, ?9, u.id, ?10, ?11, ?12, ?13, ?14, "
	    "'active', ?4, ?6, nullif(?15, 0), ?3, ?3, nullif(?16, '') FROM u RETURNING 1), "
	    "r AS (UPDATE idempotency SET status = ?17, body = ?18 "
	    "WHERE ?17 > 0 AND purchase_id IN (SELECT id FROM u) RETURNING 1) "
	    "SELECT (SELECT count(*) FROM u), "
	    "CASE WHEN ?19 = 0 THEN set_config('synchronous_commit', 'off', true) END",
};

_Static_assert(PGQ_ROW == SQLITE_ROW && PGQ_DONE == SQLITE_DONE && PGQ_BUSY == SQLITE_BUSY &&
    PGQ_NOMEM == SQLITE_NOMEM && PGQ_CONSTRAINT == SQLITE_CONSTRAINT &&
    PGQ_CONSTRAINT_UNIQUE == SQLITE_CONSTRAINT_UNIQUE && PGQ_IOERR == SQLITE_IOERR &&
    PGQ_CONSTRAINT_CHECK == SQLITE_CONSTRAINT_CHECK, "store-pg.h's codes are SQLite's");

/*
 * Connections. A thread holds a database connection (struct conn: the
 * handle, its prepared statements, its WAL bookkeeping) only while it uses
 * the database: the store takes one from the process's pool for that file
 * at its first statement and gives it back when the request's reads are
 * done -- before every provider call (pur_http's before-call hook) and at
 * the request's end -- never inside a transaction. A purchase waits seconds
 * on providers and milliseconds on the database, so a worker of hundreds
 * of threads needs a handful of connections, not one each (issue 13: about
 * 200 KiB each -- page cache, statements, the WAL write buffer). The pool
 * opens at most POOL_MAX, keeps them, and lends the most recently used
 * first; a thread that finds them all lent waits for one (a few ms: no
 * connection is held across anything slow but SQLite's own busy wait),
 * up to busy_timeout_ms, then EBUSY as for a locked database. Without the
 * bound, the first burst of a wrk run (512 requests at once) opened 362
 * and kept them. A process with one thread uses one.
 */
#define POOL_MAX 16

/* A statement of the connection's backend: one of the two is set. */
struct query {
	sqlite3_stmt *lite;
	struct pgq *pg;
};

struct conn {
	sqlite3 *db;            /* an SQLite file; or */
	struct pgq_conn *pg;    /* a PostgreSQL server */
	struct query st[S__MAX];
	int wal_pages;          /* pages in the WAL at our last commit */
	int ckpt_due;           /* our last commit took the WAL across a threshold */
	long busy_timeout_ms;
	struct timespec busy_start;
	int queue_fd;           /* the database file, for the writers' queue; -1 none, -2 not yet */
	struct conn *next;      /* in the pool's free list */
};

struct pool {
	char *path;
	int pg;                 /* path is a PostgreSQL URI */
	long busy_timeout_ms;
	int users;              /* stores open on it */
	int opened;             /* connections open, lent or idle */
	pthread_mutex_t lock;
	pthread_cond_t given;   /* a connection was given back */
	struct conn *free;      /* idle connections, the last given back first */
	struct pool *next;
};

struct pur_store {
	struct pool *pool;
	struct conn *c;         /* held while the database is in use; else NULL */
	enum purchase_err lost; /* why no connection could be had, if none */
	int txn_full;           /* the open transaction is synced at COMMIT */
	int ckpt_due;           /* a commit of ours took the WAL across a threshold */
	int reading;            /* a read transaction of pur_store_read_begin is open */
	int queued;             /* this store holds its place at the head */
};

static const char *const state_names[PUR_STATE__MAX] = {
	[PUR_PENDING] = "pending",
	[PUR_SUBSCRIBED] = "subscribed",
	[PUR_PROVISIONED] = "provisioned",
	[PUR_PAID] = "paid",
	[PUR_COMPLETE] = "complete",
	[PUR_VOIDING] = "voiding",
	[PUR_COMPENSATING] = "compensating",
	[PUR_FAILED] = "failed",
	[PUR_RELEASING] = "releasing",
	[PUR_RELEASED] = "released",
};

static const char *const outcome_names[PUR_OUTCOME__MAX] = {
	[PUR_OUT_NONE] = "",
	[PUR_OUT_NOT_AVAILABLE] = "not_available",
	[PUR_OUT_DECLINED] = "declined",
	[PUR_OUT_NO_PAYMENT_METHOD] = "no_payment_method",
	[PUR_OUT_PROVIDER] = "provider",
};

const char *
pur_state_name(enum pur_state st)
{
	return (unsigned)st < PUR_STATE__MAX ? state_names[st] : "?";
}

const char *
pur_outcome_name(enum pur_outcome o)
{
	return (unsigned)o < PUR_OUTCOME__MAX ? outcome_names[o] : "provider";
}

int
pur_state_at_rest(enum pur_state st)
{
	return st == PUR_COMPLETE || st == PUR_FAILED || st == PUR_RELEASED;
}

/* The column's text back to the enum: an unknown name (a newer program's
 * state) reads as PUR_STATE__MAX, which the flow refuses to drive. */
static enum pur_state
state_of(const char *t)
{
	int i;

	for (i = 0; t != NULL && i < PUR_STATE__MAX; i++)
		if (strcmp(t, state_names[i]) == 0)
			return (enum pur_state)i;
	return PUR_STATE__MAX;
}

static enum pur_outcome
outcome_of(const char *t)
{
	int i;

	for (i = 1; t != NULL && i < PUR_OUTCOME__MAX; i++)
		if (strcmp(t, outcome_names[i]) == 0)
			return (enum pur_outcome)i;
	return t == NULL || *t == '\0' ? PUR_OUT_NONE : PUR_OUT_PROVIDER;
}

/* Maps an SQLite result code to the library's error. */
static enum purchase_err
map_rc(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return PURCHASE_OK;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return PURCHASE_EBUSY;
	case SQLITE_NOMEM:
		return PURCHASE_ENOMEM;
	default:
		return PURCHASE_EDB;
	}
}

#define YIELDS 8

static long
ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Yields the processor for the first tries (the holder of the lock is
 * most likely another worker in the middle of a transaction of a few
 * dozen µs: let it finish rather than sleep past it), then sleeps 0.25,
 * 0.5, 1, 2 ms, then 2 ms steps, until busy_timeout_ms. */
static int
on_busy(void *arg, int count)
{
	struct conn *c = arg;
	struct timespec ts;
	long us;

	if (count == 0)
		clock_gettime(CLOCK_MONOTONIC, &c->busy_start);
	else if (ms_since(&c->busy_start) >= c->busy_timeout_ms)
		return 0;
	if (count < YIELDS) {
		sched_yield();
		return 1;
	}
	count -= YIELDS;
	us = count < 3 ? 250L << count : 2000;
	ts.tv_sec = 0;
	ts.tv_nsec = us * 1000;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	return 1;
}

static enum purchase_err attach(struct pur_store *s, struct purchase_detail *d);
static void detach(struct pur_store *s);

static struct query *
get(struct pur_store *s, enum stmt id)
{
	struct conn *c;
	struct query *st;

	if (s->c == NULL && attach(s, NULL) != PURCHASE_OK)
		return NULL;
	c = s->c;
	st = &c->st[id];
	if (c->pg != NULL) {
		if (st->pg == NULL)
			st->pg = pgq_prepare(c->pg, sql_pg[id] != NULL ? sql_pg[id] : sql[id]);
		return st->pg != NULL ? st : NULL;
	}
	if (st->lite == NULL &&
	    sqlite3_prepare_v3(c->db, sql[id], -1, SQLITE_PREPARE_PERSISTENT, &st->lite, NULL) !=
	        SQLITE_OK)
		return NULL;
	return st;
}

/* The error of the statement that failed, or why there is no connection
 * (get's NULL). */
static enum purchase_err
db_err(const struct pur_store *s)
{
	enum purchase_err err;

	if (s->c == NULL)
		return s->lost;
	err = map_rc(s->c->pg != NULL ? pgq_errcode(s->c->pg) : sqlite3_errcode(s->c->db));
	return err == PURCHASE_OK ? PURCHASE_EDB : err;
}

/* The statement's accessors, for either backend. */
static int
step(struct query *st)
{
	return st->pg != NULL ? pgq_step(st->pg) : sqlite3_step(st->lite);
}

static void
bind_int(struct query *st, int i, int64_t v)
{
	if (st->pg != NULL)
		pgq_bind_int(st->pg, i, v);
	else
		sqlite3_bind_int64(st->lite, i, v);
}

/* Text that stays the caller's until the statement is done. */
static void
bind_bytes(struct query *st, int i, const char *v, size_t len)
{
	if (st->pg != NULL)
		pgq_bind_text(st->pg, i, v, len);
	else
		sqlite3_bind_text(st->lite, i, v, (int)len, SQLITE_STATIC);
}

static void
bind_text(struct query *st, int i, const char *v)
{
	bind_bytes(st, i, v, v != NULL ? strlen(v) : 0);
}

static int64_t
col_int(struct query *st, int col)
{
	return st->pg != NULL ? pgq_int(st->pg, col) : sqlite3_column_int64(st->lite, col);
}

/* NULL for SQL NULL; *len (if asked) its length. */
static const char *
col_text(struct query *st, int col, size_t *len)
{
	const char *t;

	if (st->pg != NULL)
		return pgq_text(st->pg, col, len);
	t = (const char *)sqlite3_column_text(st->lite, col);
	if (len != NULL)
		*len = t != NULL ? (size_t)sqlite3_column_bytes(st->lite, col) : 0;
	return t;
}

static int64_t
changes(const struct pur_store *s)
{
	return s->c->pg != NULL ? pgq_changes(s->c->pg) : sqlite3_changes(s->c->db);
}

static int64_t
last_id(const struct pur_store *s)
{
	return s->c->pg != NULL ? pgq_last_id(s->c->pg) : sqlite3_last_insert_rowid(s->c->db);
}

static void
done(struct query *st)
{
	if (st == NULL)
		return;
	if (st->pg != NULL) {
		pgq_reset(st->pg);
	} else {
		sqlite3_reset(st->lite);
		sqlite3_clear_bindings(st->lite);
	}
}

/* Runs a statement and reads past its rows. */
static enum purchase_err
run(struct pur_store *s, enum stmt id)
{
	struct query *st = get(s, id);
	int rc;

	if (st == NULL)
		return db_err(s);
	while ((rc = step(st)) == SQLITE_ROW)
		;
	done(st);
	return rc == SQLITE_DONE ? PURCHASE_OK : map_rc(rc);
}

/*
 * Durability per transaction (WAL mode). The connection runs at
 * synchronous=NORMAL: a commit survives a process crash but not a power
 * loss. A transaction begun FULL has the WAL synced (one fdatasync) before
 * COMMIT returns: used where the promise of DESIGN §3 needs it -- a row a
 * provider call is about to depend on, and every answer a client is given
 * (the decision and its stored reply). The intermediate states are NORMAL:
 * recovery can rebuild them from the providers (Stripe returns the same
 * subscription or payment for the same Idempotency-Key; Twilio is looked up
 * before buying again), and the next synced commit makes them durable too
 * (the WAL is synced as a whole).
 *
 * The sync is asked of the WAL file itself (SQLITE_FCNTL_JOURNAL_POINTER)
 * rather than by switching PRAGMA synchronous, which acts when the pragma
 * is prepared: every switch would re-prepare it. That is SQLite's own
 * FULL commit, done right after the lock is released instead of before:
 * frames a checkpoint moves meanwhile are in the database file, which a
 * checkpoint syncs before the WAL is reused.
 */
enum sync { NORMAL, FULL };

/*
 * The writers' queue. SQLite's write lock cannot be waited for: a writer
 * that finds it taken is told "busy" and polls (the busy handler: yields,
 * then sleeps), and under load a purchase's three write transactions
 * polled ~9 times (bench, 4 processes; each a failed lock, a yield, often
 * a context switch). So our writers first queue in the kernel, on an
 * flock(2) of the database file of their own -- taken before BEGIN
 * IMMEDIATE, given back at COMMIT or ROLLBACK, before any sync -- and find
 * SQLite's lock free but for other programs (the sqlite3 shell, a backup),
 * whom the busy handler still waits for up to busy_timeout_ms. flock and
 * SQLite's fcntl locks do not interact on Linux; a process that dies gives
 * its place back. The queue holds no one longer than a transaction of ours
 * (no provider call, no sync inside), so it has no timeout of its own.
 */
static void
queue_enter(struct pur_store *s)
{
	struct conn *c;

	if (s->queued)
		return;
	/* Opened at the first write: a request that only reads (health, a
	 * plain-CGI refusal) does not pay for it. */
	if (s->c == NULL)
		return;
	c = s->c;
	if (c->queue_fd == -2) {
		const char *file = sqlite3_db_filename(c->db, "main");
		c->queue_fd = file != NULL && *file != '\0' ?
		    open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
	}
	if (c->queue_fd < 0)
		return;
	while (flock(c->queue_fd, LOCK_EX) != 0)
		if (errno != EINTR)
			return; /* (then SQLite's lock alone, as without a queue) */
	s->queued = 1;
}

static void
queue_leave(struct pur_store *s)
{
	if (s->queued) {
		(void)flock(s->c->queue_fd, LOCK_UN);
		s->queued = 0;
	}
}

/* 1 while a transaction is open on the store's connection. */
static int
in_txn(const struct pur_store *s)
{
	if (s->c == NULL)
		return 0;
	return s->c->pg != NULL ? pgq_in_txn(s->c->pg) : !sqlite3_get_autocommit(s->c->db);
}

static const char *
db_msg(const struct pur_store *s)
{
	if (s->c == NULL)
		return purchase_strerror(s->lost);
	return s->c->pg != NULL ? pgq_errmsg(s->c->pg) : sqlite3_errmsg(s->c->db);
}

/* Ends the read transaction, if one is open, before a write: a write sees
 * the newest state. */
static void
reads_end(struct pur_store *s)
{
	if (s->reading)
		pur_store_read_end(s);
}

static enum purchase_err
begin_sync(struct pur_store *s, enum sync want)
{
	enum purchase_err err;

	reads_end(s);
	s->txn_full = want == FULL;
	if (s->c == NULL && (err = attach(s, NULL)) != PURCHASE_OK)
		return err;
	if (s->c->pg != NULL) {
		/* FULL: the server's own synchronous commit (the WAL flushed
		 * before COMMIT returns). NORMAL: asynchronous commit, the
		 * counterpart of SQLite's: a crash of ours loses nothing, one
		 * of the server may lose the last ~0.6 s (3 x wal_writer_delay),
		 * and the next synced commit makes it durable too. One round
		 * trip either way (the simple protocol takes both). */
		int rc = pgq_exec(s->c->pg, want == FULL ? "BEGIN" :
		    "BEGIN; SET LOCAL synchronous_commit TO off");
		return map_rc(rc);
	}
	queue_enter(s);
	if ((err = run(s, S_BEGIN)) != PURCHASE_OK)
		queue_leave(s);
	return err;
}

static enum purchase_err
begin(struct pur_store *s)
{
	return begin_sync(s, FULL);
}

/* One read transaction for a request's first reads (the key, then the
 * purchase's checks): joined when open, ended by the first write, by a
 * provider call (pur_http's before-call hook) or at the request's end.
 * snapshot: the reads must see one state (on PostgreSQL, the only case
 * that opens a transaction; see store.h). */
static enum purchase_err
read_open(struct pur_store *s, int snapshot)
{
	enum purchase_err err;

	if (s->reading && (!snapshot || in_txn(s)))
		return PURCHASE_OK;
	if (!snapshot && s->pool->pg) {
		s->reading = 1;
		return PURCHASE_OK;
	}
	if ((err = run(s, S_BEGIN_READ)) == PURCHASE_OK)
		s->reading = 1;
	return err;
}

enum purchase_err
pur_store_read_begin(struct pur_store *s)
{
	return read_open(s, 0);
}

enum purchase_err
pur_store_snapshot_begin(struct pur_store *s)
{
	return read_open(s, 1);
}

void
pur_store_read_end(struct pur_store *s)
{
	if (s == NULL)
		return;
	if (in_txn(s))
		(void)run(s, S_ROLLBACK);
	s->reading = 0;
	queue_leave(s);
}

void
pur_store_reads_done(void *arg)
{
	struct pur_store *s = arg;

	if (s == NULL)
		return;
	reads_end(s);
	detach(s);
}

static enum purchase_err
sync_wal(struct pur_store *s)
{
	sqlite3_file *f = NULL;
	int rc;

	rc = sqlite3_file_control(s->c->db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &f);
	if (rc != SQLITE_OK || f == NULL)
		return PURCHASE_EDB;
	/* No journal open after COMMIT: the file is not in WAL mode (made by
	 * hand, not by purchasectl init), and its rollback-journal commit
	 * synced the database file itself. */
	if (f->pMethods == NULL)
		return PURCHASE_OK;
	return f->pMethods->xSync(f, SQLITE_SYNC_NORMAL) == SQLITE_OK ? PURCHASE_OK : PURCHASE_EDB;
}

static enum purchase_err
commit(struct pur_store *s)
{
	enum purchase_err err = run(s, S_COMMIT);

	/* A failed COMMIT (busy, I/O) leaves the transaction open: undo it,
	 * so that nothing is half-written and the connection is usable. */
	if (err != PURCHASE_OK && in_txn(s))
		(void)run(s, S_ROLLBACK);
	queue_leave(s);
	if (err == PURCHASE_OK && s->txn_full && s->c->pg == NULL)
		err = sync_wal(s);
	s->txn_full = 0;
	return err;
}

static void
rollback(struct pur_store *s)
{
	if (in_txn(s))
		(void)run(s, S_ROLLBACK);
	queue_leave(s);
}

/* Steps a statement that returns no rows, and resets it. */
static enum purchase_err
exec(struct query *st)
{
	int rc = step(st);

	done(st);
	return rc == SQLITE_DONE ? PURCHASE_OK : map_rc(rc);
}

static void
copy_col(struct query *st, int col, char *dst, size_t n)
{
	size_t len;
	const char *t = col_text(st, col, &len);

	if (len >= n)
		len = n - 1;
	if (len > 0)
		memcpy(dst, t, len);
	dst[len] = '\0';
}

/*
 * Checkpoints: the WAL is copied into the database file (one more fsync of
 * each) once it holds CKPT_PAGES, after a reply rather than inside the
 * commit that crossed the line. Should nobody call pur_store_checkpoint
 * (a program that only commits), the commit that finds the WAL at 16
 * times that does it.
 *
 * A PASSIVE checkpoint never waits, but under steady load some worker is
 * always reading, so the WAL is never started over and grows without end
 * (measured: 37 MB after 8,000 purchases of bench/run.sh) -- and every
 * plain-CGI process, the first to open the file, rereads all of it. Past
 * four times the threshold the checkpoint is RESTART: it waits (busy
 * handler, busy_timeout) for the readers of old frames, a few ms, holding
 * back other writers meanwhile, so that the next commit starts the WAL
 * over, writing over the file's blocks from its start (journal_size_limit,
 * conn_open, cuts back only a WAL that grew past twice that).
 */
#define CKPT_PAGES 1000
#define CROSSING 64

static int
checkpoint(struct conn *c, int mode)
{
	int rc = sqlite3_wal_checkpoint_v2(c->db, "main", mode, NULL, NULL);

	if (rc == SQLITE_OK)
		c->wal_pages = 0;
	return rc;
}

static int
on_wal(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct conn *c = arg;

	(void)db;
	(void)name;
	/* One process checkpoints each step of CKPT_PAGES: the one whose
	 * commit went across it (a commit adds fewer than CROSSING frames).
	 * Every worker checkpointing whenever the WAL is past the threshold
	 * synced the database file after nearly every purchase: until the
	 * WAL starts over it stays past it. */
	if (pages >= CKPT_PAGES && pages % CKPT_PAGES < CROSSING &&
	    (c->wal_pages > pages || pages - c->wal_pages <= CROSSING ||
	        pages / CKPT_PAGES != c->wal_pages / CKPT_PAGES))
		c->ckpt_due = 1;
	c->wal_pages = pages;
	if (pages >= 16 * CKPT_PAGES)
		(void)checkpoint(c, SQLITE_CHECKPOINT_PASSIVE);
	return SQLITE_OK;
}

void
pur_store_checkpoint(struct pur_store *s, int last)
{
	struct conn *c;
	int due;

	if (s == NULL || s->pool->pg)
		return; /* (PostgreSQL checkpoints on its own) */
	due = s->ckpt_due || (s->c != NULL && s->c->ckpt_due);
	if ((!last && !due) || (s->c == NULL && attach(s, NULL) != PURCHASE_OK))
		return;
	c = s->c;
	if (last && c->wal_pages >= CKPT_PAGES / 4)
		(void)checkpoint(c, SQLITE_CHECKPOINT_TRUNCATE);
	else if (due)
		(void)checkpoint(c, c->wal_pages >= 4 * CKPT_PAGES ? SQLITE_CHECKPOINT_RESTART :
		                                                     SQLITE_CHECKPOINT_PASSIVE);
	s->ckpt_due = c->ckpt_due = 0;
	detach(s);
}

static void
conn_close(struct conn *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < S__MAX; i++) {
		sqlite3_finalize(c->st[i].lite);
		pgq_finalize(c->st[i].pg);
	}
	sqlite3_close(c->db);
	pgq_close(c->pg);
	if (c->queue_fd >= 0)
		close(c->queue_fd);
	free(c);
}

/* The database's clock less ours, in whole seconds (see store.h). */
static int64_t clock_offset;

int64_t
pur_store_clock_offset(void)
{
	return __atomic_load_n(&clock_offset, __ATOMIC_RELAXED);
}

/* Our clock read on both sides of the server's: the offset to the
 * nearest second, at most the round trip off. */
static void
note_clock(struct pgq_conn *pg)
{
	struct timespec a, b;
	int64_t server, mid;

	clock_gettime(CLOCK_REALTIME, &a);
	if (pgq_clock_ms(pg, &server) != PGQ_OK)
		return;
	clock_gettime(CLOCK_REALTIME, &b);
	mid = ((int64_t)a.tv_sec * 1000 + a.tv_nsec / 1000000 + (int64_t)b.tv_sec * 1000 +
	          b.tv_nsec / 1000000) / 2;
	server -= mid;
	__atomic_store_n(&clock_offset, (server >= 0 ? server + 500 : server - 500) / 1000,
	    __ATOMIC_RELAXED);
}

static enum purchase_err
conn_open(const struct pool *p, struct conn **out, struct purchase_detail *d)
{
	/* journal_mode=WAL is not among them: it is a property of the file,
	 * set once by pur_store_migrate (purchasectl init), and asking again
	 * at every open is one more statement for every plain-CGI request.
	 * Nor is mmap_size: measured with bench/run.sh, mmap cost more than
	 * the preads it saves -- every checkpoint that grows the file remaps
	 * it in each worker (munmap, page-table work, faults). */
	/* journal_size_limit: what the WAL keeps of its size when it starts
	 * over, 32 MiB, twice the 4000 pages at which the checkpoints make it
	 * start over (above): under load the file so keeps its blocks and a
	 * commit writes over them. Cut back to 4 MiB, three quarters of the
	 * commits grew the file again, and the one fdatasync of a purchase
	 * then also committed ext4's journal for the new size and blocks
	 * (measured, bench/run.sh part peer: 0.73x the PHP peer's CPU per
	 * purchase with 4 MiB, 0.66x with this). */
	static const char *const pragmas[] = {"PRAGMA synchronous=NORMAL",
	    "PRAGMA foreign_keys=ON", "PRAGMA temp_store=MEMORY",
	    "PRAGMA journal_size_limit=33554432"};
	enum purchase_err err;
	struct conn *c;
	sqlite3_stmt *st;
	size_t i;
	int rc;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return pur_error_set(d, PURCHASE_ENOMEM, "open %s: out of memory", p->path);
	c->busy_timeout_ms = p->busy_timeout_ms;
	c->queue_fd = -2; /* not opened yet */
	if (p->pg) {
		char msg[256];
		c->queue_fd = -1; /* the server queues its writers */
		rc = pgq_open(p->path, p->busy_timeout_ms, &c->pg, msg, sizeof(msg));
		if (rc != PGQ_OK) {
			err = pur_error_set(d, map_rc(rc), "connect to PostgreSQL: %s", msg);
			conn_close(c);
			return err == PURCHASE_OK ? PURCHASE_EDB : err;
		}
		note_clock(c->pg);
		*out = c;
		return PURCHASE_OK;
	}
	rc = sqlite3_open_v2(p->path, &c->db,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, pur_store_vfs());
	if (rc != SQLITE_OK) {
		err = pur_error_set(d, map_rc(rc), "open %s: %s", p->path,
		    c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
		conn_close(c);
		return err == PURCHASE_OK ? PURCHASE_EDB : err;
	}
	/* The busy handler goes in before anything that may wait on a lock. */
	sqlite3_busy_handler(c->db, on_busy, c);
	sqlite3_extended_result_codes(c->db, 1);
	/* The last connection to close would checkpoint the WAL (two more
	 * fsyncs): every plain-CGI request would pay it. Nor does a commit
	 * checkpoint (the default, at 1000 pages): pur_store_checkpoint does,
	 * called once the reply is sent. */
	sqlite3_db_config(c->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	sqlite3_wal_hook(c->db, on_wal, c);
	for (i = 0; i < sizeof(pragmas) / sizeof(pragmas[0]); i++) {
		if (sqlite3_prepare_v2(c->db, pragmas[i], -1, &st, NULL) != SQLITE_OK) {
			rc = sqlite3_errcode(c->db);
			goto fail;
		}
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			;
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			goto fail;
	}
	*out = c;
	return PURCHASE_OK;
fail:
	err = pur_error_set(d, map_rc(rc), "%s: %s", p->path, sqlite3_errmsg(c->db));
	conn_close(c);
	return err;
}

/* The process's pools, one per database (path and busy timeout). */
static pthread_mutex_t pools_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pool *pools;

static struct pool *
pool_get(const char *path, long busy_timeout_ms)
{
	struct pool *p;

	pthread_mutex_lock(&pools_lock);
	for (p = pools; p != NULL; p = p->next)
		if (p->busy_timeout_ms == busy_timeout_ms && strcmp(p->path, path) == 0)
			break;
	if (p == NULL && (p = calloc(1, sizeof(*p))) != NULL) {
		if ((p->path = strdup(path)) == NULL) {
			free(p);
			p = NULL;
		} else {
			p->busy_timeout_ms = busy_timeout_ms;
			p->pg = pgq_is_uri(path);
			pthread_mutex_init(&p->lock, NULL);
			pthread_cond_init(&p->given, NULL);
			p->next = pools;
			pools = p;
		}
	}
	if (p != NULL)
		p->users++;
	pthread_mutex_unlock(&pools_lock);
	return p;
}

/* The last store of a pool closes its connections. */
static void
pool_put(struct pool *p)
{
	struct pool **pp;
	struct conn *c;

	if (p == NULL)
		return;
	pthread_mutex_lock(&pools_lock);
	if (--p->users > 0) {
		pthread_mutex_unlock(&pools_lock);
		return;
	}
	for (pp = &pools; *pp != NULL; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	pthread_mutex_unlock(&pools_lock);
	while ((c = p->free) != NULL) {
		p->free = c->next;
		conn_close(c);
	}
	pthread_cond_destroy(&p->given);
	pthread_mutex_destroy(&p->lock);
	free(p->path);
	free(p);
}

/* A connection for the store: an idle one of the pool, a new one while
 * fewer than POOL_MAX are open, else the next one given back. */
static enum purchase_err
attach(struct pur_store *s, struct purchase_detail *d)
{
	struct pool *p = s->pool;
	struct conn *c;
	struct timespec until;
	int rc = 0, fresh = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += p->busy_timeout_ms / 1000;
	until.tv_nsec += p->busy_timeout_ms % 1000 * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&p->lock);
	while ((c = p->free) == NULL && p->opened >= POOL_MAX && rc == 0)
		rc = pthread_cond_timedwait(&p->given, &p->lock, &until);
	if (c != NULL)
		p->free = c->next;
	else if (p->opened < POOL_MAX)
		fresh = ++p->opened;
	pthread_mutex_unlock(&p->lock);
	if (c == NULL && !fresh)
		return pur_error_set(d, s->lost = PURCHASE_EBUSY,
		    "no database connection free in %ld ms", p->busy_timeout_ms);
	if (c == NULL && (s->lost = conn_open(p, &c, d)) != PURCHASE_OK) {
		pthread_mutex_lock(&p->lock);
		p->opened--;
		pthread_cond_signal(&p->given);
		pthread_mutex_unlock(&p->lock);
		return s->lost;
	}
	c->next = NULL;
	s->c = c;
	s->lost = PURCHASE_OK;
	return PURCHASE_OK;
}

/* Gives the connection back, unless a transaction is open on it (none is
 * between our functions: they end every one they begin). */
static void
detach(struct pur_store *s)
{
	struct conn *c = s->c;
	struct pool *p = s->pool;

	if (c == NULL || s->queued || in_txn(s))
		return;
	if (c->pg != NULL && !pgq_usable(c->pg)) {
		/* The server went away: not lent again. */
		s->c = NULL;
		conn_close(c);
		pthread_mutex_lock(&p->lock);
		p->opened--;
		pthread_cond_signal(&p->given);
		pthread_mutex_unlock(&p->lock);
		return;
	}
	if (c->pg == NULL)
		(void)pur_store_vfs_flush();
	s->ckpt_due |= c->ckpt_due;
	c->ckpt_due = 0;
	s->c = NULL;
	pthread_mutex_lock(&p->lock);
	c->next = p->free;
	p->free = c;
	pthread_cond_signal(&p->given);
	pthread_mutex_unlock(&p->lock);
}

enum purchase_err
pur_store_open(const char *path, long busy_timeout_ms, struct pur_store **out,
    struct purchase_detail *d)
{
	struct pur_store *s;
	enum purchase_err err;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return PURCHASE_ENOMEM;
	if ((s->pool = pool_get(path, busy_timeout_ms)) == NULL) {
		free(s);
		return PURCHASE_ENOMEM;
	}
	/* One connection now, so that a database that cannot be opened is
	 * told here, with its reason. */
	if ((err = attach(s, d)) != PURCHASE_OK) {
		pur_store_close(s);
		return err;
	}
	*out = s;
	return PURCHASE_OK;
}

void
pur_store_close(struct pur_store *s)
{
	if (s == NULL)
		return;
	if (s->c != NULL) {
		if (in_txn(s))
			(void)run(s, S_ROLLBACK);
		queue_leave(s);
		detach(s);
		if (s->c != NULL) { /* (it could not be given back) */
			conn_close(s->c);
			pthread_mutex_lock(&s->pool->lock);
			s->pool->opened--;
			pthread_cond_signal(&s->pool->given);
			pthread_mutex_unlock(&s->pool->lock);
		}
	}
	pool_put(s->pool);
	free(s);
}

enum purchase_err
pur_store_schema_version(struct pur_store *s, int *version)
{
	struct query *st = get(s, S_USER_VERSION);
	int rc;

	*version = 0;
	if (st == NULL)
		return db_err(s);
	rc = step(st);
	if (rc == SQLITE_ROW)
		*version = (int)col_int(st, 0);
	done(st);
	if (rc == PGQ_NO_TABLE)
		return PURCHASE_OK; /* a PostgreSQL database not set up yet */
	return rc == SQLITE_ROW ? PURCHASE_OK : map_rc(rc);
}

/* Runs every statement of a script (no sqlite3_exec: each statement is
 * prepared, stepped and finalized, so an authorizer sees each). On
 * PostgreSQL the script goes as one simple query. */
static enum purchase_err
run_script(struct pur_store *s, const char *text, struct purchase_detail *d)
{
	const char *tail = text;
	enum purchase_err err;
	sqlite3_stmt *st;
	int rc;

	if (s->c == NULL && (err = attach(s, d)) != PURCHASE_OK)
		return err;
	if (s->c->pg != NULL) {
		if ((rc = pgq_exec(s->c->pg, text)) != PGQ_OK)
			return pur_error_set(d, map_rc(rc) == PURCHASE_EBUSY ? PURCHASE_EBUSY :
			    PURCHASE_EDB, "%s", db_msg(s));
		return PURCHASE_OK;
	}
	while (*tail != '\0') {
		if (sqlite3_prepare_v2(s->c->db, tail, -1, &st, &tail) != SQLITE_OK)
			return pur_error_set(d, db_err(s) == PURCHASE_EBUSY ?
			    PURCHASE_EBUSY : PURCHASE_EDB, "%s", db_msg(s));
		if (st == NULL) /* comment or white space */
			continue;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			;
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return pur_error_set(d, map_rc(rc), "%s", db_msg(s));
	}
	return PURCHASE_OK;
}

/*
 * Migrations: pur_migrations[v - 1] (generated from sql/) takes a database
 * from version v - 1 to v; each runs in its own transaction with the
 * version it reaches, so a failure leaves the last good version. Foreign
 * keys are off while they run -- a migration may rebuild a table others
 * reference, which SQLite does by copy, drop and rename -- and checked
 * before each commit.
 *
 * PostgreSQL starts at the current version: sql/pg/schema.sql (generated
 * into pur_pg_schema) makes an empty database version PUR_SCHEMA_VERSION
 * in one transaction, its version in the table schema_version; a later
 * version comes with a migration for each backend. The first PostgreSQL
 * schema was version 3; version 4 (sql/004-check-lists.sql) only changed
 * how SQLite's CHECKs are spelled, which PostgreSQL evaluates as fast
 * either way, so there it records the version and nothing else.
 */
#define PG_FIRST_VERSION 3
#define NMIGRATIONS ((int)(sizeof(pur_migrations) / sizeof(pur_migrations[0])))
_Static_assert(sizeof(pur_migrations) / sizeof(pur_migrations[0]) == PUR_SCHEMA_VERSION,
    "lib/local.mk's PUR_MIGRATIONS and PUR_SCHEMA_VERSION disagree");

static enum purchase_err
migrate_one(struct pur_store *s, int to, struct purchase_detail *d)
{
	char bump[64];
	sqlite3_stmt *st;
	enum purchase_err err;
	int rc;

	if ((err = begin(s)) != PURCHASE_OK)
		return pur_error_set(d, err, "begin: %s", db_msg(s));
	snprintf(bump, sizeof(bump), "PRAGMA user_version = %d", to);
	if ((err = run_script(s, pur_migrations[to - 1], d)) != PURCHASE_OK ||
	    (err = run_script(s, bump, d)) != PURCHASE_OK)
		goto out;
	if (sqlite3_prepare_v2(s->c->db, "PRAGMA foreign_key_check", -1, &st, NULL) != SQLITE_OK) {
		err = pur_error_set(d, PURCHASE_EDB, "%s", db_msg(s));
		goto out;
	}
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		err = pur_error_set(d, PURCHASE_EDB, "migration to version %d breaks a foreign key",
		    to);
		goto out;
	}
	return commit(s);
out:
	rollback(s);
	return err;
}

/* An empty PostgreSQL database made version PUR_SCHEMA_VERSION, or one at
 * an earlier version brought to it. */
static enum purchase_err
migrate_pg(struct pur_store *s, int from, struct purchase_detail *d)
{
	char bump[64];
	enum purchase_err err;

	snprintf(bump, sizeof(bump), "UPDATE schema_version SET version = %d", PUR_SCHEMA_VERSION);
	if ((err = begin(s)) != PURCHASE_OK)
		return pur_error_set(d, err, "begin: %s", db_msg(s));
	if ((err = run_script(s, from == 0 ? pur_pg_schema : bump, d)) != PURCHASE_OK) {
		rollback(s);
		return err;
	}
	return commit(s);
}

enum purchase_err
pur_store_migrate(struct pur_store *s, struct purchase_detail *d)
{
	enum purchase_err err;
	int v;

	if (!s->pool->pg && (err = run_script(s, "PRAGMA journal_mode=WAL", d)) != PURCHASE_OK)
		return err;
	if ((err = pur_store_schema_version(s, &v)) != PURCHASE_OK)
		return pur_error_set(d, err, "cannot read the schema version: %s", db_msg(s));
	if (v > NMIGRATIONS || v < 0 || (s->pool->pg && v != 0 && v < PG_FIRST_VERSION))
		return pur_error_set(d, PURCHASE_ESCHEMA, "database is at schema version %d; "
		    "this build knows version %d", v, PUR_SCHEMA_VERSION);
	if (v == NMIGRATIONS)
		return PURCHASE_OK;
	if (s->pool->pg)
		return migrate_pg(s, v, d);
	if ((err = run_script(s, "PRAGMA foreign_keys=OFF", d)) != PURCHASE_OK)
		return err;
	for (; v < NMIGRATIONS && err == PURCHASE_OK; v++)
		err = migrate_one(s, v + 1, d);
	(void)run_script(s, "PRAGMA foreign_keys=ON", NULL);
	return err;
}

/* Authorizer for price scripts: INSERT into prices (and what an INSERT
 * needs to read), nothing else. */
static int
prices_only(void *arg, int action, const char *a, const char *b, const char *c,
    const char *e)
{
	(void)arg, (void)b, (void)c, (void)e;
	if (action == SQLITE_INSERT && a != NULL && strcmp(a, "prices") == 0)
		return SQLITE_OK;
	if (action == SQLITE_READ && a != NULL && strcmp(a, "prices") == 0)
		return SQLITE_OK;
	return SQLITE_DENY;
}

/*
 * PostgreSQL has no authorizer: a price script is read here instead, and
 * must be only statements "INSERT INTO prices (columns) VALUES (literals)
 * [, (literals)]..." -- quoted strings, numbers, NULL, commas and
 * parentheses after VALUES, comments anywhere. Anything else (a SELECT, a
 * function call, a second table) is refused before it is sent.
 */
static int
word_at(const char **p, const char *w)
{
	size_t n = strlen(w);

	while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')
		(*p)++;
	if (strncasecmp(*p, w, n) != 0 || isalnum((unsigned char)(*p)[n]) || (*p)[n] == '_')
		return 0;
	*p += n;
	return 1;
}

static int
prices_script_ok(const char *t)
{
	int in_values = 0, depth = 0;

	for (;;) {
		while (*t == ' ' || *t == '\t' || *t == '\n' || *t == '\r')
			t++;
		if (t[0] == '-' && t[1] == '-') {
			t += strcspn(t, "\n");
			continue;
		}
		if (*t == '\0')
			return depth == 0;
		if (!in_values) {
			const char *cols;
			if (!word_at(&t, "INSERT") || !word_at(&t, "INTO") || !word_at(&t, "prices"))
				return 0;
			while (*t == ' ' || *t == '\t')
				t++;
			if (*t != '(')
				return 0;
			cols = t + 1;
			t += strcspn(t, ")");
			if (*t != ')' || strspn(cols, "abcdefghijklmnopqrstuvwxyz_, \t") !=
			        (size_t)(t - cols))
				return 0;
			t++;
			if (!word_at(&t, "VALUES"))
				return 0;
			in_values = 1;
			continue;
		}
		if (*t == '\'') {
			for (t++; *t != '\0'; t++)
				if (*t == '\'' && *++t != '\'')
					break;
			if (t[-1] != '\'')
				return 0;
		} else if (*t == '(') {
			depth++, t++;
		} else if (*t == ')') {
			if (--depth < 0)
				return 0;
			t++;
		} else if (*t == ',') {
			t++;
		} else if (*t == ';') {
			if (depth != 0)
				return 0;
			in_values = 0, t++;
		} else if (*t == '-' || isdigit((unsigned char)*t)) {
			t++;
			while (isdigit((unsigned char)*t) || *t == '.')
				t++;
		} else if (!word_at(&t, "NULL")) {
			return 0;
		}
	}
}

enum purchase_err
pur_store_load_prices(struct pur_store *s, const char *text, struct purchase_detail *d)
{
	enum purchase_err err;

	if (s->pool->pg && !prices_script_ok(text))
		return pur_error_set(d, PURCHASE_EDB, "a price list may only INSERT INTO prices "
		    "(columns) VALUES (literals)");
	if ((err = begin(s)) != PURCHASE_OK)
		return pur_error_set(d, err, "begin: %s", db_msg(s));
	if ((err = run(s, S_PRICES_CLEAR)) != PURCHASE_OK)
		goto out;
	if (s->c->pg != NULL) {
		err = run_script(s, text, d);
	} else {
		sqlite3_set_authorizer(s->c->db, prices_only, NULL);
		err = run_script(s, text, d);
		sqlite3_set_authorizer(s->c->db, NULL, NULL);
	}
	if (err != PURCHASE_OK)
		goto out;
	return commit(s);
out:
	rollback(s);
	return err;
}

enum purchase_err
pur_store_account_insert(struct pur_store *s, const char *name, const char *cus, int64_t now,
    int64_t *id)
{
	struct query *st = get(s, S_ACCOUNT_INSERT);
	enum purchase_err err;
	int rc;

	if (st == NULL)
		return db_err(s);
	if ((err = begin(s)) != PURCHASE_OK)
		return err;
	bind_text(st, 1, name);
	bind_text(st, 2, cus);
	bind_int(st, 3, now);
	rc = step(st);
	done(st);
	if (rc != SQLITE_DONE) {
		rollback(s);
		return (rc & 0xff) == SQLITE_CONSTRAINT ? PURCHASE_EINVAL : map_rc(rc);
	}
	*id = last_id(s);
	return commit(s);
}

/* An account from its columns id, name, stripe_customer at col. */
static void
account_from_row(struct query *st, int col, struct pur_account *out)
{
	memset(out, 0, sizeof(*out));
	out->id = col_int(st, col);
	copy_col(st, col + 1, out->name, sizeof(out->name));
	copy_col(st, col + 2, out->stripe_customer, sizeof(out->stripe_customer));
}

enum purchase_err
pur_store_account_get(struct pur_store *s, int64_t id, struct pur_account *out)
{
	struct query *st = get(s, S_ACCOUNT_GET);
	int rc;

	if (st == NULL)
		return db_err(s);
	bind_int(st, 1, id);
	rc = step(st);
	if (rc == SQLITE_ROW)
		account_from_row(st, 0, out);
	done(st);
	if (rc == SQLITE_DONE)
		return PURCHASE_ENOT_FOUND;
	return rc == SQLITE_ROW ? PURCHASE_OK : map_rc(rc);
}

enum purchase_err
pur_store_key_insert(struct pur_store *s, int64_t account_id, const char *prefix,
    const char *hash_hex, int64_t now)
{
	struct query *st = get(s, S_KEY_INSERT);
	enum purchase_err err;

	if (st == NULL)
		return db_err(s);
	if ((err = begin(s)) != PURCHASE_OK)
		return err;
	bind_int(st, 1, account_id);
	bind_text(st, 2, prefix);
	bind_text(st, 3, hash_hex);
	bind_int(st, 4, now);
	if ((err = exec(st)) != PURCHASE_OK) {
		rollback(s);
		return err;
	}
	return commit(s);
}

enum purchase_err
pur_store_key_lookup(struct pur_store *s, const char *prefix, int64_t *account_id,
    char hash_hex[65])
{
	struct query *st = get(s, S_KEY_LOOKUP);
	int rc;

	if (st == NULL)
		return db_err(s);
	bind_text(st, 1, prefix);
	rc = step(st);
	if (rc == SQLITE_ROW) {
		*account_id = col_int(st, 0);
		copy_col(st, 1, hash_hex, 65);
	}
	done(st);
	if (rc == SQLITE_DONE)
		return PURCHASE_ENOT_FOUND;
	return rc == SQLITE_ROW ? PURCHASE_OK : map_rc(rc);
}

enum purchase_err
pur_store_key_revoke(struct pur_store *s, const char *prefix, int64_t now)
{
	struct query *st = get(s, S_KEY_REVOKE);
	enum purchase_err err;

	if (st == NULL)
		return db_err(s);
	if ((err = begin(s)) != PURCHASE_OK)
		return err;
	bind_text(st, 1, prefix);
	bind_int(st, 2, now);
	if ((err = exec(st)) != PURCHASE_OK) {
		rollback(s);
		return err;
	}
	if (changes(s) == 0) {
		rollback(s);
		return PURCHASE_ENOT_FOUND;
	}
	return commit(s);
}

enum purchase_err
pur_store_price_get(struct pur_store *s, const char *country, const char *type,
    int64_t *cents, char price_id[PUR_ID_MAX])
{
	struct query *st = get(s, S_PRICE_GET);
	int rc;

	if (st == NULL)
		return db_err(s);
	bind_text(st, 1, country);
	bind_text(st, 2, type);
	rc = step(st);
	if (rc == SQLITE_ROW) {
		*cents = col_int(st, 0);
		copy_col(st, 1, price_id, PUR_ID_MAX);
	}
	done(st);
	if (rc == SQLITE_DONE)
		return PURCHASE_ENOPRICE;
	return rc == SQLITE_ROW ? PURCHASE_OK : map_rc(rc);
}

enum purchase_err
pur_store_search_rate_check(struct pur_store *s, int64_t account_id, long limit, int64_t now,
    int64_t *retry_after)
{
	struct query *st;
	enum purchase_err err = PURCHASE_OK;
	int rc;

	if (limit <= 0)
		return PURCHASE_OK;
	if ((st = get(s, S_RATE_GET)) == NULL)
		return db_err(s);
	bind_int(st, 1, account_id);
	rc = step(st);
	if (rc == SQLITE_ROW) {
		if (col_int(st, 0) > now - 60 && col_int(st, 1) >= limit) {
			err = PURCHASE_ERATE;
			/* The window starts over a minute after it began. */
			*retry_after = col_int(st, 0) + 60 - now;
		}
	} else if (rc != SQLITE_DONE) {
		err = map_rc(rc);
	}
	done(st);
	return err;
}

/* The offers as S_SEARCH_SAVE's JSON array; 0, or -1 out of memory. */
static int
offers_json(struct pur_buf *b, const struct pur_offer_row *rows, size_t n)
{
	char nums[80];
	int bad = pur_buf_adds(b, "[");
	size_t i;

	for (i = 0; i < n; i++) {
		bad |= pur_buf_adds(b, i > 0 ? ",{\"n\":" : "{\"n\":");
		bad |= pur_buf_json_str(b, rows[i].phone_number);
		bad |= pur_buf_adds(b, ",\"c\":");
		bad |= pur_buf_json_str(b, rows[i].country_code);
		bad |= pur_buf_adds(b, ",\"t\":");
		bad |= pur_buf_json_str(b, rows[i].type);
		bad |= pur_buf_adds(b, ",\"s\":");
		bad |= pur_buf_json_str(b, rows[i].stripe_price_id);
		bad |= pur_buf_adds(b, ",\"r\":");
		bad |= pur_buf_json_str(b, rows[i].region);
		snprintf(nums, sizeof(nums), ",\"p\":%lld,\"m\":%d,\"e\":%lld}",
		    (long long)rows[i].price_cents, rows[i].sms_capable ? 1 : 0,
		    (long long)rows[i].expires_at);
		bad |= pur_buf_adds(b, nums);
	}
	return bad | pur_buf_adds(b, "]");
}

/* PostgreSQL: S_SEARCH_SAVE, one statement for all of a search's writes. */
static enum purchase_err
offers_put_pg(struct pur_store *s, int64_t account_id, const struct pur_offer_row *rows,
    size_t n, int64_t now)
{
	struct query *st = get(s, S_SEARCH_SAVE);
	struct pur_buf set;
	int rc;

	if (st == NULL)
		return db_err(s);
	pur_buf_init(&set, (size_t)1 << 20);
	if (offers_json(&set, rows, n) != 0) {
		pur_buf_free(&set);
		return PURCHASE_ENOMEM;
	}
	reads_end(s);
	bind_int(st, 1, account_id);
	bind_bytes(st, 2, set.data, set.len);
	bind_int(st, 3, now);
	while ((rc = step(st)) == SQLITE_ROW)
		;
	done(st);
	pur_buf_free(&set);
	return rc == SQLITE_DONE ? PURCHASE_OK : map_rc(rc);
}

enum purchase_err
pur_store_offers_put(struct pur_store *s, int64_t account_id, const struct pur_offer_row *rows,
    size_t n, int64_t now)
{
	struct query *bump, *prune, *put;
	enum purchase_err err;
	size_t i;
	int rc = SQLITE_DONE;

	if (s->pool->pg)
		return offers_put_pg(s, account_id, rows, n, now);
	bump = get(s, S_RATE_BUMP);
	prune = get(s, S_OFFER_PRUNE);
	put = get(s, S_OFFER_PUT);
	if (bump == NULL || prune == NULL || put == NULL)
		return db_err(s);
	/* An offer lost to a power cut costs the client one more search. */
	if ((err = begin_sync(s, NORMAL)) != PURCHASE_OK)
		return err;
	/* Each offer its own statement: no round trip to save. */
	for (i = 0; i < n && rc == SQLITE_DONE; i++) {
		bind_int(put, 1, account_id);
		bind_text(put, 2, rows[i].phone_number);
		bind_text(put, 3, rows[i].country_code);
		bind_text(put, 4, rows[i].type);
		bind_int(put, 5, rows[i].price_cents);
		bind_text(put, 6, rows[i].stripe_price_id);
		bind_int(put, 7, rows[i].sms_capable);
		bind_int(put, 8, rows[i].expires_at);
		bind_text(put, 9, rows[i].region);
		rc = step(put);
		done(put);
	}
	if (rc != SQLITE_DONE)
		goto fail;
	bind_int(bump, 1, account_id);
	bind_int(bump, 2, now);
	rc = step(bump);
	done(bump);
	if (rc != SQLITE_DONE)
		goto fail;
	bind_int(prune, 1, now);
	rc = step(prune);
	done(prune);
	if (rc != SQLITE_DONE)
		goto fail;
	return commit(s);
fail:
	rollback(s);
	return map_rc(rc);
}

/* The offer of e164 from S_OFFER_GET's columns, starting at col. */
static void
offer_from_row(struct query *st, int col, const char *e164, struct pur_offer_row *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->phone_number, sizeof(out->phone_number), "%s", e164);
	copy_col(st, col, out->country_code, sizeof(out->country_code));
	copy_col(st, col + 1, out->type, sizeof(out->type));
	out->price_cents = col_int(st, col + 2);
	copy_col(st, col + 3, out->stripe_price_id, sizeof(out->stripe_price_id));
	out->sms_capable = (int)col_int(st, col + 4);
	out->expires_at = col_int(st, col + 5);
	copy_col(st, col + 6, out->region, sizeof(out->region));
}

enum purchase_err
pur_store_offer_get(struct pur_store *s, int64_t account_id, const char *e164, int64_t now,
    struct pur_offer_row *out)
{
	struct query *st = get(s, S_OFFER_GET);
	int rc;

	if (st == NULL)
		return db_err(s);
	bind_int(st, 1, account_id);
	bind_text(st, 2, e164);
	bind_int(st, 3, now);
	rc = step(st);
	if (rc == SQLITE_ROW)
		offer_from_row(st, 0, e164, out);
	done(st);
	if (rc == SQLITE_DONE)
		return PURCHASE_ENOT_AVAILABLE;
	return rc == SQLITE_ROW ? PURCHASE_OK : map_rc(rc);
}

enum purchase_err
pur_store_purchase_count_since(struct pur_store *s, int64_t account_id, int64_t since,
    long *count, int64_t *oldest)
{
	struct query *st = get(s, S_PURCHASE_COUNT);
	int rc;

	*count = 0;
	*oldest = 0;
	if (st == NULL)
		return db_err(s);
	bind_int(st, 1, account_id);
	bind_int(st, 2, since);
	rc = step(st);
	if (rc == SQLITE_ROW) {
		*count = (long)col_int(st, 0);
		*oldest = col_int(st, 1);
	}
	done(st);
	return rc == SQLITE_ROW ? PURCHASE_OK : map_rc(rc);
}

/* 1 when the statement (bound to key) returns a row. */
static enum purchase_err
exists(struct pur_store *s, enum stmt id, const char *key, int *found)
{
	struct query *st = get(s, id);
	int rc;

	*found = 0;
	if (st == NULL)
		return db_err(s);
	bind_text(st, 1, key);
	rc = step(st);
	*found = rc == SQLITE_ROW;
	done(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? PURCHASE_OK : map_rc(rc);
}

enum purchase_err
pur_store_purchase_checks(struct pur_store *s, int64_t account_id, const char *e164,
    int64_t now, struct pur_offer_row *offer, struct pur_account *acct)
{
	struct query *st = get(s, S_PURCHASE_CHECKS);
	enum purchase_err err;
	int rc;

	if (st == NULL)
		return db_err(s);
	bind_int(st, 1, account_id);
	bind_text(st, 2, e164);
	bind_int(st, 3, now);
	if ((rc = step(st)) != SQLITE_ROW) {
		done(st);
		return rc == SQLITE_DONE ? PURCHASE_EDB : map_rc(rc); /* (always one row) */
	}
	if (col_int(st, 0) != 0)
		err = PURCHASE_EIN_USE;
	else if (col_text(st, 1, NULL) == NULL)
		err = PURCHASE_ENOT_AVAILABLE;
	else if (col_text(st, 8, NULL) == NULL)
		err = PURCHASE_ENOT_FOUND;
	else {
		offer_from_row(st, 1, e164, offer);
		account_from_row(st, 8, acct);
		err = PURCHASE_OK;
	}
	done(st);
	return err;
}

void
pur_idem_free(struct pur_idem *i)
{
	if (i == NULL)
		return;
	free(i->body);
	i->body = NULL;
	i->len = 0;
}

enum purchase_err
pur_store_idem_get(struct pur_store *s, int64_t account_id, const char *key,
    struct pur_idem *out)
{
	struct query *st = get(s, S_IDEM_GET);
	enum purchase_err err = PURCHASE_OK;
	int rc;

	memset(out, 0, sizeof(*out));
	if (st == NULL)
		return db_err(s);
	bind_int(st, 1, account_id);
	bind_text(st, 2, key);
	rc = step(st);
	if (rc == SQLITE_ROW) {
		copy_col(st, 0, out->request_hash, sizeof(out->request_hash));
		out->purchase_id = col_int(st, 1);
		out->status = col_int(st, 2);
		if (out->status != 0) {
			const char *b = col_text(st, 3, &out->len);
			if ((out->body = malloc(out->len + 1)) == NULL) {
				err = PURCHASE_ENOMEM;
			} else {
				if (out->len > 0)
					memcpy(out->body, b, out->len);
				out->body[out->len] = '\0';
			}
		}
	} else if (rc == SQLITE_DONE) {
		err = PURCHASE_ENOT_FOUND;
	} else {
		err = map_rc(rc);
	}
	done(st);
	return err;
}

enum purchase_err
pur_store_claim(struct pur_store *s, struct pur_purchase *p, const char *key,
    const char *request_hash, int64_t now, struct pur_idem *idem)
{
	struct query *ins = get(s, S_PURCHASE_INSERT), *iins = get(s, S_IDEM_INSERT);
	enum purchase_err err;
	int rc, single;

	if (ins == NULL || iins == NULL)
		return db_err(s);
	p->no_idem = key == NULL;
	/* Not synced (issue 11: one fsync per purchase): a claim lost to a
	 * power cut is unacknowledged work -- its nonce is gone with it, so
	 * its Idempotency-Keys are never sent again; what it made at the
	 * providers (an incomplete subscription, a number) is repaired by
	 * `purchasectl reconcile --repair`. A process crash loses nothing.
	 * PostgreSQL without a key: the INSERT alone, a transaction of its
	 * own that its RETURNING makes asynchronous (see sql_pg) -- one round
	 * trip, not BEGIN, INSERT, COMMIT. */
	single = s->pool->pg && key == NULL;
	if (single)
		reads_end(s);
	else if ((err = begin_sync(s, NORMAL)) != PURCHASE_OK)
		return err;
	/* Under the write lock: a record of the key wins over everything (a
	 * concurrent twin of this request), then a live number. (PostgreSQL:
	 * the account's lock; see sql_pg.) */
	if (s->c->pg != NULL && key != NULL) {
		struct query *lk = get(s, S_CLAIM_LOCK);
		if (lk == NULL) {
			err = db_err(s);
			goto out;
		}
		bind_int(lk, 1, p->account_id);
		while ((rc = step(lk)) == SQLITE_ROW)
			;
		done(lk);
		if (rc != SQLITE_DONE) {
			err = map_rc(rc);
			goto out;
		}
	}
	if (key != NULL) {
		err = pur_store_idem_get(s, p->account_id, key, idem);
		if (err == PURCHASE_OK) {
			rollback(s);
			return PURCHASE_EIDEM_BUSY;
		}
		if (err != PURCHASE_ENOT_FOUND)
			goto out;
	}
	/* (The partial unique index over live purchases -- a delivered
	 * number's purchase is live -- refuses a second buyer below.) */
	bind_int(ins, 1, p->account_id);
	bind_text(ins, 2, p->phone_number);
	bind_text(ins, 3, p->country_code);
	bind_text(ins, 4, p->type);
	bind_int(ins, 5, p->price_cents);
	bind_text(ins, 6, p->stripe_price_id);
	bind_int(ins, 7, p->sms_capable);
	bind_text(ins, 8, p->stripe_customer);
	bind_text(ins, 9, p->payment_method);
	bind_int(ins, 10, p->lease_until);
	bind_int(ins, 11, now);
	if (p->nonce[0] != '\0')
		bind_text(ins, 12, p->nonce);
	bind_text(ins, 13, p->region);
	rc = step(ins);
	done(ins);
	if (rc == SQLITE_CONSTRAINT_UNIQUE) {
		/* The partial unique index: a live purchase of this number. */
		err = PURCHASE_EIN_USE;
		goto out;
	}
	if (rc != SQLITE_DONE) {
		err = map_rc(rc);
		goto out;
	}
	p->id = last_id(s);
	p->lease_token = 1;
	p->state = PUR_PENDING;
	p->created_at = now;
	if (key != NULL) {
		bind_int(iins, 1, p->account_id);
		bind_text(iins, 2, key);
		bind_text(iins, 3, request_hash);
		bind_int(iins, 4, p->id);
		bind_int(iins, 5, now);
		if ((err = exec(iins)) != PURCHASE_OK)
			goto out;
	}
	return single ? PURCHASE_OK : commit(s);
out:
	rollback(s);
	return err;
}

static void
purchase_from_row(struct query *st, struct pur_purchase *p)
{
	memset(p, 0, sizeof(*p));
	p->id = col_int(st, 0);
	p->account_id = col_int(st, 1);
	copy_col(st, 2, p->phone_number, sizeof(p->phone_number));
	copy_col(st, 3, p->country_code, sizeof(p->country_code));
	copy_col(st, 4, p->type, sizeof(p->type));
	p->price_cents = col_int(st, 5);
	copy_col(st, 6, p->stripe_price_id, sizeof(p->stripe_price_id));
	p->sms_capable = col_int(st, 7);
	copy_col(st, 8, p->stripe_customer, sizeof(p->stripe_customer));
	copy_col(st, 9, p->payment_method, sizeof(p->payment_method));
	p->state = state_of(col_text(st, 10, NULL));
	p->outcome = outcome_of(col_text(st, 11, NULL));
	copy_col(st, 12, p->subscription_id, sizeof(p->subscription_id));
	copy_col(st, 13, p->invoice_id, sizeof(p->invoice_id));
	copy_col(st, 14, p->number_sid, sizeof(p->number_sid));
	p->period_end = col_int(st, 15);
	p->lease_token = col_int(st, 16);
	p->lease_until = col_int(st, 17);
	p->created_at = col_int(st, 18);
	copy_col(st, 19, p->nonce, sizeof(p->nonce));
	p->settle_at = col_int(st, 20);
	copy_col(st, 21, p->region, sizeof(p->region));
}

enum purchase_err
pur_store_purchase_get(struct pur_store *s, int64_t id, struct pur_purchase *out)
{
	struct query *st = get(s, S_PURCHASE_GET);
	int rc;

	if (st == NULL)
		return db_err(s);
	bind_int(st, 1, id);
	rc = step(st);
	if (rc == SQLITE_ROW)
		purchase_from_row(st, out);
	done(st);
	if (rc == SQLITE_DONE)
		return PURCHASE_ENOT_FOUND;
	return rc == SQLITE_ROW ? PURCHASE_OK : map_rc(rc);
}

enum purchase_err
pur_store_nonce_known(struct pur_store *s, const char *nonce, int *known)
{
	enum purchase_err err = exists(s, S_NONCE_KNOWN, nonce, known);

	if (err != PURCHASE_OK)
		*known = 1; /* as if it were, so that nothing is undone */
	return err;
}

/* The fenced UPDATE of a purchase, inside the caller's transaction. */
static enum purchase_err
save(struct pur_store *s, const struct pur_purchase *p, int64_t now, int64_t lease_until)
{
	struct query *st = get(s, S_PURCHASE_SAVE);
	int rc;

	if (st == NULL)
		return db_err(s);
	bind_int(st, 1, p->id);
	bind_int(st, 2, p->lease_token);
	bind_text(st, 3, pur_state_name(p->state));
	bind_text(st, 4, pur_outcome_name(p->outcome));
	bind_text(st, 5, p->subscription_id);
	bind_text(st, 6, p->invoice_id);
	bind_text(st, 7, p->number_sid);
	bind_int(st, 8, p->period_end);
	bind_int(st, 9, lease_until);
	bind_int(st, 10, now);
	bind_text(st, 11, p->payment_method);
	bind_int(st, 12, p->settle_at);
	rc = step(st);
	done(st);
	if (rc != SQLITE_DONE)
		return map_rc(rc);
	return changes(s) == 1 ? PURCHASE_OK : PURCHASE_ELEASE;
}

/* Whether r is a decided reply for p's idempotency record (p has one). */
static int
reply_to_store(const struct pur_purchase *p, const struct purchase_reply *r)
{
	return r != NULL && r->body != NULL && !p->no_idem;
}

/* Stores a decided reply on the purchase's idempotency record, if it has
 * one, inside the caller's transaction. */
static enum purchase_err
save_reply(struct pur_store *s, const struct pur_purchase *p, const struct purchase_reply *r)
{
	struct query *st;
	int rc;

	if (!reply_to_store(p, r))
		return PURCHASE_OK; /* (no statement that would change nothing) */
	st = get(s, S_IDEM_REPLY);
	if (st == NULL)
		return db_err(s);
	bind_int(st, 1, p->id);
	bind_int(st, 2, r->status);
	bind_bytes(st, 3, r->body, r->len);
	rc = step(st);
	done(st);
	return rc == SQLITE_DONE ? PURCHASE_OK : map_rc(rc);
}

enum purchase_err
pur_store_purchase_save(struct pur_store *s, const struct pur_purchase *p, int64_t now,
    int64_t lease_until, const struct purchase_reply *reply, int durable)
{
	enum purchase_err err;

	if ((err = begin_sync(s, durable || reply != NULL ? FULL : NORMAL)) != PURCHASE_OK)
		return err;
	if ((err = save(s, p, now, lease_until)) != PURCHASE_OK ||
	    (err = save_reply(s, p, reply)) != PURCHASE_OK) {
		rollback(s);
		return err;
	}
	return commit(s);
}

enum purchase_err
pur_store_purchase_lease(struct pur_store *s, int64_t id, int64_t now, int64_t lease_until,
    int64_t settle, struct pur_purchase *p)
{
	struct query *st = get(s, S_PURCHASE_LEASE);
	enum purchase_err err;

	if (st == NULL)
		return db_err(s);
	if ((err = begin_sync(s, NORMAL)) != PURCHASE_OK)
		return err;
	bind_int(st, 1, id);
	bind_int(st, 2, now);
	bind_int(st, 3, lease_until);
	bind_int(st, 4, settle);
	if ((err = exec(st)) != PURCHASE_OK)
		goto out;
	if (changes(s) == 0) {
		/* At rest, absent, or someone else's lease still runs. */
		err = pur_store_purchase_get(s, id, p);
		if (err == PURCHASE_OK)
			err = pur_state_at_rest(p->state) || p->state == PUR_STATE__MAX ?
			    PURCHASE_ENOT_FOUND : PURCHASE_EIDEM_BUSY;
		goto out;
	}
	if ((err = pur_store_purchase_get(s, id, p)) != PURCHASE_OK)
		goto out;
	return commit(s);
out:
	rollback(s);
	return err;
}

/* PURCHASE_COMPLETE's ?3-?8 (?1, ?2: the id and the lease token). */
static void
bind_complete(struct query *st, const struct pur_purchase *p, int64_t now)
{
	bind_int(st, 3, now);
	bind_text(st, 4, p->subscription_id);
	bind_text(st, 5, p->invoice_id);
	bind_text(st, 6, p->number_sid);
	bind_int(st, 7, p->period_end);
	bind_text(st, 8, p->payment_method);
}

/* The fenced UPDATE of a purchase under way that crosses no line (see
 * UNFINISHED), inside the caller's transaction. */
static enum purchase_err
progress(struct pur_store *s, enum stmt id, const struct pur_purchase *p, int64_t now)
{
	struct query *st = get(s, id);
	int rc;

	if (st == NULL)
		return db_err(s);
	bind_int(st, 1, p->id);
	bind_int(st, 2, p->lease_token);
	if (id == S_PURCHASE_PROGRESS) {
		bind_text(st, 3, pur_state_name(p->state));
		bind_text(st, 4, p->subscription_id);
		bind_text(st, 5, p->invoice_id);
		bind_text(st, 6, p->number_sid);
		bind_int(st, 7, p->period_end);
		bind_text(st, 8, p->payment_method);
		bind_int(st, 9, p->settle_at);
		bind_int(st, 10, now);
	} else { /* S_PURCHASE_COMPLETE */
		bind_complete(st, p, now);
	}
	rc = step(st);
	done(st);
	if (rc != SQLITE_DONE)
		return map_rc(rc);
	return changes(s) == 1 ? PURCHASE_OK : PURCHASE_ELEASE;
}

enum purchase_err
pur_store_purchase_progress(struct pur_store *s, const struct pur_purchase *p, int64_t now,
    int durable)
{
	enum purchase_err err;

	if (durable && s->pool->pg) {
		/* PostgreSQL: one statement is a transaction of its own,
		 * committed synchronously (the session's synchronous_commit):
		 * one round trip rather than BEGIN, UPDATE, COMMIT. */
		reads_end(s);
		return progress(s, S_PURCHASE_PROGRESS, p, now);
	}
	if ((err = begin_sync(s, durable ? FULL : NORMAL)) != PURCHASE_OK)
		return err;
	if ((err = progress(s, S_PURCHASE_PROGRESS, p, now)) != PURCHASE_OK) {
		rollback(s);
		return err;
	}
	return commit(s);
}

/* PostgreSQL: a delivered purchase's finish, S_PURCHASE_FINISH. */
static enum purchase_err
finish_pg(struct pur_store *s, struct pur_purchase *p, const struct purchase_number *num,
    const struct purchase_reply *reply, int64_t now, int durable)
{
	struct query *st;
	int rc, changed = 0, with_reply = reply_to_store(p, reply);

	reads_end(s);
	p->state = PUR_COMPLETE;
	if ((st = get(s, S_PURCHASE_FINISH)) == NULL)
		return db_err(s);
	bind_int(st, 1, p->id);
	bind_int(st, 2, p->lease_token);
	bind_complete(st, p, now);
	bind_int(st, 9, p->account_id);
	bind_text(st, 10, num->phone_number);
	bind_text(st, 11, num->country_code);
	bind_text(st, 12, num->type);
	bind_int(st, 13, num->sms_capable);
	bind_int(st, 14, num->price_cents);
	bind_int(st, 15, num->period_end);
	bind_text(st, 16, num->region);
	bind_int(st, 17, with_reply ? reply->status : 0);
	bind_bytes(st, 18, with_reply ? reply->body : NULL, with_reply ? reply->len : 0);
	bind_int(st, 19, durable);
	if ((rc = step(st)) == SQLITE_ROW) {
		changed = col_int(st, 0) == 1;
		rc = SQLITE_DONE;
	}
	done(st);
	if (rc != SQLITE_DONE)
		return map_rc(rc);
	return changed ? PURCHASE_OK : PURCHASE_ELEASE;
}

enum purchase_err
pur_store_purchase_end(struct pur_store *s, struct pur_purchase *p,
    const struct purchase_number *num, const struct purchase_reply *reply, int64_t now,
    int durable)
{
	struct query *nins;
	enum purchase_err err;

	if (num != NULL && s->pool->pg)
		return finish_pg(s, p, num, reply, now, durable);
	if ((nins = get(s, S_NUMBER_INSERT)) == NULL)
		return db_err(s);
	if ((err = begin_sync(s, durable ? FULL : NORMAL)) != PURCHASE_OK)
		return err;
	if (num != NULL) {
		p->state = PUR_COMPLETE;
		err = progress(s, S_PURCHASE_COMPLETE, p, now);
	} else {
		p->state = PUR_FAILED;
		err = save(s, p, now, 0);
	}
	if (err != PURCHASE_OK)
		goto out;
	if (num != NULL) {
		bind_int(nins, 1, p->account_id);
		bind_int(nins, 2, p->id);
		bind_text(nins, 3, num->phone_number);
		bind_text(nins, 4, num->country_code);
		bind_text(nins, 5, num->type);
		bind_int(nins, 6, num->sms_capable);
		bind_int(nins, 7, num->price_cents);
		bind_text(nins, 8, p->subscription_id);
		bind_text(nins, 9, p->number_sid);
		bind_int(nins, 10, num->period_end);
		bind_int(nins, 11, now);
		bind_text(nins, 12, num->region);
		if ((err = exec(nins)) != PURCHASE_OK)
			goto out;
	}
	if ((err = save_reply(s, p, reply)) != PURCHASE_OK)
		goto out;
	return commit(s);
out:
	rollback(s);
	return err;
}

enum purchase_err
pur_store_purchases_stale(struct pur_store *s, int64_t now, int64_t *ids, size_t max,
    size_t *n)
{
	struct query *st = get(s, S_PURCHASE_STALE);
	int rc;

	*n = 0;
	if (st == NULL)
		return db_err(s);
	bind_int(st, 1, now);
	bind_int(st, 2, (int64_t)max);
	while ((rc = step(st)) == SQLITE_ROW && *n < max)
		ids[(*n)++] = col_int(st, 0);
	done(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? PURCHASE_OK : map_rc(rc);
}

enum purchase_err
pur_store_unfinished_each(struct pur_store *s,
    int (*fn)(void *arg, int64_t id, const char *e164, const char *state, int64_t lease_until),
    void *arg)
{
	struct query *st = get(s, S_PURCHASES_UNFINISHED);
	int rc;

	if (st == NULL)
		return db_err(s);
	while ((rc = step(st)) == SQLITE_ROW)
		if (fn(arg, col_int(st, 0), col_text(st, 1, NULL),
		        col_text(st, 2, NULL), col_int(st, 3)) != 0)
			break;
	done(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? PURCHASE_OK : map_rc(rc);
}

enum purchase_err
pur_store_purchase_abandon(struct pur_store *s, struct pur_purchase *p, int64_t now)
{
	struct query *del = get(s, S_IDEM_DELETE), *pdel = get(s, S_PURCHASE_DELETE);
	enum purchase_err err;

	(void)now;
	if (del == NULL || pdel == NULL)
		return db_err(s);
	/* Not synced: lost to a power cut, the claim comes back, and recovery
	 * ends it (it never reached Stripe's write endpoints). */
	if ((err = begin_sync(s, NORMAL)) != PURCHASE_OK)
		return err;
	bind_int(del, 1, p->id);
	if ((err = exec(del)) != PURCHASE_OK)
		goto out;
	bind_int(pdel, 1, p->id);
	bind_int(pdel, 2, p->lease_token);
	if ((err = exec(pdel)) != PURCHASE_OK)
		goto out;
	if (changes(s) != 1) {
		err = PURCHASE_ELEASE;
		goto out;
	}
	return commit(s);
out:
	rollback(s);
	return err;
}

enum purchase_err
pur_store_counts(struct pur_store *s, void (*fn)(void *arg, const char *what, const char *key,
    int64_t n), void *arg)
{
	static const struct {
		enum stmt id;
		const char *what;
	} q[] = {{S_COUNT_PURCHASES, "purchases"}, {S_COUNT_NUMBERS, "numbers"}};
	struct query *st;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		if ((st = get(s, q[i].id)) == NULL)
			return db_err(s);
		while ((rc = step(st)) == SQLITE_ROW)
			fn(arg, q[i].what, col_text(st, 0, NULL),
			    col_int(st, 1));
		done(st);
		if (rc != SQLITE_DONE)
			return map_rc(rc);
	}
	return PURCHASE_OK;
}

/* --- numbers ------------------------------------------------------------ */

static void
number_from_row(struct query *st, struct pur_number *n)
{
	memset(n, 0, sizeof(*n));
	n->id = col_int(st, 0);
	n->account_id = col_int(st, 1);
	n->purchase_id = col_int(st, 2);
	copy_col(st, 3, n->phone_number, sizeof(n->phone_number));
	copy_col(st, 4, n->country_code, sizeof(n->country_code));
	copy_col(st, 5, n->type, sizeof(n->type));
	copy_col(st, 6, n->region, sizeof(n->region));
	n->sms_capable = col_int(st, 7);
	n->price_cents = col_int(st, 8);
	copy_col(st, 9, n->status, sizeof(n->status));
	copy_col(st, 10, n->nickname, sizeof(n->nickname));
	copy_col(st, 11, n->subscription_id, sizeof(n->subscription_id));
	copy_col(st, 12, n->number_sid, sizeof(n->number_sid));
	n->period_end = col_int(st, 13);
	n->cancel_at_period_end = col_int(st, 14);
	copy_col(st, 15, n->release_reason, sizeof(n->release_reason));
	n->released_at = col_int(st, 16);
	n->created_at = col_int(st, 17);
}

enum purchase_err
pur_store_numbers_list(struct pur_store *s, int64_t account_id, int legacy, int64_t limit,
    int64_t offset, struct pur_number **v, size_t *n)
{
	struct query *st = get(s, S_NUMBERS_LIST);
	struct pur_number *a = NULL, *t;
	size_t cap = 0, k = 0;
	int rc;

	*v = NULL;
	*n = 0;
	if (st == NULL)
		return db_err(s);
	bind_int(st, 1, account_id);
	bind_int(st, 2, legacy != 0);
	bind_int(st, 3, limit);
	bind_int(st, 4, offset);
	while ((rc = step(st)) == SQLITE_ROW) {
		if (k == cap) {
			cap = cap ? cap * 2 : 16;
			if ((t = realloc(a, cap * sizeof(*a))) == NULL) {
				done(st);
				free(a);
				return PURCHASE_ENOMEM;
			}
			a = t;
		}
		number_from_row(st, &a[k++]);
	}
	done(st);
	if (rc != SQLITE_DONE) {
		free(a);
		return map_rc(rc);
	}
	*v = a;
	*n = k;
	return PURCHASE_OK;
}

enum purchase_err
pur_store_numbers_count(struct pur_store *s, int64_t account_id, int legacy, int64_t *total)
{
	struct query *st = get(s, S_NUMBERS_COUNT);
	int rc;

	*total = 0;
	if (st == NULL)
		return db_err(s);
	bind_int(st, 1, account_id);
	bind_int(st, 2, legacy != 0);
	if ((rc = step(st)) == SQLITE_ROW)
		*total = col_int(st, 0);
	done(st);
	return rc == SQLITE_ROW ? PURCHASE_OK : map_rc(rc);
}

enum purchase_err
pur_store_number_get(struct pur_store *s, int64_t account_id, int64_t id, struct pur_number *out)
{
	struct query *st = get(s, S_NUMBER_GET);
	int rc;

	if (st == NULL)
		return db_err(s);
	bind_int(st, 1, id);
	bind_int(st, 2, account_id);
	rc = step(st);
	if (rc == SQLITE_ROW)
		number_from_row(st, out);
	done(st);
	if (rc == SQLITE_DONE)
		return PURCHASE_ENOT_FOUND;
	return rc == SQLITE_ROW ? PURCHASE_OK : map_rc(rc);
}

enum purchase_err
pur_store_number_rename(struct pur_store *s, int64_t account_id, int64_t id,
    const char *nickname, int64_t now)
{
	struct query *st = get(s, S_NUMBER_RENAME);
	enum purchase_err err;

	if (st == NULL)
		return db_err(s);
	if ((err = begin_sync(s, NORMAL)) != PURCHASE_OK)
		return err;
	bind_int(st, 1, id);
	bind_int(st, 2, account_id);
	bind_text(st, 3, nickname ? nickname : "");
	bind_int(st, 4, now);
	if ((err = exec(st)) != PURCHASE_OK) {
		rollback(s);
		return err;
	}
	if (changes(s) != 1) {
		rollback(s);
		return PURCHASE_ENOT_FOUND;
	}
	return commit(s);
}

enum purchase_err
pur_store_number_take(struct pur_store *s, int64_t purchase_id, int64_t now, int64_t lease_until,
    struct pur_purchase *p, struct pur_number *n)
{
	struct query *st = get(s, S_NUMBER_TAKE);
	enum purchase_err err;
	int taken;

	if (st == NULL)
		return db_err(s);
	if ((err = begin_sync(s, NORMAL)) != PURCHASE_OK)
		return err;
	bind_int(st, 1, purchase_id);
	bind_int(st, 2, now);
	bind_int(st, 3, lease_until);
	if ((err = exec(st)) != PURCHASE_OK)
		goto out;
	taken = changes(s) == 1;
	if ((err = pur_store_purchase_get(s, purchase_id, p)) != PURCHASE_OK)
		goto out;
	if (p->state != PUR_COMPLETE) {
		err = PURCHASE_ENOT_FOUND;
		goto out;
	}
	if (!taken) {
		err = PURCHASE_EIDEM_BUSY; /* another holder's lease runs */
		goto out;
	}
	if ((err = pur_store_number_get(s, 0, purchase_id, n)) != PURCHASE_OK)
		goto out;
	return commit(s);
out:
	rollback(s);
	return err;
}

enum purchase_err
pur_store_number_save(struct pur_store *s, const struct pur_purchase *p,
    const struct pur_number *n, int64_t now, int64_t lease_until, int durable)
{
	struct query *ps = get(s, S_PURCHASE_STATE), *ns = get(s, S_NUMBER_SAVE);
	enum purchase_err err;

	if (ps == NULL || ns == NULL)
		return db_err(s);
	if ((err = begin_sync(s, durable ? FULL : NORMAL)) != PURCHASE_OK)
		return err;
	bind_int(ps, 1, p->id);
	bind_int(ps, 2, p->lease_token);
	bind_text(ps, 3, pur_state_name(p->state));
	bind_int(ps, 4, lease_until);
	bind_text(ps, 5, p->payment_method);
	bind_int(ps, 6, now);
	if ((err = exec(ps)) != PURCHASE_OK)
		goto out;
	if (changes(s) != 1) {
		err = PURCHASE_ELEASE;
		goto out;
	}
	bind_int(ns, 1, p->id);
	bind_text(ns, 2, n->status);
	bind_int(ns, 3, n->period_end);
	bind_int(ns, 4, n->cancel_at_period_end);
	bind_text(ns, 5, n->release_reason);
	bind_int(ns, 6, now);
	if ((err = exec(ns)) != PURCHASE_OK)
		goto out;
	return commit(s);
out:
	rollback(s);
	return err;
}

enum purchase_err
pur_store_number_released(struct pur_store *s, struct pur_purchase *p, const char *reason,
    int64_t now)
{
	struct query *st = get(s, S_NUMBER_RELEASED);
	enum purchase_err err;

	if (st == NULL)
		return db_err(s);
	if ((err = begin_sync(s, FULL)) != PURCHASE_OK)
		return err;
	p->state = PUR_RELEASED;
	if ((err = save(s, p, now, 0)) != PURCHASE_OK)
		goto out;
	bind_int(st, 1, p->id);
	bind_int(st, 2, now);
	bind_text(st, 3, reason);
	if ((err = exec(st)) != PURCHASE_OK)
		goto out;
	return commit(s);
out:
	rollback(s);
	return err;
}

/* Up to max ids from a statement whose first column is one, bound by the
 * caller; the last parameter is the limit. */
static enum purchase_err
ids_of(struct pur_store *s, struct query *st, int limit_param, int64_t *ids, size_t max,
    size_t *n)
{
	int rc;

	*n = 0;
	bind_int(st, limit_param, (int64_t)max);
	while ((rc = step(st)) == SQLITE_ROW && *n < max)
		ids[(*n)++] = col_int(st, 0);
	done(st);
	(void)s;
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? PURCHASE_OK : map_rc(rc);
}

enum purchase_err
pur_store_numbers_due(struct pur_store *s, int64_t now, int64_t margin, int64_t *ids,
    size_t max, size_t *n)
{
	struct query *st = get(s, S_NUMBERS_DUE);

	*n = 0;
	if (st == NULL)
		return db_err(s);
	bind_int(st, 1, now);
	bind_int(st, 2, margin);
	return ids_of(s, st, 3, ids, max, n);
}

enum purchase_err
pur_store_numbers_of_customer(struct pur_store *s, const char *customer, int64_t *ids,
    size_t max, size_t *n)
{
	struct query *st = get(s, S_NUMBERS_OF_CUSTOMER);

	*n = 0;
	if (st == NULL)
		return db_err(s);
	bind_text(st, 1, customer);
	return ids_of(s, st, 2, ids, max, n);
}

enum purchase_err
pur_store_numbers_all(struct pur_store *s, int64_t account_id,
    int (*fn)(void *arg, const struct pur_number *n), void *arg)
{
	struct query *st = get(s, S_NUMBERS_ALL);
	struct pur_number n;
	int rc;

	if (st == NULL)
		return db_err(s);
	bind_int(st, 1, account_id);
	while ((rc = step(st)) == SQLITE_ROW) {
		number_from_row(st, &n);
		if (fn(arg, &n) != 0)
			break;
	}
	done(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? PURCHASE_OK : map_rc(rc);
}

/* --- Stripe events ---------------------------------------------------- */

enum purchase_err
pur_store_event_record(struct pur_store *s, const struct pur_event *e, int64_t now, int isdone,
    int *dup)
{
	struct query *st = get(s, S_EVENT_INSERT);
	enum purchase_err err;

	*dup = 0;
	if (st == NULL)
		return db_err(s);
	/* Synced: Stripe stops sending once it has our 200. */
	if ((err = begin_sync(s, FULL)) != PURCHASE_OK)
		return err;
	bind_text(st, 1, e->id);
	bind_text(st, 2, e->type);
	bind_text(st, 3, e->object_id);
	bind_int(st, 4, e->created);
	bind_int(st, 5, now);
	if (isdone)
		bind_int(st, 6, now);
	if ((err = exec(st)) != PURCHASE_OK) {
		rollback(s);
		return err;
	}
	if (changes(s) == 0) {
		/* Seen before: nothing to write, nothing to sync; its work may
		 * still be to do (the process that recorded it died). */
		int todo = 0;
		*dup = 1;
		err = exists(s, S_EVENT_TODO, e->id, &todo);
		rollback(s);
		if (err == PURCHASE_OK && todo)
			*dup = 2;
		return err;
	}
	return commit(s);
}

enum purchase_err
pur_store_event_take(struct pur_store *s, int64_t now, int64_t lease_until, struct pur_event *out)
{
	struct query *next = get(s, S_EVENT_NEXT), *take = get(s, S_EVENT_TAKE);
	enum purchase_err err;
	int rc;

	if (next == NULL || take == NULL)
		return db_err(s);
	if ((err = begin_sync(s, NORMAL)) != PURCHASE_OK)
		return err;
	bind_int(next, 1, now);
	rc = step(next);
	if (rc == SQLITE_ROW) {
		memset(out, 0, sizeof(*out));
		copy_col(next, 0, out->id, sizeof(out->id));
		copy_col(next, 1, out->type, sizeof(out->type));
		copy_col(next, 2, out->object_id, sizeof(out->object_id));
		out->created = col_int(next, 3);
	}
	done(next);
	if (rc != SQLITE_ROW) {
		rollback(s);
		return rc == SQLITE_DONE ? PURCHASE_ENOT_FOUND : map_rc(rc);
	}
	bind_text(take, 1, out->id);
	bind_int(take, 2, now);
	bind_int(take, 3, lease_until);
	if ((err = exec(take)) != PURCHASE_OK) {
		rollback(s);
		return err;
	}
	return commit(s);
}

static enum purchase_err
event_set(struct pur_store *s, enum stmt id, const char *event, int64_t t)
{
	struct query *st = get(s, id);
	enum purchase_err err;

	if (st == NULL)
		return db_err(s);
	if ((err = begin_sync(s, NORMAL)) != PURCHASE_OK)
		return err;
	bind_text(st, 1, event);
	bind_int(st, 2, t);
	if ((err = exec(st)) != PURCHASE_OK) {
		rollback(s);
		return err;
	}
	return commit(s);
}

enum purchase_err
pur_store_event_done(struct pur_store *s, const char *id, int64_t now)
{
	return event_set(s, S_EVENT_DONE, id, now);
}

enum purchase_err
pur_store_event_again(struct pur_store *s, const char *id, int64_t retry_at)
{
	return event_set(s, S_EVENT_AGAIN, id, retry_at);
}

enum purchase_err
pur_store_event_newest(struct pur_store *s, char id[PUR_ID_MAX])
{
	struct query *st = get(s, S_EVENT_NEWEST);
	int rc;

	id[0] = '\0';
	if (st == NULL)
		return db_err(s);
	if ((rc = step(st)) == SQLITE_ROW)
		copy_col(st, 0, id, PUR_ID_MAX);
	done(st);
	if (rc == SQLITE_DONE)
		return PURCHASE_ENOT_FOUND;
	return rc == SQLITE_ROW ? PURCHASE_OK : map_rc(rc);
}
