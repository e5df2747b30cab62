/*
 * reply.h -- the one response writer: "Status:" first, then the fixed
 * headers, then a JSON body, to whatever sink the request came with (an
 * FCGX stream, stdout for CGI, a buffer in tests). The bodies are the
 * library's (lib/render.c).
 */
#ifndef RESPONDER_REPLY_H
#define RESPONDER_REPLY_H

#include <stddef.h>

#include "purchase.h"

struct sink {
	int (*write)(void *arg, const char *p, size_t n);
	void *arg;
};

/* Optional extra headers. */
struct reply_extra {
	const char *allow;       /* Allow, for 405 */
	int retry_after;         /* Retry-After seconds, 0 for none */
};

/* Writes status, headers and body (len bytes). Returns 0 or -1. */
int reply_write(const struct sink *out, int status, const char *request_id,
    const struct reply_extra *extra, const char *body, size_t len);

/* Writes the table's answer for err (DESIGN §2 messages) with the extra
 * headers (NULL: none); 429 and 503 always carry Retry-After (1 s unless
 * extra says more). */
int reply_error(const struct sink *out, enum purchase_err err, const char *request_id,
    const struct reply_extra *extra);

#endif
