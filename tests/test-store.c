/*
 * test-store.c -- lib/store.c on a real SQLite file: migrations (a version 1
 * database with rows in every state comes to the current version with its
 * data), the claim race between two connections (the partial unique index
 * decides), lease fencing (a stale token writes nothing), idempotency
 * records, a claim taken back leaving no row, and the pool of
 * connections (bounded; a connection lent between reads, then to another
 * store). With PURCHASE_TEST_PG_URI set (tests/pg.sh: a PostgreSQL
 * server of its own), the same claims, leases and pool on PostgreSQL, and
 * what only it needs: the schema from nothing, two twins of one request
 * claiming at the same instant (the account's advisory lock: one claim, the
 * other sees its record), price lists read before they are sent, and a
 * connection the server dropped not lent again.
 */
#include "autoconfig.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dbshell.h"
#include "store.h"
#include "tap.h"

static void
purchase_for(struct pur_purchase *p, const char *e164, int64_t account)
{
	memset(p, 0, sizeof(*p));
	p->account_id = account;
	snprintf(p->nonce, sizeof(p->nonce), "%032d", (int)account);
	snprintf(p->phone_number, sizeof(p->phone_number), "%s", e164);
	memcpy(p->country_code, "US", 3);
	memcpy(p->type, "local", 6);
	p->price_cents = 115;
	memcpy(p->stripe_price_id, "price_x", 8);
	p->sms_capable = 1;
	memcpy(p->stripe_customer, "cus_1", 6);
	p->lease_until = 1000;
}

static void
test_migration(void)
{
	struct purchase_detail d = {""};
	struct pur_store *s;
	char cmd[1024];
	int v = -1;
	const char *srcdir = getenv("srcdir") ? getenv("srcdir") : ".";

	/* A version 1 database, made from the released schema, with rows. */
	snprintf(cmd, sizeof(cmd), "sqlite3 '%s' < '%s/sql/schema.sql'", db, srcdir);
	if (system(cmd) != 0)
		diag("cannot apply schema.sql");
	sql("PRAGMA user_version = 1; INSERT INTO accounts VALUES (1, 'a', 'cus_1', 1);"
	      "INSERT INTO purchases (id, account_id, phone_number, country_code, type, price_cents,"
	      " stripe_price_id, sms_capable, stripe_customer, payment_method, state, outcome,"
	      " subscription_id, lease_token, lease_until, created_at, updated_at) VALUES"
	      " (1, 1, '+14155550101', 'US', 'local', 115, 'p', 1, 'cus_1', 'pm', 'complete', NULL,"
	      " 'sub_1', 1, 0, 1, 1), (2, 1, '+14155550102', 'US', 'local', 115, 'p', 1, 'cus_1', 'pm',"
	      " 'failed', 'declined', 'sub_2', 2, 0, 1, 1), (3, 1, '+14155550103', 'US', 'local', 115,"
	      " 'p', 1, 'cus_1', 'pm', 'subscribed', NULL, 'sub_3', 1, 50, 1, 1);"
	      "INSERT INTO numbers VALUES (1, 1, 1, '+14155550101', 'US', 'local', 1, 115, 'active',"
	      " 'sub_1', 'PN1', NULL, 1, 1);"
	      "INSERT INTO idempotency VALUES (1, 'k', 'h', 1, 201, '{}', 1);");
	if (!ok(pur_store_open(db, 1000, &s, &d) == PURCHASE_OK, "open a version 1 database"))
		return;
	is_int(pur_store_migrate(s, &d), PURCHASE_OK, "migrate: %s", d.text[0] ? d.text : "ok");
	pur_store_schema_version(s, &v);
	is_int(v, PUR_SCHEMA_VERSION, "migrate: at the current version");
	pur_store_close(s);
	is_str(val("select group_concat(id || ':' || state || ':' || coalesce(outcome, '') || ':' || "
	           "coalesce(nonce, 'null'), ' ') from purchases"),
	    "1:complete::null 2:failed:declined:null 3:subscribed::null",
	    "migrate: every purchase kept, without a nonce (its keys stay purchase-<id>-)");
	is_str(val("select count(*) from numbers where purchase_id = 1"), "1",
	    "migrate: the number row kept");
	is_str(val("select status || body from idempotency"), "201{}", "migrate: the stored reply kept");
	is_str(val("select count(*) from sqlite_master where name in ('purchases_live_number', "
	           "'purchases_unfinished', 'purchases_account')"),
	    "3", "migrate: the indexes rebuilt");
	is_str(val("PRAGMA foreign_key_check"), "", "migrate: foreign keys hold");
	is_str(val("select id from purchases where state in ('pending', 'subscribed', 'provisioned', "
	           "'paid', 'voiding', 'compensating', 'releasing')"),
	    "3", "migrate: the unfinished one is still found");
	/* Version 4: the same CHECKs, spelled without IN lists (which SQLite
	 * evaluates by building a b-tree of the list at every write). */
	is_str(val("select count(*) from sqlite_master where name in ('purchases', 'numbers') "
	           "and sql like '% IN (%'"),
	    "0", "migrate: no IN list left in the CHECKs of purchases and numbers");
	(void)val("update purchases set state = 'bogus' where id = 3");
	(void)val("update purchases set state = 'complete' where id = 3");
	(void)val("update purchases set live = 0 where id = 3");
	(void)val("update numbers set status = 'bogus' where id = 1");
	is_str(val("select state || open || live from purchases where id = 3; "
	           "select status from numbers where id = 1"),
	    "subscribed11\nactive",
	    "migrate: the CHECKs still refuse an unknown state, open or live out of step "
	    "with it, an unknown status");
	(void)val("update purchases set state = 'complete', open = 0 where id = 3");
	(void)val("update numbers set status = 'past_due' where id = 1");
	is_str(val("select state || open || live from purchases where id = 3; "
	           "select status from numbers where id = 1"),
	    "complete01\npast_due", "migrate: ... and allow what they allowed");
	(void)val("update purchases set state = 'subscribed', open = 1 where id = 3");
	(void)val("update numbers set status = 'active' where id = 1");
	/* Migrating again is a no-op. */
	if (pur_store_open(db, 1000, &s, &d) == PURCHASE_OK) {
		is_int(pur_store_migrate(s, &d), PURCHASE_OK, "migrate again: a no-op");
		pur_store_close(s);
	}
	sql("PRAGMA user_version = 99");
	if (pur_store_open(db, 1000, &s, &d) == PURCHASE_OK) {
		is_int(pur_store_migrate(s, &d), PURCHASE_ESCHEMA,
		    "a database newer than this build: ESCHEMA, nothing touched");
		pur_store_close(s);
	}
	sql("PRAGMA user_version = 2");
}

