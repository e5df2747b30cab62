/*
 * request.h -- one HTTP request as the web server hands it over (RFC 3875
 * meta-variables), from FastCGI parameters or the CGI environment, with its
 * body read under the limits of DESIGN §2.1.
 */
#ifndef RESPONDER_REQUEST_H
#define RESPONDER_REQUEST_H

#include <stddef.h>

#include "purchase.h"

#define BODY_MAX 4096
/* A Stripe event: a subscription or an invoice with its lines runs to tens
 * of KiB; Stripe sets no limit of its own, this is ours. */
#define WEBHOOK_MAX (512 * 1024)

/* Where a request comes from: its variables and its body. */
struct source {
	const char *(*param)(void *arg, const char *name);
	int (*read)(void *arg, char *buf, size_t n); /* bytes read, 0 at end, -1 error */
	void *arg;
};

struct request {
	const struct source *src;
	const char *method;
	char path[256];          /* from "/api/...", no query; "" when not ours */
	const char *query;       /* QUERY_STRING or "" */
	const char *authorization;
	const char *idem_key;
	const char *stripe_signature;
	const char *content_type;
	const char *content_length;
	const char *config;      /* PURCHASE_CONFIG parameter, or NULL */
	char request_id[40];
	char body[BODY_MAX + 1];
	size_t body_len;
	char *raw;               /* a larger body (request_read_raw), malloc'd */
	size_t raw_len;
};

/* Fills r from src (no body yet). */
void request_init(struct request *r, const struct source *src);

/* Checks Content-Type and Content-Length and reads exactly the body.
 * Returns PURCHASE_OK, EMEDIA (415), ELENGTH (411), ETOO_LARGE (413) or
 * EBODY (400: malformed length, or fewer bytes than announced). */
enum purchase_err request_read_json_body(struct request *r);

/* The same checks, for a body of up to max bytes read into r->raw
 * (malloc'd; request_free). ENOMEM too. */
enum purchase_err request_read_raw(struct request *r, size_t max);

/* Frees what reading the request allocated. */
void request_free(struct request *r);

#endif
