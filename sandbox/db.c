/*
 * db.c -- the sandbox's SQLite state: opening the file named by
 * SANDBOX_DB, creating the schema when missing, the table of every SQL
 * statement the sandbox runs (prepared once per process, reused), and
 * transaction helpers.
 *
 * Several sandbox processes share the file, so it runs in WAL mode with a
 * 5 s busy timeout and every writing request takes the write lock up front
 * with BEGIN IMMEDIATE (a deferred transaction that later upgrades can
 * fail with SQLITE_BUSY without waiting).  Reads (GETs) run in a deferred
 * transaction that never upgrades; their counters are one autocommit
 * statement after it ends (route.c, run_read).  synchronous=OFF: nothing
 * is fsynced, not even at a checkpoint, which is right for a test double
 * that must not be a benchmark's bottleneck (the service's crash tests kill
 * the service, never the sandbox).
 *
 * A file made by another schema version is dropped and recreated on open
 * (PRAGMA user_version): the sandbox's state is disposable by design.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "sandbox.h"

/* Bumped whenever a table changes: a database of another version is
 * dropped and created afresh (it is a test double's scratch state). */
#define SCHEMA_VERSION 2
#define SCHEMA_VERSION_S "2"

static const char drop_sql[] =
	"DROP TABLE IF EXISTS counters; DROP TABLE IF EXISTS faults;"
	"DROP TABLE IF EXISTS idem; DROP TABLE IF EXISTS clock;"
	"DROP TABLE IF EXISTS customers; DROP TABLE IF EXISTS payment_methods;"
	"DROP TABLE IF EXISTS prices; DROP TABLE IF EXISTS subscriptions;"
	"DROP TABLE IF EXISTS sub_metadata; DROP TABLE IF EXISTS invoices;"
	"DROP TABLE IF EXISTS events; DROP TABLE IF EXISTS deliveries;"
	"DROP TABLE IF EXISTS webhook; DROP TABLE IF EXISTS numbers;"
	"DROP TABLE IF EXISTS taken; DROP TABLE IF EXISTS inv_lwm;";

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS counters(op TEXT NOT NULL, kind TEXT NOT NULL,"
	" n INTEGER NOT NULL, PRIMARY KEY(op, kind)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS faults(id INTEGER PRIMARY KEY, op TEXT NOT NULL,"
	" kind TEXT NOT NULL, remaining INTEGER NOT NULL, delay_ms INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS faults_op ON faults(op, id);"
	"CREATE TABLE IF NOT EXISTS idem(key TEXT PRIMARY KEY, method TEXT NOT NULL,"
	" path TEXT NOT NULL, params BLOB NOT NULL, status INTEGER NOT NULL,"
	" reply BLOB NOT NULL, created INTEGER NOT NULL);"
	/* The sandbox clock: now = real time + offset_s (one row, or none = 0). */
	"CREATE TABLE IF NOT EXISTS clock(id INTEGER PRIMARY KEY CHECK (id = 1),"
	" offset_s INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS customers(id TEXT PRIMARY KEY, name TEXT,"
	" email TEXT, default_pm TEXT, default_source TEXT, created INTEGER NOT NULL);"
	/* Payment methods and legacy card sources (object 'card', "card_..."):
	 * both are charged the same way. */
	"CREATE TABLE IF NOT EXISTS payment_methods(id TEXT PRIMARY KEY, customer TEXT,"
	" declines INTEGER NOT NULL, last4 TEXT NOT NULL, created INTEGER NOT NULL,"
	" object TEXT NOT NULL DEFAULT 'payment_method');"
	"CREATE TABLE IF NOT EXISTS prices(id TEXT PRIMARY KEY,"
	" unit_amount INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS subscriptions(id TEXT PRIMARY KEY,"
	" customer TEXT NOT NULL, status TEXT NOT NULL, price TEXT NOT NULL,"
	" amount INTEGER NOT NULL, item_id TEXT NOT NULL, default_pm TEXT,"
	" latest_invoice TEXT, cancel_at_period_end INTEGER NOT NULL DEFAULT 0,"
	" canceled_at INTEGER, created INTEGER NOT NULL,"
	" period_start INTEGER NOT NULL, period_end INTEGER NOT NULL,"
	" default_source TEXT, ended_at INTEGER, cancel_reason TEXT);"
	"CREATE INDEX IF NOT EXISTS subscriptions_created ON subscriptions(created, id);"
	"CREATE INDEX IF NOT EXISTS subscriptions_customer ON subscriptions(customer,"
	" created, id);"
	"CREATE INDEX IF NOT EXISTS subscriptions_due ON subscriptions(status, period_end);"
	"CREATE TABLE IF NOT EXISTS sub_metadata(sub TEXT NOT NULL, key TEXT NOT NULL,"
	" value TEXT NOT NULL, PRIMARY KEY(sub, key)) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS sub_metadata_kv ON sub_metadata(key, value);"
	/* period_start/period_end are the line's (the subscription period it
	 * bills); charged_with is the payment method or card last charged. */
	"CREATE TABLE IF NOT EXISTS invoices(id TEXT PRIMARY KEY, subscription TEXT,"
	" customer TEXT NOT NULL, status TEXT NOT NULL, amount_due INTEGER NOT NULL,"
	" amount_paid INTEGER NOT NULL DEFAULT 0,"
	" attempt_count INTEGER NOT NULL DEFAULT 0, charge TEXT,"
	" created INTEGER NOT NULL, period_start INTEGER NOT NULL,"
	" period_end INTEGER NOT NULL, paid_at INTEGER, voided_at INTEGER,"
	" billing_reason TEXT NOT NULL, next_payment_attempt INTEGER,"
	" charged_with TEXT);"
	"CREATE INDEX IF NOT EXISTS invoices_sub ON invoices(subscription);"
	"CREATE INDEX IF NOT EXISTS invoices_retry ON invoices(next_payment_attempt)"
	" WHERE status = 'open' AND next_payment_attempt IS NOT NULL;"
	/* Events in creation order (seq); payload is the exact JSON delivered.
	 * pending: not yet delivered to the endpoint configured when it was
	 * created; lease_until (real time): a process is delivering it. */
	"CREATE TABLE IF NOT EXISTS events(seq INTEGER PRIMARY KEY,"
	" id TEXT NOT NULL UNIQUE, type TEXT NOT NULL, created INTEGER NOT NULL,"
	" object_id TEXT, payload BLOB NOT NULL, pending INTEGER NOT NULL,"
	" lease_until INTEGER);"
	"CREATE INDEX IF NOT EXISTS events_pending ON events(seq) WHERE pending = 1;"
	"CREATE TABLE IF NOT EXISTS deliveries(id INTEGER PRIMARY KEY,"
	" event TEXT NOT NULL, attempted_at INTEGER NOT NULL, status INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS webhook(id INTEGER PRIMARY KEY CHECK (id = 1),"
	" url TEXT NOT NULL, secrets TEXT NOT NULL, mode TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS numbers(sid TEXT PRIMARY KEY,"
	" phone_number TEXT NOT NULL, block INTEGER NOT NULL, idx INTEGER NOT NULL,"
	" status TEXT NOT NULL, bought_at INTEGER NOT NULL, released_at INTEGER,"
	" friendly_name TEXT);"
	"CREATE UNIQUE INDEX IF NOT EXISTS numbers_owned ON numbers(phone_number)"
	" WHERE status = 'owned';"
	"CREATE INDEX IF NOT EXISTS numbers_owned_sid ON numbers(sid)"
	" WHERE status = 'owned';"
	"CREATE TABLE IF NOT EXISTS taken(phone_number TEXT PRIMARY KEY) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS inv_lwm(block INTEGER PRIMARY KEY,"
	" lwm INTEGER NOT NULL);";

static const char wipe_sql[] =
	"DELETE FROM counters; DELETE FROM faults; DELETE FROM idem; DELETE FROM clock;"
	"DELETE FROM customers; DELETE FROM payment_methods; DELETE FROM prices;"
	"DELETE FROM subscriptions; DELETE FROM sub_metadata; DELETE FROM invoices;"
	"DELETE FROM events; DELETE FROM deliveries; DELETE FROM webhook;"
	"DELETE FROM numbers; DELETE FROM taken; DELETE FROM inv_lwm;";

#define NUM_COLS "sid, phone_number, block, idx, bought_at, friendly_name"
#define SUB_COLS                                                                    \
	"id, customer, status, price, amount, item_id, default_pm, latest_invoice,"  \
	" cancel_at_period_end, canceled_at, created, period_start, period_end,"     \
	" default_source, ended_at, cancel_reason"
#define INV_COLS                                                                    \
	"id, subscription, customer, status, amount_due, amount_paid, attempt_count," \
	" charge, created, period_start, period_end, paid_at, voided_at,"            \
	" billing_reason, next_payment_attempt, charged_with"

/* GET /v1/subscriptions: ?2 is the status filter ("" = all but canceled,
 * "all", "ended", or one status); (?3, ?4) the (created, id) of the
 * starting_after object (INT64 max when none): newest first, ties by id. */
#define SUB_LIST_WHERE                                                              \
	" AND (?2 = 'all' OR (?2 = '' AND status <> 'canceled')"                    \
	" OR (?2 = 'ended' AND status IN ('canceled', 'incomplete_expired'))"       \
	" OR status = ?2) AND (created, id) < (?3, ?4)"                            \
	" ORDER BY created DESC, id DESC LIMIT ?5"

/* GET /v1/events: seq strictly between ?1 and ?2 (the cursors), type GLOB
 * ?3 (NULL = any), created in [?4, ?5]; the caller stops stepping. */
#define EVT_LIST_WHERE                                                              \
	"SELECT seq, id, type, payload, pending FROM events WHERE seq < ?1"          \
	" AND seq > ?2 AND (?3 IS NULL OR type GLOB ?3) AND created >= ?4"           \
	" AND created <= ?5"

static const char *const stmt_sql[SB_ST__MAX] = {
	[SB_ST_CALL_INC] = "INSERT INTO counters(op, kind, n) VALUES(?1, 'calls', 1)"
			   " ON CONFLICT(op, kind) DO UPDATE SET n = n + 1",
	[SB_ST_CALL_EFFECT_INC] = "INSERT INTO counters(op, kind, n)"
				  " VALUES(?1, 'calls', 1), (?1, 'effects', 1)"
				  " ON CONFLICT(op, kind) DO UPDATE SET n = n + 1",
	[SB_ST_EFFECT_INC] = "INSERT INTO counters(op, kind, n) VALUES(?1, 'effects', 1)"
			     " ON CONFLICT(op, kind) DO UPDATE SET n = n + 1",
	[SB_ST_FAULT_FIRST] = "SELECT id, kind, remaining, delay_ms FROM faults"
			      " WHERE op = ?1 ORDER BY id LIMIT 1",
	[SB_ST_FAULT_DEC] = "UPDATE faults SET remaining = remaining - 1 WHERE id = ?1",
	[SB_ST_FAULT_DEL] = "DELETE FROM faults WHERE id = ?1",
	[SB_ST_FAULT_INS] = "INSERT INTO faults(op, kind, remaining, delay_ms)"
			    " VALUES(?1, ?2, ?3, ?4)",
	[SB_ST_FAULT_CLEAR] = "DELETE FROM faults",
	[SB_ST_IDEM_GET] = "SELECT method, path, params, status, reply FROM idem"
			   " WHERE key = ?1",
	[SB_ST_IDEM_PUT] = "INSERT INTO idem(key, method, path, params, status, reply,"
			   " created) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[SB_ST_CLOCK_GET] = "SELECT offset_s FROM clock WHERE id = 1",
	[SB_ST_CLOCK_PUT] = "INSERT INTO clock(id, offset_s) VALUES(1, ?1)"
			    " ON CONFLICT(id) DO UPDATE SET offset_s = excluded.offset_s",
	[SB_ST_CUS_INS] = "INSERT INTO customers(id, name, email, default_pm, created)"
			  " VALUES(?1, ?2, ?3, ?4, ?5)",
	[SB_ST_CUS_GET] = "SELECT id, name, email, default_pm, created, default_source"
			  " FROM customers WHERE id = ?1",
	[SB_ST_CUS_SET_PM] = "UPDATE customers SET default_pm = ?2 WHERE id = ?1",
	[SB_ST_CUS_SET_SOURCE] = "UPDATE customers SET default_source = ?2 WHERE id = ?1",
	[SB_ST_PM_INS] = "INSERT INTO payment_methods(id, customer, declines, last4,"
			 " created, object) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
	[SB_ST_PM_GET] = "SELECT id, customer, declines, last4, created, object"
			 " FROM payment_methods WHERE id = ?1",
	[SB_ST_PM_SET_CUS] = "UPDATE payment_methods SET customer = ?2 WHERE id = ?1",
	[SB_ST_PRICE_GET] = "SELECT unit_amount FROM prices WHERE id = ?1",
	[SB_ST_PRICE_PUT] = "INSERT INTO prices(id, unit_amount) VALUES(?1, ?2)"
			    " ON CONFLICT(id) DO UPDATE SET unit_amount = excluded.unit_amount",
	[SB_ST_SUB_INS] = "INSERT INTO subscriptions(id, customer, status, price, amount,"
			  " item_id, default_pm, latest_invoice, created, period_start,"
			  " period_end, default_source)"
			  " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
	[SB_ST_SUB_GET] = "SELECT " SUB_COLS " FROM subscriptions WHERE id = ?1",
	[SB_ST_SUB_LIST] = "SELECT id FROM subscriptions WHERE ?1 IS NULL" SUB_LIST_WHERE,
	[SB_ST_SUB_LIST_CUS] = "SELECT id FROM subscriptions WHERE customer = ?1"
			       SUB_LIST_WHERE,
	[SB_ST_SUB_SET_STATUS] = "UPDATE subscriptions SET status = ?2 WHERE id = ?1",
	[SB_ST_SUB_END] = "UPDATE subscriptions SET status = ?2, canceled_at = ?3,"
			  " ended_at = ?4, cancel_reason = ?5 WHERE id = ?1",
	[SB_ST_SUB_SET_CAPE] = "UPDATE subscriptions SET cancel_at_period_end = ?2,"
			       " canceled_at = ?3, cancel_reason = ?4 WHERE id = ?1",
	[SB_ST_SUB_SET_PM] = "UPDATE subscriptions SET default_pm = ?2 WHERE id = ?1",
	[SB_ST_SUB_SET_SOURCE] = "UPDATE subscriptions SET default_source = ?2 WHERE id = ?1",
	[SB_ST_SUB_RENEW] = "UPDATE subscriptions SET period_start = ?2, period_end = ?3,"
			    " latest_invoice = ?4 WHERE id = ?1",
	[SB_ST_META_PUT] = "INSERT INTO sub_metadata(sub, key, value) VALUES(?1, ?2, ?3)"
			   " ON CONFLICT(sub, key) DO UPDATE SET value = excluded.value",
	[SB_ST_META_DEL] = "DELETE FROM sub_metadata WHERE sub = ?1 AND key = ?2",
	[SB_ST_META_LIST] = "SELECT key, value FROM sub_metadata WHERE sub = ?1"
			    " ORDER BY key",
	[SB_ST_META_SEARCH] = "SELECT s.id FROM sub_metadata m JOIN subscriptions s"
			      " ON s.id = m.sub WHERE m.key = ?1 AND m.value = ?2"
			      " ORDER BY s.created DESC, s.rowid DESC LIMIT ?3",
	[SB_ST_INV_INS] = "INSERT INTO invoices(id, subscription, customer, status,"
			  " amount_due, created, period_start, period_end, billing_reason)"
			  " VALUES(?1, ?2, ?3, 'open', ?4, ?5, ?6, ?7, ?8)",
	[SB_ST_INV_GET] = "SELECT " INV_COLS " FROM invoices WHERE id = ?1",
	[SB_ST_INV_PAID] = "UPDATE invoices SET status = 'paid', amount_paid = amount_due,"
			   " attempt_count = attempt_count + 1, charge = ?2, paid_at = ?3,"
			   " next_payment_attempt = NULL, charged_with = ?4 WHERE id = ?1",
	/* ?5: keep next_payment_attempt (a manual attempt) instead of ?4. */
	[SB_ST_INV_ATTEMPT] = "UPDATE invoices SET attempt_count = attempt_count + 1,"
			      " charge = ?2, charged_with = ?3, next_payment_attempt ="
			      " CASE WHEN ?5 THEN next_payment_attempt ELSE ?4 END WHERE id = ?1",
	[SB_ST_INV_VOID] = "UPDATE invoices SET status = 'void', voided_at = ?2,"
			   " next_payment_attempt = NULL WHERE id = ?1 AND status = 'open'",
	[SB_ST_INV_OPEN_FOR_SUB] = "SELECT id FROM invoices WHERE subscription = ?1"
				   " AND status = 'open' ORDER BY rowid",
	/* The billing run's three queues, each: the earliest item due by ?1. */
	[SB_ST_BILL_EXPIRE_NEXT] = "SELECT id, created FROM subscriptions"
				   " WHERE status = 'incomplete' AND created <= ?1 - ?2"
				   " ORDER BY created, id LIMIT 1",
	[SB_ST_BILL_PERIOD_NEXT] = "SELECT id, period_end FROM subscriptions"
				   " WHERE status IN ('active', 'past_due') AND period_end <= ?1"
				   " ORDER BY period_end, id LIMIT 1",
	[SB_ST_BILL_RETRY_NEXT] = "SELECT id, next_payment_attempt FROM invoices"
				  " WHERE status = 'open' AND next_payment_attempt IS NOT NULL"
				  " AND next_payment_attempt <= ?1"
				  " ORDER BY next_payment_attempt, id LIMIT 1",
	[SB_ST_EVT_INS] = "INSERT INTO events(id, type, created, object_id, payload, pending)"
			  " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
	[SB_ST_EVT_GET] = "SELECT seq, payload, pending FROM events WHERE id = ?1",
	[SB_ST_EVT_LIST_DESC] = EVT_LIST_WHERE " ORDER BY seq DESC",
	[SB_ST_EVT_LIST_ASC] = EVT_LIST_WHERE " ORDER BY seq ASC",
	[SB_ST_EVT_PENDING] = "SELECT seq, id, type, created, payload, lease_until FROM events"
			      " WHERE pending = 1 ORDER BY seq",
	[SB_ST_EVT_CLAIM] = "UPDATE events SET lease_until = ?2 WHERE id = ?1 AND pending = 1"
			    " AND (lease_until IS NULL OR lease_until < ?3)",
	[SB_ST_EVT_DELIVERED] = "UPDATE events SET pending = 0, lease_until = NULL"
				" WHERE id = ?1",
	[SB_ST_EVT_UNLEASE] = "UPDATE events SET lease_until = NULL WHERE id = ?1",
	[SB_ST_EVT_CLEAR_PENDING] = "UPDATE events SET pending = 0, lease_until = NULL"
				    " WHERE pending = 1",
	[SB_ST_DLV_INS] = "INSERT INTO deliveries(event, attempted_at, status)"
			  " VALUES(?1, ?2, ?3)",
	[SB_ST_WH_GET] = "SELECT url, secrets, mode FROM webhook WHERE id = 1",
	[SB_ST_WH_PUT] = "INSERT INTO webhook(id, url, secrets, mode) VALUES(1, ?1, ?2, ?3)"
			 " ON CONFLICT(id) DO UPDATE SET url = excluded.url,"
			 " secrets = excluded.secrets, mode = excluded.mode",
	[SB_ST_WH_DEL] = "DELETE FROM webhook",
	[SB_ST_NUM_UNAVAILABLE] = "SELECT 1 FROM numbers WHERE phone_number = ?1"
				  " AND status = 'owned' UNION ALL"
				  " SELECT 1 FROM taken WHERE phone_number = ?1 LIMIT 1",
	[SB_ST_NUM_INS] = "INSERT INTO numbers(sid, phone_number, block, idx, status,"
			  " bought_at, friendly_name) VALUES(?1, ?2, ?3, ?4, 'owned', ?5,"
			  " nullif(?6, ''))",
	[SB_ST_NUM_GET_OWNED] = "SELECT " NUM_COLS " FROM numbers WHERE sid = ?1"
				" AND status = 'owned'",
	[SB_ST_NUM_RELEASE] = "UPDATE numbers SET status = 'released', released_at = ?2"
			      " WHERE sid = ?1 AND status = 'owned'",
	/* Owned numbers by sid after ?2 (the PageToken's; "" = from the
	 * start), LIMIT ?3 OFFSET ?4. */
	[SB_ST_NUM_LIST_OWNED] = "SELECT " NUM_COLS " FROM numbers WHERE status = 'owned'"
				 " AND phone_number = ?1 AND sid > ?2 ORDER BY sid"
				 " LIMIT ?3 OFFSET ?4",
	[SB_ST_NUM_LIST_OWNED_ALL] = "SELECT " NUM_COLS " FROM numbers"
				     " WHERE status = 'owned' AND ?1 IS NULL AND sid > ?2"
				     " ORDER BY sid LIMIT ?3 OFFSET ?4",
	[SB_ST_TAKEN_INS] = "INSERT OR IGNORE INTO taken(phone_number) VALUES(?1)",
	[SB_ST_LWM_GET] = "SELECT lwm FROM inv_lwm WHERE block = ?1",
	[SB_ST_LWM_PUT] = "INSERT INTO inv_lwm(block, lwm) VALUES(?1, ?2)"
			  " ON CONFLICT(block) DO UPDATE SET lwm = excluded.lwm",
	[SB_ST_LWM_LOWER] = "UPDATE inv_lwm SET lwm = ?2 WHERE block = ?1 AND lwm > ?2",
	[SB_ST_LEDGER_CUS] = "SELECT id, default_pm, default_source FROM customers"
			     " ORDER BY rowid",
	[SB_ST_LEDGER_SUB] = "SELECT id, customer, status, price, latest_invoice,"
			     " cancel_at_period_end, default_pm, default_source, created,"
			     " period_start, period_end, canceled_at, ended_at, cancel_reason"
			     " FROM subscriptions ORDER BY rowid",
	[SB_ST_LEDGER_INV] = "SELECT id, subscription, status, amount_due, amount_paid,"
			     " attempt_count, billing_reason, created, paid_at, voided_at,"
			     " next_payment_attempt, charged_with FROM invoices ORDER BY rowid",
	/* carrier_charges (?1 = the sandbox's now): the month paid at purchase
	 * plus every 30-day anniversary of bought_at reached while owned. */
	[SB_ST_LEDGER_NUM] = "SELECT sid, phone_number, status, bought_at, released_at,"
			     " 1 + (MAX(COALESCE(released_at, ?1), bought_at) - bought_at) / ?2"
			     " FROM numbers ORDER BY rowid",
	[SB_ST_LEDGER_TAKEN] = "SELECT phone_number FROM taken ORDER BY phone_number",
	[SB_ST_LEDGER_COUNTERS] = "SELECT op, kind, n FROM counters ORDER BY op, kind",
	[SB_ST_LEDGER_EVT] = "SELECT id, type, created, object_id, pending FROM events"
			     " ORDER BY seq",
	[SB_ST_LEDGER_DLV] = "SELECT event, attempted_at, status FROM deliveries"
			     " ORDER BY id",
};

static sqlite3 *db;
static sqlite3_stmt *stmts[SB_ST__MAX];

/* Runs every statement of a fixed script (schema, pragmas): each one
 * prepared, stepped to the end and finalized. */
static int exec(const char *sql)
{
	const char *tail = sql;
	sqlite3_stmt *st;
	int rc;

	while (*tail != '\0') {
		if (sqlite3_prepare_v2(db, tail, -1, &st, &tail) != SQLITE_OK) {
			fprintf(stderr, "sandbox: sqlite: %s\n", sqlite3_errmsg(db));
			return -1;
		}
		if (st == NULL)
			continue;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			;
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE) {
			fprintf(stderr, "sandbox: sqlite: %s\n", sqlite3_errmsg(db));
			return -1;
		}
	}
	return 0;
}