static void
test_claims(void)
{
	struct purchase_detail d = {""};
	struct pur_store *a, *b;
	struct pur_purchase p, q, got;
	struct pur_idem idem;

	if (pur_store_open(db, 1000, &a, &d) != PURCHASE_OK ||
	    pur_store_open(db, 1000, &b, &d) != PURCHASE_OK) {
		ok(0, "open two connections: %s", d.text);
		return;
	}
	memset(&idem, 0, sizeof(idem));
	/* Two buyers of one number on two connections: one claim. */
	purchase_for(&p, "+14155550199", 1);
	purchase_for(&q, "+14155550199", 1);
	is_int(pur_store_claim(a, &p, "ka", "ha", 100, &idem), PURCHASE_OK, "claim A");
	is_int(pur_store_claim(b, &q, "kb", "hb", 100, &idem), PURCHASE_EIN_USE,
	    "claim B of the same number: in use (the partial unique index)");
	is_str(val("select count(*) from purchases where phone_number = '+14155550199'"), "1",
	    "one row for the number");
	is_str(val("select nonce from purchases where phone_number = '+14155550199'"),
	    "00000000000000000000000000000001", "the nonce is stored");
	/* The same key again: the record wins. */
	purchase_for(&q, "+14155550198", 1);
	is_int(pur_store_claim(b, &q, "ka", "ha", 100, &idem), PURCHASE_EIDEM_BUSY,
	    "the same key: EIDEM_BUSY with the record");
	is_int((int)idem.purchase_id, (int)p.id, "the record names the first purchase");
	pur_idem_free(&idem);

	/* Leases: B takes over once A's lease has run out; A is fenced. */
	is_int(pur_store_purchase_lease(b, p.id, 500, 600, 10, &got), PURCHASE_EIDEM_BUSY,
	    "lease while A's runs: busy");
	is_int(pur_store_purchase_lease(b, p.id, 1000, 1060, 10, &got), PURCHASE_OK,
	    "lease once A's ran out");
	is_int((int)got.lease_token, 2, "the token is bumped");
	is_int((int)got.settle_at, 1010, "settle_at: A's lease end plus the settle time");
	p.state = PUR_SUBSCRIBED;
	is_int(pur_store_purchase_save(a, &p, 1001, 1061, NULL, 0), PURCHASE_ELEASE,
	    "A writes with its old token: ELEASE");
	is_str(val("select state from purchases where id = (select max(id) from purchases)"),
	    "pending", "A's write did not land");
	got.state = PUR_SUBSCRIBED;
	is_int(pur_store_purchase_save(b, &got, 1001, 1061, NULL, 0), PURCHASE_OK, "B writes");
	is_str(val("select state || ' ' || settle_at from purchases where id = (select max(id) from "
	           "purchases)"),
	    "subscribed 1010", "B's write landed, settle_at with it");

	/* The finish is fenced too (one statement on PostgreSQL): A's old
	 * token writes nothing; B's writes the purchase, the number and the
	 * stored reply together. */
	{
		struct purchase_number num;
		struct purchase_reply r = {201, "done", 4};
		char sel[512];

		memset(&num, 0, sizeof(num));
		snprintf(num.phone_number, sizeof(num.phone_number), "+14155550199");
		snprintf(num.country_code, sizeof(num.country_code), "US");
		snprintf(num.type, sizeof(num.type), "local");
		snprintf(num.region, sizeof(num.region), "CA");
		num.sms_capable = 1;
		num.price_cents = 115;
		num.period_end = 2000;
		snprintf(got.subscription_id, sizeof(got.subscription_id), "sub_f");
		snprintf(got.number_sid, sizeof(got.number_sid), "PNf");
		p.state = PUR_PROVISIONED;
		is_int(pur_store_purchase_end(a, &p, &num, &r, 1002, 0), PURCHASE_ELEASE,
		    "the finish with A's old token: ELEASE");
		snprintf(sel, sizeof(sel), "select state || ' ' || (select count(*) from numbers where "
		    "purchase_id = %lld) || ' ' || (select coalesce(status, 0) from idempotency "
		    "where key = 'ka') from purchases where id = %lld", (long long)p.id, (long long)p.id);
		is_str(val(sel), "subscribed 0 0", "... nothing of it written");
		is_int(pur_store_purchase_end(b, &got, &num, &r, 1002, 0), PURCHASE_OK,
		    "the finish with B's token");
		snprintf(sel, sizeof(sel), "select p.state || p.open || p.live || ' ' || n.status || ' ' || "
		    "n.region || ' ' || n.subscription_id || ' ' || n.period_end || ' ' || i.status || "
		    "i.body from purchases p, numbers n, idempotency i where p.id = %lld and "
		    "n.purchase_id = p.id and i.purchase_id = p.id", (long long)p.id);
		is_str(val(sel), "complete01 active CA sub_f 2000 201done",
		    "... the purchase complete, its number and its reply written");
	}

	/* A claim taken back leaves nothing. */
	purchase_for(&q, "+14155550197", 1);
	is_int(pur_store_claim(a, &q, "kc", "hc", 100, &idem), PURCHASE_OK, "claim C");
	is_int(pur_store_purchase_abandon(a, &q, 101), PURCHASE_OK, "take C back");
	is_str(val("select count(*) from purchases where phone_number = '+14155550197'"), "0",
	    "taken back: no purchase row");
	is_str(val("select count(*) from idempotency where key = 'kc'"), "0",
	    "taken back: no key record");
	pur_store_close(a);
	pur_store_close(b);
}

