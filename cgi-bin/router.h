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

/* At most n purchases at once in this process (0, the default: no limit);
 * above it a purchase is answered 503 with Retry-After at once. Set before
 * the threads start. */
void route_set_purchase_slots(int n);

#endif