/* PRAGMA user_version: the schema the file was made with (0 = new). */
static int schema_version(void)
{
	sqlite3_stmt *st;
	int v = -1;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Waits for a lock 50 us, 100 us, ... up to 1 ms a try, 5 s in all.
 * SQLite's own busy_timeout sleeps 1, 2, 5, 10 ms...: under a benchmark's
 * load those sleeps, not the work, would be what is measured. */
static int on_busy(void *arg, int count)
{
	static struct timespec start;
	struct timespec now, ts = {0, 0};
	long us = count < 5 ? 50L << count : 1000;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (count == 0)
		start = now;
	else if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 >= 5000)
		return 0;
	ts.tv_nsec = us * 1000;
	nanosleep(&ts, NULL);
	return 1;
}

int sb_db_open(const char *path)
{
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		fprintf(stderr, "sandbox: cannot open %s: %s\n", path,
			db ? sqlite3_errmsg(db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_handler(db, on_busy, NULL);
	if (exec("PRAGMA journal_mode=WAL") || exec("PRAGMA synchronous=OFF"))
		goto fail;
	/* Several processes start together: serialise schema creation. */
	if (exec("BEGIN IMMEDIATE"))
		goto fail;
	if (schema_version() != SCHEMA_VERSION &&
	    (exec(drop_sql) || exec("PRAGMA user_version = " SCHEMA_VERSION_S))) {
		exec("ROLLBACK");
		goto fail;
	}
	if (exec(schema_sql)) {
		exec("ROLLBACK");
		goto fail;
	}
	if (exec("COMMIT"))
		goto fail;
	return 0;
fail:
	sb_db_close();
	return -1;
}

void sb_db_close(void)
{
	size_t i;

	for (i = 0; i < SB_ST__MAX; i++) {
		sqlite3_finalize(stmts[i]);
		stmts[i] = NULL;
	}
	sqlite3_close(db);
	db = NULL;
}

struct sqlite3_stmt *sb_db_stmt(enum sb_stmt id)
{
	if ((unsigned)id >= SB_ST__MAX || db == NULL)
		return NULL;
	if (stmts[id] == NULL) {
		if (sqlite3_prepare_v3(db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
				       &stmts[id], NULL) != SQLITE_OK) {
			fprintf(stderr, "sandbox: prepare %d: %s\n", (int)id, sqlite3_errmsg(db));
			return NULL;
		}
		return stmts[id];
	}
	sqlite3_reset(stmts[id]);
	sqlite3_clear_bindings(stmts[id]);
	return stmts[id];
}

int sb_db_done(struct sqlite3_stmt *st)
{
	int rc;

	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		fprintf(stderr, "sandbox: step: %s\n", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

int sb_db_changes(void)
{
	return sqlite3_changes(db);
}

static void reset_all(void)
{
	size_t i;

	for (i = 0; i < SB_ST__MAX; i++)
		if (stmts[i] != NULL)
			sqlite3_reset(stmts[i]);
}

int sb_db_begin(void)
{
	return exec("BEGIN IMMEDIATE");
}

int sb_db_begin_read(void)
{
	return exec("BEGIN");
}

int sb_db_commit(void)
{
	reset_all();
	if (exec("COMMIT")) {
		sb_db_rollback();
		return -1;
	}
	return 0;
}

void sb_db_rollback(void)
{
	reset_all();
	if (sqlite3_get_autocommit(db) == 0)
		exec("ROLLBACK");
}

int sb_db_savepoint(void)
{
	return exec("SAVEPOINT work");
}

int sb_db_undo(void)
{
	reset_all();
	return exec("ROLLBACK TO work");
}

int sb_db_wipe(void)
{
	reset_all();
	return exec(wipe_sql);
}