/* The process's connections to one file: at most 16, each store holding
 * one only while it uses it. */
static void
test_pool(void)
{
	struct purchase_detail d = {""};
	struct pur_store *s[17] = {NULL}, *late = NULL;
	int i, opened = 0, v = 0;

	/* Each open lends its store a connection (to report a bad file at
	 * once), kept until its reads are done. */
	for (i = 0; i < 16; i++)
		opened += pur_store_open(db, 100, &s[i], &d) == PURCHASE_OK;
	is_int(opened, 16, "16 stores open, each holding a connection");
	ok(pur_store_open(db, 100, &s[16], &d) == PURCHASE_EBUSY && s[16] == NULL,
	    "a 17th finds none free in its busy timeout: EBUSY");
	is_str(d.text, "no database connection free in 100 ms", "... and says so");
	/* One gives its back: another store takes it, and the one that gave
	 * it back takes one again when it next reads. */
	pur_store_reads_done(s[0]);
	ok(pur_store_open(db, 100, &late, &d) == PURCHASE_OK, "one given back: the next open has it");
	ok(pur_store_schema_version(s[0], &v) == PURCHASE_EBUSY,
	    "the store that gave it back waits for one again: EBUSY");
	pur_store_reads_done(late);
	is_int(pur_store_schema_version(s[0], &v), PURCHASE_OK,
	    "... and has one once another is given back");
	ok(v > 0, "... and reads with it (schema version %d)", v);
	/* Reads done on every store: a new store shares the same connections. */
	for (i = 0; i < 16; i++)
		pur_store_reads_done(s[i]);
	pur_store_close(late);
	ok(pur_store_open(db, 100, &late, &d) == PURCHASE_OK &&
	    pur_store_schema_version(late, &v) == PURCHASE_OK, "all given back: a store opens at once");
	pur_store_close(late);
	for (i = 0; i < 16; i++)
		pur_store_close(s[i]);
	/* Every store closed: the pool and its connections are gone, and a
	 * store opened now starts a new one. */
	ok(pur_store_open(db, 100, &late, &d) == PURCHASE_OK, "a new pool after the last close");
	pur_store_close(late);
}

