/*
 * store-pg.h -- the store's PostgreSQL connections (store-pg.c): libpq
 * behind calls shaped as SQLite's, so that store.c keeps one copy of the
 * logic -- statements with ?NNN parameters prepared once per connection,
 * values bound by position, rows stepped, columns read by index, and
 * SQLite's result codes (the values of SQLITE_ROW, SQLITE_BUSY, ...; store.c
 * checks that they agree).
 *
 * libpq is loaded (dlopen) at the first connection, as libcurl is at the
 * first provider call: a deploy on an SQLite file never loads it, and the
 * shared-hosting bundle needs no static libpq.
 */
#ifndef PUR_STORE_PG_H
#define PUR_STORE_PG_H

#include <stddef.h>
#include <stdint.h>

/* SQLite's result codes, as store.c reads them. */
enum {
	PGQ_OK = 0,
	PGQ_ERROR = 1,
	PGQ_BUSY = 5,            /* a lock not had within the timeout, a deadlock,
	                          * a serialization failure: try again */
	PGQ_NOMEM = 7,
	PGQ_IOERR = 10,          /* the connection is gone */
	PGQ_CONSTRAINT = 19,
	PGQ_CONSTRAINT_CHECK = 19 | (1 << 8),
	PGQ_CONSTRAINT_FOREIGNKEY = 19 | (3 << 8),
	PGQ_CONSTRAINT_NOTNULL = 19 | (5 << 8),
	PGQ_CONSTRAINT_UNIQUE = 19 | (8 << 8),
	PGQ_ROW = 100,
	PGQ_DONE = 101,
	PGQ_NO_TABLE = 1 | (42 << 8) /* (ours) the statement names no such table */
};

#define PGQ_MAX_PARAMS 32	/* (purchasectl migrate: a row of purchases) */

struct pgq_conn;
struct pgq;

/* 1 when the database names a PostgreSQL server (postgresql:// or
 * postgres://, libpq's connection URIs) rather than an SQLite file. */
int pgq_is_uri(const char *database);

/* Connects (libpq loaded if need be) with lock_timeout set to
 * lock_timeout_ms: a lock not had by then is PGQ_BUSY, as SQLite's busy
 * timeout. A result code; msg says why on failure (no password in it). */
int pgq_open(const char *uri, long lock_timeout_ms, struct pgq_conn **out, char *msg,
    size_t msgsz);
void pgq_close(struct pgq_conn *c);
/* 0 when the connection is broken (the server went away): not to be
 * lent again. */
int pgq_usable(const struct pgq_conn *c);

/* A statement of the connection (?NNN parameters), prepared at the server
 * at its first step with the types of the values bound then. NULL: out of
 * memory or too many parameters. */
struct pgq *pgq_prepare(struct pgq_conn *c, const char *sql);
void pgq_finalize(struct pgq *q);
/* Bound values stay the caller's until the step (SQLITE_STATIC). */
void pgq_bind_int(struct pgq *q, int i, int64_t v);
void pgq_bind_text(struct pgq *q, int i, const char *v, size_t len);
/* PGQ_ROW (a row to read), PGQ_DONE, or an error. */
int pgq_step(struct pgq *q);
/* Forgets the result and the bound values (all NULL again). */
void pgq_reset(struct pgq *q);
int64_t pgq_int(const struct pgq *q, int col);
/* NULL for SQL NULL. */
const char *pgq_text(const struct pgq *q, int col, size_t *len);

/* Rows changed by the connection's last INSERT, UPDATE or DELETE. */
int64_t pgq_changes(const struct pgq_conn *c);
/* The first column of the row an INSERT .. RETURNING returned last (its
 * id): the statement steps to PGQ_DONE, as an SQLite INSERT does. */
int64_t pgq_last_id(const struct pgq_conn *c);
/* 1 while a transaction is open (or failed, not yet rolled back). */
int pgq_in_txn(const struct pgq_conn *c);
int pgq_errcode(const struct pgq_conn *c);
const char *pgq_errmsg(const struct pgq_conn *c);
/* The server's clock, in ms since the epoch. A result code. */
int pgq_clock_ms(struct pgq_conn *c, int64_t *ms);
/* Runs a script of one or more statements (the simple query protocol: one
 * round trip; in one implicit transaction unless it has its own). */
int pgq_exec(struct pgq_conn *c, const char *script);

#endif
