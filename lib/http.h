/*
 * http.h -- the one module that talks HTTP to providers (libcurl). One
 * reusable handle per process, so connections (and TLS sessions) to Stripe
 * and Twilio are kept alive across requests. Hardened per STYLE.md: https
 * only (http only to loopback), no redirects, peer verification, timeouts,
 * a ceiling on reply size, no proxy from the environment.
 */
#ifndef PUR_HTTP_H
#define PUR_HTTP_H

#include "buf.h"
#include "purchase.h"

/* What is known about a call's effect at the provider. */
enum pur_http_outcome {
	PUR_HTTP_REPLY,    /* a complete reply arrived (any status): read it */
	PUR_HTTP_NOT_SENT, /* no connection was made: certainly not processed */
	PUR_HTTP_UNKNOWN,  /* sent, or maybe sent, but no usable reply (timeout,
	                      reset, reply over the ceiling): find out before acting */
};

struct pur_http_req {
	const char *method;   /* "GET", "POST", "DELETE" */
	const char *url;      /* complete URL */
	const char *bearer;   /* Authorization: Bearer <bearer>, or NULL */
	const char *user;     /* HTTP Basic user (with pass), or NULL */
	const char *pass;
	const char *idem_key; /* Idempotency-Key header, or NULL */
	const char *form;     /* x-www-form-urlencoded body for POST, or NULL */
	const char *version;  /* Stripe-Version header, or NULL */
};

struct pur_http_reply {
	enum pur_http_outcome outcome;
	long status;          /* HTTP status when outcome is REPLY */
	struct pur_buf body;  /* the reply body (bounded) */
	long elapsed_ms;
};

struct pur_http;

/* Timeouts in ms; max_reply the ceiling on a reply body. NULL on failure. */
struct pur_http *pur_http_new(long connect_timeout_ms, long timeout_ms, size_t max_reply);
void pur_http_free(struct pur_http *h);

void pur_http_reply_init(struct pur_http_reply *r);
void pur_http_reply_free(struct pur_http_reply *r);

/* Performs the request. Returns PURCHASE_OK with r->outcome set (a transport
 * failure is an outcome, not an error), or ENOMEM/EINVAL. r is reset first. */
enum purchase_err pur_http_do(struct pur_http *h, const struct pur_http_req *req,
    struct pur_http_reply *r);

/* Test hook: when non-NULL, called instead of the network (tests of the
 * provider clients). Returns as pur_http_do. */
typedef enum purchase_err (*pur_http_hook_fn)(void *arg, const struct pur_http_req *req,
    struct pur_http_reply *r);
void pur_http_set_hook(struct pur_http *h, pur_http_hook_fn fn, void *arg);

/* fn(arg) is called before every request is sent (the store ends the read
 * transaction it may have open: no snapshot is held across a provider's
 * reply time). */
void pur_http_set_before(struct pur_http *h, void (*fn)(void *), void *arg);

#endif

#ifndef PUR_CALL_DEFINED
#define PUR_CALL_DEFINED
/* What a provider call came to, as the purchase flow needs to know it. */
enum pur_call {
	PUR_CALL_OK,       /* done, reply parsed */
	PUR_CALL_DECLINED, /* Stripe: the card was declined (402 card_error) */
	PUR_CALL_GONE,     /* the thing is not there / not available (404,
	                      resource_missing; Twilio 21422/21421 on buy) */
	PUR_CALL_REJECTED, /* any other definitive refusal: not done */
	PUR_CALL_RETRY,    /* certainly not done (not sent, 429): safe to retry */
	PUR_CALL_UNKNOWN,  /* maybe done (timeout, 5xx, malformed reply) */
};

/* Diagnostics of one call, for the log line. */
struct pur_call_info {
	long status;        /* HTTP status, 0 when no reply */
	long elapsed_ms;
	char code[48];      /* provider error code, if any */
};

const char *pur_call_name(enum pur_call c);

/* Performs req and classifies what is vendor-neutral: not sent or 429 ->
 * RETRY; no complete reply or 5xx -> UNKNOWN; 2xx -> OK; any other 4xx ->
 * REJECTED, which the vendor's client refines from its error body. info
 * (optional) receives status and time. */
enum pur_call pur_http_call(struct pur_http *h, const struct pur_http_req *req,
    struct pur_http_reply *r, struct pur_call_info *info);
#endif