/* --- PostgreSQL ------------------------------------------------------- */

static void
test_pg_schema(void)
{
	struct purchase_detail d = {""};
	struct pur_store *s;
	int64_t id = 0;
	int v = -1;

	if (!ok(pur_store_open(db, 1000, &s, &d) == PURCHASE_OK, "PostgreSQL: open (%s)", d.text))
		return;
	is_int(pur_store_schema_version(s, &v), PURCHASE_OK, "an empty database: its version read");
	is_int(v, 0, "an empty database is version 0");
	is_int(pur_store_migrate(s, &d), PURCHASE_OK, "migrate from nothing (%s)", d.text);
	pur_store_schema_version(s, &v);
	is_int(v, PUR_SCHEMA_VERSION, "at the current version");
	is_int(pur_store_migrate(s, &d), PURCHASE_OK, "migrate again: nothing to do");
	/* The first PostgreSQL schema was version 3; 4 changed SQLite's only. */
	sql("UPDATE schema_version SET version = 3");
	is_int(pur_store_migrate(s, &d), PURCHASE_OK, "migrate from version 3 (%s)", d.text);
	pur_store_schema_version(s, &v);
	is_int(v, PUR_SCHEMA_VERSION, "... to the current version");
	sql("UPDATE schema_version SET version = 2");
	is_int(pur_store_migrate(s, &d), PURCHASE_ESCHEMA,
	    "a version before PostgreSQL's first (3): ESCHEMA");
	{
		char q[64];
		snprintf(q, sizeof(q), "UPDATE schema_version SET version = %d", PUR_SCHEMA_VERSION);
		sql(q);
	}
	is_int(pur_store_account_insert(s, "a", "cus_1", 1, &id), PURCHASE_OK, "account 1");
	is_int((int)id, 1, "its id, from INSERT .. RETURNING");
	is_int(pur_store_account_insert(s, "b", "cus_2", 1, &id), PURCHASE_OK, "account 2");
	is_int(pur_store_account_insert(s, "", "cus_3", 1, &id), PURCHASE_EINVAL,
	    "a CHECK refuses a nameless account: EINVAL");
	ok(pur_store_clock_offset() >= -1 && pur_store_clock_offset() <= 1,
	    "the server's clock read: %lld s from ours (one machine)",
	    (long long)pur_store_clock_offset());
	pur_store_close(s);
}

struct twin {
	pthread_barrier_t *go;
	const char *number;
	const char *key;
	enum purchase_err err;
};

