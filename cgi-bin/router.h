/*
 * router.h -- maps a request onto a libpurchase call and writes the answer.
 */
#ifndef RESPONDER_ROUTER_H
#define RESPONDER_ROUTER_H

#include "purchase.h"
#include "reply.h"
#include "request.h"

/* Handles one request. ctx may be NULL when the configuration could not be
 * loaded (every route but none answers 500 then). Returns the HTTP status
 * written, for the log line. */
int route(struct purchase_ctx *ctx, struct request *r, const struct sink *out);

#endif
