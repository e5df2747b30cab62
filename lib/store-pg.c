/*
 * store-pg.c -- the store's PostgreSQL connections, through libpq loaded at
 * run time (see store-pg.h).
 *
 * A statement is sent with the extended query protocol: parsed and planned
 * once per connection (PQprepare, at its first step: the types of the
 * parameters are those bound then, 64-bit integers or text), executed with
 * its values (PQexecPrepared: integers as text, text as its bytes), the
 * whole result read at once (the store's reads are a row or a page) and
 * stepped through. Errors are classified by SQLSTATE into SQLite's codes:
 * unique_violation is the partial unique index refusing a second live
 * purchase, exactly as SQLITE_CONSTRAINT_UNIQUE is for the SQLite file.
 */
#include "autoconfig.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store-pg.h"

int
pgq_is_uri(const char *database)
{
	return database != NULL && (strncmp(database, "postgresql://", 13) == 0 ||
	                               strncmp(database, "postgres://", 11) == 0);
}

#ifdef HAVE_LIBPQ
#include <libpq-fe.h>

#define INT8OID 20
#define TEXTOID 25

/* The libpq functions used, resolved once. */
static struct {
	void *lib;
	PGconn *(*connectdb)(const char *);
	ConnStatusType (*status)(const PGconn *);
	char *(*error_message)(const PGconn *);
	void (*finish)(PGconn *);
	PGresult *(*exec)(PGconn *, const char *);
	PGresult *(*prepare)(PGconn *, const char *, const char *, int, const Oid *);
	PGresult *(*exec_prepared)(PGconn *, const char *, int, const char *const *,
	    const int *, const int *, int);
	ExecStatusType (*result_status)(const PGresult *);
	char *(*result_error_field)(const PGresult *, int);
	int (*ntuples)(const PGresult *);
	int (*nfields)(const PGresult *);
	char *(*getvalue)(const PGresult *, int, int);
	int (*getisnull)(const PGresult *, int, int);
	int (*getlength)(const PGresult *, int, int);
	char *(*cmd_tuples)(PGresult *);
	char *(*cmd_status)(PGresult *);
	void (*clear)(PGresult *);
	PGTransactionStatusType (*transaction_status)(const PGconn *);
	PQnoticeProcessor (*set_notice_processor)(PGconn *, PQnoticeProcessor, void *);
} pq;
static char load_error[256];

#define PGQ_SONAME "libpq.so.5"
#define RESOLVE(field, name) ((*(void **)&pq.field = dlsym(pq.lib, name)) != NULL)