static void *
twin_claim(void *arg)
{
	struct twin *t = arg;
	struct purchase_detail d = {""};
	struct pur_store *s;
	struct pur_purchase p;
	struct pur_idem idem;

	memset(&idem, 0, sizeof(idem));
	purchase_for(&p, t->number, 1);
	if ((t->err = pur_store_open(db, 2000, &s, &d)) != PURCHASE_OK) {
		pthread_barrier_wait(t->go);
		return NULL;
	}
	pthread_barrier_wait(t->go);
	t->err = pur_store_claim(s, &p, t->key, "h", 100, &idem);
	pur_idem_free(&idem);
	pur_store_close(s);
	return NULL;
}

/* Two copies of one request (account, Idempotency-Key) at the same
 * instant: one claim; the other finds its record (409/replay), never
 * "in use" (which a client would take for someone else's number). */
static void
test_pg_twins(void)
{
	pthread_barrier_t go;
	pthread_t th[2];
	struct twin t[2];
	char num[17], key[16];
	int round, good = 0, i;

	for (round = 0; round < 20; round++) {
		snprintf(num, sizeof(num), "+1415555%04d", 3000 + round);
		snprintf(key, sizeof(key), "twin-%d", round);
		pthread_barrier_init(&go, NULL, 2);
		for (i = 0; i < 2; i++) {
			t[i].go = &go;
			t[i].number = num;
			t[i].key = key;
			pthread_create(&th[i], NULL, twin_claim, &t[i]);
		}
		for (i = 0; i < 2; i++)
			pthread_join(th[i], NULL);
		pthread_barrier_destroy(&go);
		if ((t[0].err == PURCHASE_OK && t[1].err == PURCHASE_EIDEM_BUSY) ||
		    (t[1].err == PURCHASE_OK && t[0].err == PURCHASE_EIDEM_BUSY))
			good++;
		else
			diag("round %d: %s / %s", round, purchase_strerror(t[0].err),
			    purchase_strerror(t[1].err));
	}
	is_int(good, 20, "twins claiming at once, 20 rounds: one claim and one EIDEM_BUSY each");
	is_str(val("select count(*) from purchases where phone_number like '+14155553%'"), "20",
	    "twins: one purchase row per round");
}

static void
test_pg_prices(void)
{
	static const char *const hostile[] = {
		"INSERT INTO prices (country_code, type, price_cents, stripe_price_id) VALUES "
		"('US', 'local', 1, 'price_x'); DELETE FROM purchases;",
		"INSERT INTO prices (country_code, type, price_cents, stripe_price_id) "
		"SELECT 'US', 'local', 1, hash FROM api_keys;",
		"INSERT INTO api_keys (account_id, prefix, hash, created_at) VALUES (1, 'x', 'y', 1);",
		"INSERT INTO prices (country_code, type, price_cents, stripe_price_id) VALUES "
		"('US', 'local', 1, lower('PRICE_X'));",
		"INSERT INTO prices (country_code, type, price_cents, stripe_price_id) VALUES "
		"('US', 'local', 1, 'price_x'';DROP TABLE numbers;--",
		"INSERT INTO prices (country_code, type, price_cents, stripe_price_id) VALUES "
		"('US', 'local', 1, 'price_x') RETURNING (SELECT count(*) FROM purchases);",
	};
	struct purchase_detail d = {""};
	struct pur_store *s;
	char price[PUR_ID_MAX], numbers[32];
	int64_t cents = 0;
	size_t i;
	int refused = 0;

	if (pur_store_open(db, 1000, &s, &d) != PURCHASE_OK)
		return;
	is_int(pur_store_load_prices(s,
	    "-- a list\nINSERT INTO prices (country_code, type, price_cents, stripe_price_id) "
	    "VALUES ('US', 'local', 115, 'price_us_local'), ('CA', 'local', 115, 'price_o''k');\n",
	    &d), PURCHASE_OK, "a price list loads (%s)", d.text);
	snprintf(numbers, sizeof(numbers), "%s", val("select count(*) from numbers"));
	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++)
		refused += pur_store_load_prices(s, hostile[i], &d) != PURCHASE_OK;
	is_int(refused, (int)(sizeof(hostile) / sizeof(hostile[0])),
	    "every price list that is not only INSERT INTO prices VALUES (literals) is refused");
	is_int(pur_store_price_get(s, "US", "local", &cents, price), PURCHASE_OK,
	    "the list loaded before is still there");
	is_int((int)cents, 115, "its price");
	is_str(val("select count(*) from numbers"), numbers, "no statement of theirs ran");
	pur_store_close(s);
}

