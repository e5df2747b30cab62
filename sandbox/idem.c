/*
 * idem.c -- Stripe's idempotency layer (https://stripe.com/docs/api/
 * idempotent_requests): the first POST with an Idempotency-Key has its
 * status and body saved; a later POST with the same key and the same
 * method, path and parameters gets that reply back byte for byte; the same
 * key with other parameters is an idempotency_error.  Runs inside the
 * request's write transaction, so two processes cannot both miss.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "sandbox.h"

enum sb_idem_result sb_idem_lookup(const struct sb_request *req, int *status,
				   char **body, size_t *body_len)
{
	sqlite3_stmt *st = sb_db_stmt(SB_ST_IDEM_GET);
	enum sb_idem_result res = SB_IDEM_ERROR;
	const void *params, *reply;
	int rc, plen, rlen;

	if (st == NULL)
		return SB_IDEM_ERROR;
	sqlite3_bind_text(st, 1, req->idem_key, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		res = SB_IDEM_NONE;
		goto out;
	}
	if (rc != SQLITE_ROW)
		goto out;
	params = sqlite3_column_blob(st, 2);
	plen = sqlite3_column_bytes(st, 2);
	if (strcmp((const char *)sqlite3_column_text(st, 0), req->method) != 0 ||
	    strcmp((const char *)sqlite3_column_text(st, 1), req->path) != 0 ||
	    (size_t)plen != req->body_len ||
	    (plen > 0 && memcmp(params, req->body, (size_t)plen) != 0)) {
		res = SB_IDEM_MISMATCH;
		goto out;
	}
	*status = sqlite3_column_int(st, 3);
	reply = sqlite3_column_blob(st, 4);
	rlen = sqlite3_column_bytes(st, 4);
	*body = malloc((size_t)rlen + 1);
	if (*body == NULL)
		goto out;
	if (rlen > 0)
		memcpy(*body, reply, (size_t)rlen);
	(*body)[rlen] = '\0';
	*body_len = (size_t)rlen;
	res = SB_IDEM_REPLAY;
out:
	sqlite3_reset(st);
	return res;
}

int sb_idem_store(const struct sb_request *req, int status, const char *body,
		  size_t body_len)
{
	sqlite3_stmt *st = sb_db_stmt(SB_ST_IDEM_PUT);

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, req->idem_key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, req->method, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, req->path, -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 4, req->body ? req->body : "", (int)req->body_len,
			  SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 5, status);
	sqlite3_bind_blob(st, 6, body ? body : "", (int)body_len, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)time(NULL));
	return sb_db_done(st);
}