static int
pq_load_once(void)
{
	if ((pq.lib = dlopen(PGQ_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		snprintf(load_error, sizeof(load_error), "%s", dlerror());
		return -1;
	}
	if (!(RESOLVE(status, "PQstatus") && RESOLVE(error_message, "PQerrorMessage") &&
	        RESOLVE(finish, "PQfinish") && RESOLVE(exec, "PQexec") &&
	        RESOLVE(prepare, "PQprepare") && RESOLVE(exec_prepared, "PQexecPrepared") &&
	        RESOLVE(result_status, "PQresultStatus") &&
	        RESOLVE(result_error_field, "PQresultErrorField") &&
	        RESOLVE(ntuples, "PQntuples") && RESOLVE(nfields, "PQnfields") &&
	        RESOLVE(getvalue, "PQgetvalue") && RESOLVE(getisnull, "PQgetisnull") &&
	        RESOLVE(getlength, "PQgetlength") && RESOLVE(cmd_tuples, "PQcmdTuples") &&
	        RESOLVE(cmd_status, "PQcmdStatus") && RESOLVE(clear, "PQclear") &&
	        RESOLVE(transaction_status, "PQtransactionStatus") &&
	        RESOLVE(set_notice_processor, "PQsetNoticeProcessor") &&
	        RESOLVE(connectdb, "PQconnectdb"))) {
		snprintf(load_error, sizeof(load_error), "%s: %s", PGQ_SONAME, dlerror());
		return -1;
	}
	return 0;
}

static int pq_loaded = -1;

static void
pq_load_init(void)
{
	pq_loaded = pq_load_once();
}

static int
pq_load(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, pq_load_init);
	return pq_loaded;
}

struct pgq_conn {
	PGconn *pg;
	int64_t changes;
	int64_t last_id;
	int errcode;
	unsigned next_name;     /* statements prepared at the server so far */
	char errmsg[256];
};

struct pgq {
	struct pgq_conn *c;
	char *sql;              /* with $NNN for ?NNN */
	char name[16];          /* at the server; "" until prepared */
	int nparams;
	Oid types[PGQ_MAX_PARAMS];
	const char *values[PGQ_MAX_PARAMS];
	int lengths[PGQ_MAX_PARAMS];
	int formats[PGQ_MAX_PARAMS];
	char ints[PGQ_MAX_PARAMS][24];
	PGresult *res;
	int row;                /* the row stepped to; -1 before the first */
	int nrows;
};

static void
quiet(void *arg, const char *msg)
{
	(void)arg, (void)msg; /* notices ("no transaction in progress") */
}

/* The result's error in SQLite's terms, kept on the connection. */
static int
classify(struct pgq_conn *c, const PGresult *r)
{
	const char *state = r != NULL ? pq.result_error_field(r, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = r != NULL ? pq.result_error_field(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	int rc;

	if (pq.status(c->pg) == CONNECTION_BAD)
		rc = PGQ_IOERR;
	else if (state == NULL)
		rc = PGQ_ERROR;
	else if (strcmp(state, "23505") == 0)
		rc = PGQ_CONSTRAINT_UNIQUE;
	else if (strcmp(state, "23514") == 0 || strncmp(state, "22", 2) == 0)
		rc = PGQ_CONSTRAINT_CHECK;
	else if (strcmp(state, "23503") == 0)
		rc = PGQ_CONSTRAINT_FOREIGNKEY;
	else if (strcmp(state, "23502") == 0)
		rc = PGQ_CONSTRAINT_NOTNULL;
	else if (strncmp(state, "23", 2) == 0)
		rc = PGQ_CONSTRAINT;
	else if (strcmp(state, "55P03") == 0 || strcmp(state, "40001") == 0 ||
	         strcmp(state, "40P01") == 0 || strcmp(state, "57014") == 0 ||
	         strcmp(state, "53300") == 0)
		rc = PGQ_BUSY; /* lock timeout, serialization, deadlock, cancel, too many */
	else if (strcmp(state, "42P01") == 0)
		rc = PGQ_NO_TABLE;
	else if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0)
		rc = PGQ_IOERR;
	else if (strcmp(state, "53200") == 0)
		rc = PGQ_NOMEM;
	else
		rc = PGQ_ERROR;
	snprintf(c->errmsg, sizeof(c->errmsg), "%s%s%s", state ? state : "", state ? ": " : "",
	    msg != NULL ? msg : pq.error_message(c->pg));
	c->errmsg[strcspn(c->errmsg, "\n")] = '\0';
	c->errcode = rc;
	return rc;
}

int
pgq_open(const char *uri, long lock_timeout_ms, struct pgq_conn **out, char *msg, size_t msgsz)
{
	struct pgq_conn *c;
	char set[96];
	PGresult *r;
	int rc;

	*out = NULL;
	if (pq_load() != 0) {
		snprintf(msg, msgsz, "cannot load libpq (%s)", load_error);
		return PGQ_ERROR;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(msg, msgsz, "out of memory");
		return PGQ_NOMEM;
	}
	c->pg = pq.connectdb(uri);
	if (c->pg == NULL || pq.status(c->pg) != CONNECTION_OK) {
		/* libpq's message names host and port, never the password. */
		snprintf(msg, msgsz, "%s", c->pg ? pq.error_message(c->pg) : "out of memory");
		msg[strcspn(msg, "\n")] = '\0';
		pgq_close(c);
		return PGQ_IOERR;
	}
	pq.set_notice_processor(c->pg, quiet, NULL);
	/* Every row the store reads and writes is UTC seconds and ASCII
	 * or UTF-8 text: no setting of the server's may change them. */
	snprintf(set, sizeof(set),
	    "SET lock_timeout = %ld; SET client_encoding = 'UTF8'; SET TIME ZONE 'UTC'",
	    lock_timeout_ms > 0 ? lock_timeout_ms : 1);
	r = pq.exec(c->pg, set);
	rc = r != NULL && pq.result_status(r) == PGRES_COMMAND_OK ? PGQ_OK : classify(c, r);
	pq.clear(r);
	if (rc != PGQ_OK) {
		snprintf(msg, msgsz, "%s", c->errmsg);
		pgq_close(c);
		return rc;
	}
	*out = c;
	return PGQ_OK;
}

void
pgq_close(struct pgq_conn *c)
{
	if (c == NULL)
		return;
	if (c->pg != NULL)
		pq.finish(c->pg);
	free(c);
}

int
pgq_usable(const struct pgq_conn *c)
{
	return c != NULL && pq.status(c->pg) == CONNECTION_OK &&
	       pq.transaction_status(c->pg) == PQTRANS_IDLE;
}

/* ?NNN to $NNN (outside quotes), and the highest NNN. */
static char *
translate(const char *sql, int *nparams)
{
	char *out = malloc(strlen(sql) + 1), *o = out;
	char quote = 0;
	int n;

	*nparams = 0;
	if (out == NULL)
		return NULL;
	for (; *sql != '\0'; sql++) {
		if (quote != 0) {
			if (*sql == quote)
				quote = 0;
		} else if (*sql == '\'' || *sql == '"') {
			quote = *sql;
		} else if (*sql == '?' && sql[1] >= '0' && sql[1] <= '9') {
			n = atoi(sql + 1);
			if (n > *nparams)
				*nparams = n;
			*o++ = '$';
			continue;
		}
		*o++ = *sql;
	}
	*o = '\0';
	return out;
}

struct pgq *
pgq_prepare(struct pgq_conn *c, const char *sql)
{
	struct pgq *q = calloc(1, sizeof(*q));

	if (q == NULL)
		return NULL;
	q->c = c;
	q->row = -1;
	if ((q->sql = translate(sql, &q->nparams)) == NULL || q->nparams > PGQ_MAX_PARAMS) {
		pgq_finalize(q);
		return NULL;
	}
	return q;
}

void
pgq_finalize(struct pgq *q)
{
	if (q == NULL)
		return;
	pq.clear(q->res);
	free(q->sql);
	free(q);
}

void
pgq_bind_int(struct pgq *q, int i, int64_t v)
{
	if (i < 1 || i > q->nparams)
		return;
	snprintf(q->ints[i - 1], sizeof(q->ints[i - 1]), "%lld", (long long)v);
	q->values[i - 1] = q->ints[i - 1];
	q->lengths[i - 1] = 0;
	q->formats[i - 1] = 0;
	if (q->name[0] == '\0')
		q->types[i - 1] = INT8OID;
}

void
pgq_bind_text(struct pgq *q, int i, const char *v, size_t len)
{
	if (i < 1 || i > q->nparams)
		return;
	if (v == NULL) {
		q->values[i - 1] = NULL;
		return;
	}
	/* As its bytes (text's binary form): no terminating NUL needed. */
	q->values[i - 1] = v;
	q->lengths[i - 1] = (int)len;
	q->formats[i - 1] = 1;
	if (q->name[0] == '\0')
		q->types[i - 1] = TEXTOID;
}

static int
run(struct pgq *q)
{
	struct pgq_conn *c = q->c;
	ExecStatusType st;
	PGresult *r;
	char *cmd;
	int rc;

	if (q->name[0] == '\0') {
		char name[16];
		snprintf(name, sizeof(name), "p%u", c->next_name + 1);
		r = pq.prepare(c->pg, name, q->sql, q->nparams, q->types);
		rc = r != NULL && pq.result_status(r) == PGRES_COMMAND_OK ? PGQ_OK : classify(c, r);
		pq.clear(r);
		if (rc != PGQ_OK)
			return rc;
		c->next_name++;
		memcpy(q->name, name, sizeof(name));
	}
	r = pq.exec_prepared(c->pg, q->name, q->nparams, q->values, q->lengths, q->formats, 0);
	st = r != NULL ? pq.result_status(r) : PGRES_FATAL_ERROR;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		rc = classify(c, r);
		pq.clear(r);
		return rc;
	}
	c->errcode = PGQ_OK;
	cmd = pq.cmd_status(r);
	if (strcmp(q->sql, "COMMIT") == 0 && strcmp(cmd, "ROLLBACK") == 0) {
		/* COMMIT of a failed transaction: PostgreSQL rolls it back
		 * and says so only in the tag. Nothing was written. */
		pq.clear(r);
		snprintf(c->errmsg, sizeof(c->errmsg), "the transaction failed and was rolled back");
		return c->errcode = PGQ_ERROR;
	}
	if (strncmp(cmd, "INSERT", 6) == 0 || strncmp(cmd, "UPDATE", 6) == 0 ||
	    strncmp(cmd, "DELETE", 6) == 0)
		c->changes = strtoll(pq.cmd_tuples(r), NULL, 10);
	if (st == PGRES_TUPLES_OK && strncmp(cmd, "INSERT", 6) == 0) {
		/* INSERT .. RETURNING id: the id, and no row (as in SQLite). */
		if (pq.ntuples(r) > 0 && pq.nfields(r) > 0)
			c->last_id = strtoll(pq.getvalue(r, 0, 0), NULL, 10);
		pq.clear(r);
		return PGQ_DONE;
	}
	q->res = r;
	q->nrows = st == PGRES_TUPLES_OK ? pq.ntuples(r) : 0;
	q->row = -1;
	return PGQ_OK;
}

int
pgq_step(struct pgq *q)
{
	int rc;

	if (q->res == NULL && q->row == -1) {
		if ((rc = run(q)) != PGQ_OK)
			return rc;
		if (q->res == NULL) {
			q->row = 0; /* done: stepping again is still done */
			return PGQ_DONE;
		}
	}
	if (q->res == NULL || q->row + 1 >= q->nrows) {
		q->row = q->nrows;
		return PGQ_DONE;
	}
	q->row++;
	return PGQ_ROW;
}

void
pgq_reset(struct pgq *q)
{
	int i;

	if (q == NULL)
		return;
	pq.clear(q->res);
	q->res = NULL;
	q->row = -1;
	q->nrows = 0;
	for (i = 0; i < q->nparams; i++)
		q->values[i] = NULL;
}

int64_t
pgq_int(const struct pgq *q, int col)
{
	if (q->res == NULL || q->row < 0 || q->row >= q->nrows || col >= pq.nfields(q->res) ||
	    pq.getisnull(q->res, q->row, col))
		return 0;
	return strtoll(pq.getvalue(q->res, q->row, col), NULL, 10);
}

const char *
pgq_text(const struct pgq *q, int col, size_t *len)
{
	if (len != NULL)
		*len = 0;
	if (q->res == NULL || q->row < 0 || q->row >= q->nrows || col >= pq.nfields(q->res) ||
	    pq.getisnull(q->res, q->row, col))
		return NULL;
	if (len != NULL)
		*len = (size_t)pq.getlength(q->res, q->row, col);
	return pq.getvalue(q->res, q->row, col);
}

int64_t
pgq_changes(const struct pgq_conn *c)
{
	return c->changes;
}

int64_t
pgq_last_id(const struct pgq_conn *c)
{
	return c->last_id;
}

int
pgq_in_txn(const struct pgq_conn *c)
{
	PGTransactionStatusType t = pq.transaction_status(c->pg);

	return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

int
pgq_errcode(const struct pgq_conn *c)
{
	return c->errcode;
}

const char *
pgq_errmsg(const struct pgq_conn *c)
{
	return c->errmsg[0] != '\0' ? c->errmsg : "no error";
}

int
pgq_clock_ms(struct pgq_conn *c, int64_t *ms)
{
	PGresult *r = pq.exec(c->pg,
	    "SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint");
	int rc = PGQ_OK;

	if (r != NULL && pq.result_status(r) == PGRES_TUPLES_OK && pq.ntuples(r) == 1)
		*ms = strtoll(pq.getvalue(r, 0, 0), NULL, 10);
	else
		rc = classify(c, r);
	pq.clear(r);
	return rc;
}

int
pgq_exec(struct pgq_conn *c, const char *script)
{
	PGresult *r = pq.exec(c->pg, script);
	ExecStatusType st = r != NULL ? pq.result_status(r) : PGRES_FATAL_ERROR;
	int rc;

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY) {
		c->errcode = PGQ_OK;
		c->errmsg[0] = '\0';
		rc = PGQ_OK;
	} else {
		rc = classify(c, r);
	}
	pq.clear(r);
	return rc;
}

#else /* !HAVE_LIBPQ: a build without libpq's headers */

int
pgq_open(const char *uri, long lock_timeout_ms, struct pgq_conn **out, char *msg, size_t msgsz)
{
	(void)uri, (void)lock_timeout_ms;
	*out = NULL;
	snprintf(msg, msgsz, "this build has no PostgreSQL support (configure found no libpq-fe.h)");
	return PGQ_ERROR;
}

void pgq_close(struct pgq_conn *c) { (void)c; }
int pgq_usable(const struct pgq_conn *c) { (void)c; return 0; }
struct pgq *pgq_prepare(struct pgq_conn *c, const char *sql) { (void)c, (void)sql; return NULL; }
void pgq_finalize(struct pgq *q) { (void)q; }
void pgq_bind_int(struct pgq *q, int i, int64_t v) { (void)q, (void)i, (void)v; }
void pgq_bind_text(struct pgq *q, int i, const char *v, size_t len) { (void)q, (void)i, (void)v, (void)len; }
int pgq_step(struct pgq *q) { (void)q; return PGQ_ERROR; }
void pgq_reset(struct pgq *q) { (void)q; }
int64_t pgq_int(const struct pgq *q, int col) { (void)q, (void)col; return 0; }
const char *pgq_text(const struct pgq *q, int col, size_t *len) { (void)q, (void)col; if (len) *len = 0; return NULL; }
int64_t pgq_changes(const struct pgq_conn *c) { (void)c; return 0; }
int64_t pgq_last_id(const struct pgq_conn *c) { (void)c; return 0; }
int pgq_in_txn(const struct pgq_conn *c) { (void)c; return 0; }
int pgq_errcode(const struct pgq_conn *c) { (void)c; return PGQ_ERROR; }
const char *pgq_errmsg(const struct pgq_conn *c) { (void)c; return "no PostgreSQL support"; }
int pgq_exec(struct pgq_conn *c, const char *script) { (void)c, (void)script; return PGQ_ERROR; }
int pgq_clock_ms(struct pgq_conn *c, int64_t *ms) { (void)c; *ms = 0; return PGQ_ERROR; }

#endif