/* The server ends the pool's connections (a restart, a failover): the
 * next use fails cleanly, and the one after runs on a new connection. */
static void
test_pg_lost(void)
{
	struct purchase_detail d = {""};
	struct pur_store *s;
	struct pur_account a;
	enum purchase_err e1, e2;

	if (pur_store_open(db, 1000, &s, &d) != PURCHASE_OK)
		return;
	is_int(pur_store_account_get(s, 1, &a), PURCHASE_OK, "a read on a pooled connection");
	pur_store_reads_done(s);
	(void)val("select count(pg_terminate_backend(pid)) from pg_stat_activity "
	          "where datname = current_database() and pid <> pg_backend_pid()");
	e1 = pur_store_account_get(s, 1, &a);
	pur_store_reads_done(s);
	e2 = pur_store_account_get(s, 1, &a);
	ok(e1 == PURCHASE_EDB || e1 == PURCHASE_OK, "the server dropped it: a clean error (%s)",
	    purchase_strerror(e1));
	is_int(e2, PURCHASE_OK, "then a new connection: the read goes through");
	pur_store_close(s);
}

/* A search's offers, on either backend (PostgreSQL: one statement for
 * all, the rows as JSON): text that needs escaping comes back as it went
 * in, a number twice in one reply is one offer, a later search replaces
 * the offer, an empty one still counts in the rate window, an expired
 * offer is pruned unless offered again. */
static void
test_offers(void)
{
	struct purchase_detail d = {""};
	struct pur_store *s;
	struct pur_offer_row rows[3], got;
	int64_t retry = 0;
	size_t i;

	if (pur_store_open(db, 1000, &s, &d) != PURCHASE_OK) {
		ok(0, "store open for offers (%s)", d.text);
		return;
	}
	memset(rows, 0, sizeof(rows));
	for (i = 0; i < 3; i++) {
		snprintf(rows[i].phone_number, sizeof(rows[i].phone_number), "+1415555%04d",
		    i == 2 ? 7000 : (int)(7000 + i));
		memcpy(rows[i].country_code, "CA", 3);
		memcpy(rows[i].type, "local", 6);
		rows[i].price_cents = 115;
		memcpy(rows[i].stripe_price_id, "price_ca_local", 15);
		rows[i].sms_capable = 1;
		rows[i].expires_at = 5000;
	}
	snprintf(rows[0].region, sizeof(rows[0].region), "Qu\xc3\xa9" "bec \"QC\"\\ \t,'x'}]");
	snprintf(rows[1].region, sizeof(rows[1].region), "%s", "");
	snprintf(rows[2].region, sizeof(rows[2].region), "%s", rows[0].region);
	is_int(pur_store_offers_put(s, 77, rows, 3, 1000), PURCHASE_OK,
	    "three offers, one number twice, are stored");
	is_int(pur_store_offer_get(s, 77, "+14155557000", 1000, &got), PURCHASE_OK, "the first offer");
	is_str(got.region, rows[0].region, "its region, quotes, backslash, tab and UTF-8 as sent");
	is_int((int)got.price_cents, 115, "its price");
	is_str(got.stripe_price_id, "price_ca_local", "its price id");
	is_int((int)got.expires_at, 5000, "its expiry");
	is_int(pur_store_offer_get(s, 77, "+14155557001", 1000, &got), PURCHASE_OK, "the second");
	is_str(got.region, "", "no region: empty");
	is_str(val("select count(*) from offers where account_id = 77"), "2",
	    "the number sent twice is one offer");
	is_int(pur_store_offer_get(s, 78, "+14155557000", 1000, &got), PURCHASE_ENOT_AVAILABLE,
	    "not offered to another account");
	rows[0].price_cents = 300;
	is_int(pur_store_offers_put(s, 77, rows, 1, 1001), PURCHASE_OK, "a later search");
	is_int(pur_store_offer_get(s, 77, "+14155557000", 1001, &got), PURCHASE_OK, "the offer again");
	is_int((int)got.price_cents, 300, "replaced by the later search's");
	is_int(pur_store_offers_put(s, 77, rows, 0, 1002), PURCHASE_OK, "a search with nothing found");
	is_int(pur_store_search_rate_check(s, 77, 3, 1003, &retry), PURCHASE_ERATE,
	    "all three searches counted in the window");
	is_int(pur_store_offer_get(s, 77, "+14155557000", 6000, &got), PURCHASE_ENOT_AVAILABLE,
	    "an expired offer is not available");
	/* A search after both expired offers the first number again: the
	 * prune takes the other one and leaves the one offered anew (on
	 * PostgreSQL the two are parts of one statement). */
	rows[0].price_cents = 400;
	rows[0].expires_at = 9000;
	is_int(pur_store_offers_put(s, 77, rows, 1, 6000), PURCHASE_OK,
	    "a search offering an expired offer's number again");
	is_int(pur_store_offer_get(s, 77, "+14155557000", 6000, &got), PURCHASE_OK,
	    "offered again: available");
	is_int((int)got.price_cents, 400, "at the new search's price");
	is_int((int)got.expires_at, 9000, "until the new expiry");
	is_str(val("select count(*) from offers where account_id = 77"), "1",
	    "the other expired offer pruned, the one offered again kept");

	/* A purchase's checks, one statement: in use, then the offer, then
	 * the account. */
	{
		struct pur_offer_row o;
		struct pur_account a;

		is_int(pur_store_purchase_checks(s, 77, "+14155557000", 6000, &o, &a),
		    PURCHASE_ENOT_FOUND, "checks: offered, but no such account: ENOT_FOUND");
		sql("INSERT INTO accounts (id, name, stripe_customer, created_at) "
		    "VALUES (77, 'checks', 'cus_77', 1)");
		is_int(pur_store_purchase_checks(s, 77, "+14155557000", 6000, &o, &a), PURCHASE_OK,
		    "checks: offered to the account: OK");
		is_str(o.stripe_price_id, "price_ca_local", "... the offer's price id");
		is_int((int)o.price_cents, 400, "... its price");
		is_str(o.region, rows[0].region, "... its region");
		is_str(a.stripe_customer, "cus_77", "... the account's customer");
		is_int(pur_store_purchase_checks(s, 77, "+14155557001", 6000, &o, &a),
		    PURCHASE_ENOT_AVAILABLE, "checks: an expired offer: ENOT_AVAILABLE");
		is_int(pur_store_purchase_checks(s, 78, "+14155557000", 6000, &o, &a),
		    PURCHASE_ENOT_AVAILABLE, "checks: offered to another account only: ENOT_AVAILABLE");
		sql("INSERT INTO purchases (account_id, phone_number, country_code, type, price_cents, "
		    "stripe_price_id, sms_capable, stripe_customer, payment_method, state, open, live, "
		    "created_at, updated_at) VALUES (77, '+14155557000', 'CA', 'local', 400, 'p', 1, "
		    "'cus_77', 'pm', 'pending', 1, 1, 1, 1)");
		is_int(pur_store_purchase_checks(s, 77, "+14155557000", 6000, &o, &a), PURCHASE_EIN_USE,
		    "checks: a live purchase of the number: EIN_USE, before the offer");
		is_int(pur_store_purchase_checks(s, 78, "+14155557000", 6000, &o, &a), PURCHASE_EIN_USE,
		    "checks: ... for another account too");
		sql("DELETE FROM purchases WHERE account_id = 77");
		sql("DELETE FROM accounts WHERE id = 77");
	}
	pur_store_close(s);
}

static int
main_pg(const char *uri)
{
	snprintf(db, sizeof(db), "%s", uri);
	test_pg_schema();
	test_claims();
	test_pg_twins();
	test_pg_prices();
	test_pg_lost();
	test_offers();
	test_pool();
	return done_testing();
}

int
main(void)
{
	char cmd[400];

	if (getenv("PURCHASE_TEST_PG_URI") != NULL)
		return main_pg(getenv("PURCHASE_TEST_PG_URI"));
	snprintf(dir, sizeof(dir), "%s/test-store.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	snprintf(db, sizeof(db), "%s/purchase.db", dir);
	test_migration();
	test_claims();
	test_offers();
	test_pool();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		diag("could not remove %s", dir);
	return done_testing();
}
