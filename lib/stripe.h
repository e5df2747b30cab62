/*
 * stripe.h -- the Stripe client: request building and reply parsing as pure
 * functions (bytes in, struct out; unit-tested and fuzzable without a
 * network), and the calls the purchase flow makes (Stripe API v1, API
 * version 2023-08-16, see ../shared/specs/stripe_spec3.yaml).
 */
#ifndef PUR_STRIPE_H
#define PUR_STRIPE_H

#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "http.h"

#define PUR_STRIPE_ID 256 /* Stripe ids are at most 255 characters */
#define PUR_STRIPE_VERSION "2023-08-16"

struct pur_stripe_sub {
	char id[PUR_STRIPE_ID];
	char status[32];          /* incomplete, active, canceled, ... */
	char latest_invoice[PUR_STRIPE_ID];
	char purchase_id[32];     /* metadata[purchase_id] */
	char purchase_nonce[40];  /* metadata[purchase_nonce] ("" before schema 2) */
	int64_t current_period_end;
	int cancel_at_period_end;
	int invoice_paid;         /* latest_invoice.paid when it was expanded */
	char customer[PUR_STRIPE_ID];
	char default_payment_method[PUR_STRIPE_ID]; /* "" when none */
	char default_source[PUR_STRIPE_ID];         /* "" when none */
	int64_t created;                            /* 0 when the reply does not say */
};

/* A webhook event (or one of GET /v1/events), as far as the service reads
 * it: the event is only a trigger -- what it is about is fetched again. */
struct pur_stripe_event {
	char id[PUR_STRIPE_ID];       /* evt_... */
	char type[64];                /* invoice.paid, customer.subscription.updated, ... */
	int64_t created;
	char object[32];              /* data.object.object: invoice, subscription, customer */
	char object_id[PUR_STRIPE_ID];/* data.object.id */
	char subscription[PUR_STRIPE_ID]; /* the subscription it is about ("" none) */
	char customer[PUR_STRIPE_ID];     /* the customer it is about ("" none) */
};

/* One page of GET /v1/events (newest first, as Stripe lists). */
struct pur_stripe_event_page {
	size_t n;
	struct pur_stripe_event *v; /* malloc'd */
	int has_more;
};
void pur_stripe_event_page_free(struct pur_stripe_event_page *p);

/* One page of GET /v1/subscriptions. */
struct pur_stripe_sub_page {
	size_t n;
	struct pur_stripe_sub *v; /* malloc'd */
	int has_more;
};
void pur_stripe_sub_page_free(struct pur_stripe_sub_page *p);

struct pur_stripe_invoice {
	char id[PUR_STRIPE_ID];
	char status[32];          /* draft, open, paid, void, uncollectible */
	int paid;
};

/* Stripe subscription statuses (stripe_spec3.yaml, subscription.status):
 * 1 for the terminal ones, canceled and incomplete_expired -- an ended
 * subscription never bills again and cannot be canceled again. */
int pur_stripe_sub_ended(const char *status);

/* The purchase a Stripe object is made for: its row id (metadata, for
 * people and reconcile) and its random nonce, which makes its
 * Idempotency-Keys unique for ever -- across databases, restored backups
 * and reused row ids (a key sent again with another body is refused by
 * Stripe, or worse, answered with another purchase's object). nonce is
 * NULL or "" only for purchases made before schema version 2, whose keys
 * named the row id and must keep doing so. */
struct pur_stripe_ref {
	int64_t id;
	const char *nonce;
};

/* "purchase-<nonce>-<step>" (or "purchase-<id>-<step>" without a nonce)
 * into out; 0, or -1 when it does not fit. */
int pur_stripe_idem_key(const struct pur_stripe_ref *ref, const char *step, char *out,
    size_t n);

struct pur_stripe_error {
	char type[48];            /* card_error, invalid_request_error, ... */
	char code[48];            /* card_declined, resource_missing, ... */
	char decline_code[48];
};

/* --- pure: building --- */
/* The form body of POST /v1/subscriptions for a purchase (DESIGN §3 step
 * 3). payment_method is a PaymentMethod ("pm_...", sent as
 * default_payment_method) or a legacy card or source (card_, src_...,
 * sent as default_source). */
int pur_stripe_build_subscription(struct pur_buf *b, const char *customer, const char *price,
    const char *payment_method, const struct pur_stripe_ref *ref);

/* --- pure: parsing; each returns 0, or -1 when the reply is malformed --- */
/* What Stripe bills the customer with: invoice_settings'
 * default_payment_method, else the legacy default_source (each a string,
 * an expanded object or null); pm[0] is '\0' when there is neither. */
int pur_stripe_parse_customer(const char *body, size_t len, char pm[PUR_STRIPE_ID]);
int pur_stripe_parse_subscription(const char *body, size_t len, struct pur_stripe_sub *out);
int pur_stripe_parse_invoice(const char *body, size_t len, struct pur_stripe_invoice *out);
int pur_stripe_parse_error(const char *body, size_t len, struct pur_stripe_error *out);
/* A search_result list of subscriptions: the first live one (not canceled)
 * or, failing that, the first; *found is 0 for an empty list. */
int pur_stripe_parse_sub_search(const char *body, size_t len, struct pur_stripe_sub *out,
    int *found);

/* A list object of subscriptions (latest_invoice possibly expanded). */
int pur_stripe_parse_sub_list(const char *body, size_t len, struct pur_stripe_sub_page *out);

/* An event object (the webhook body, or an entry of GET /v1/events): id
 * (evt_), type, created and what data.object is about -- for an invoice,
 * its subscription and customer; for a subscription, itself and its
 * customer; for a customer, itself. -1 when it is not an event. */
int pur_stripe_parse_event(const char *body, size_t len, struct pur_stripe_event *out);

/* A list object of events. */
int pur_stripe_parse_event_list(const char *body, size_t len, struct pur_stripe_event_page *out);

/*
 * Stripe-Signature (https://stripe.com/docs/webhooks/signatures): header is
 * "t=<unix>,v1=<hex>[,v1=<hex>...][,v0=...]"; secrets a comma-separated
 * list of endpoint secrets (two while one is rolled). 0 when some v1 is
 * HMAC-SHA256(secret, "<t>.<body>") for some secret (compared in constant
 * time) and t is within tolerance seconds of now (either way); -1 for a
 * missing, malformed, wrong or stale signature. Pure: no clock, no I/O.
 */
int pur_stripe_signature_ok(const char *header, const char *body, size_t len,
    const char *secrets, int64_t now, int64_t tolerance);

/* --- calls --- */
struct pur_stripe {
	struct pur_http *http;
	const struct pur_config *cfg;
};

/* GET /v1/customers/{id}: OK with pm set (maybe empty), GONE for an
 * unknown customer, else RETRY/UNKNOWN/REJECTED. */
enum pur_call pur_stripe_customer_get(const struct pur_stripe *s, const char *customer,
    char pm[PUR_STRIPE_ID], struct pur_call_info *info);

/* POST /v1/subscriptions with Idempotency-Key purchase-<nonce>-subscribe. */
enum pur_call pur_stripe_subscription_create(const struct pur_stripe *s,
    const struct pur_stripe_ref *ref, const char *customer, const char *price,
    const char *payment_method, struct pur_stripe_sub *out, struct pur_call_info *info);

/* GET /v1/subscriptions/{id}: OK with *out, GONE when Stripe does not
 * know it. */
enum pur_call pur_stripe_subscription_get(const struct pur_stripe *s, const char *sub,
    struct pur_stripe_sub *out, struct pur_call_info *info);

/* GET /v1/subscriptions/search?query=metadata['purchase_id']:'<id>'. OK with
 * *found set. */
enum pur_call pur_stripe_subscription_find(const struct pur_stripe *s, int64_t purchase_id,
    struct pur_stripe_sub *out, int *found, struct pur_call_info *info);

/* DELETE /v1/subscriptions/{id}: OK when it has ended -- canceled now, or
 * ended before (canceled, incomplete_expired: a refused DELETE is checked
 * with a GET); GONE when Stripe does not know it (nothing to cancel). */
enum pur_call pur_stripe_subscription_cancel(const struct pur_stripe *s, const char *sub,
    struct pur_call_info *info);

/* POST /v1/subscriptions/{id} cancel_at_period_end=true|false: the release
 * at the end of the period scheduled, or undone. OK with the subscription
 * as it is now. */
enum pur_call pur_stripe_subscription_set_cancel(const struct pur_stripe *s, const char *sub,
    int cancel, struct pur_stripe_sub *out, struct pur_call_info *info);

/* POST /v1/subscriptions/{id} with the customer's new default: a
 * PaymentMethod as default_payment_method, or a card/source as
 * default_source with default_payment_method cleared (it would win). */
enum pur_call pur_stripe_subscription_set_payment(const struct pur_stripe *s, const char *sub,
    const char *payment_method, struct pur_stripe_sub *out, struct pur_call_info *info);

/* GET /v1/events?limit=100[&ending_before=ID|&starting_after=ID]: one page
 * (newest first). With ending_before, the page just newer than that event;
 * with neither, the newest. */
enum pur_call pur_stripe_event_list(const struct pur_stripe *s, const char *ending_before,
    const char *starting_after, struct pur_stripe_event_page *out, struct pur_call_info *info);

/* POST /v1/invoices/{id}/pay with Idempotency-Key purchase-<nonce>-pay:
 * OK (paid), DECLINED, or as above. */
enum pur_call pur_stripe_invoice_pay(const struct pur_stripe *s,
    const struct pur_stripe_ref *ref, const char *invoice, struct pur_stripe_invoice *out,
    struct pur_call_info *info);

/* POST /v1/invoices/{id}/void: makes an invoice unpayable for ever, the one
 * decision that settles whether money can still move (DESIGN §3). OK with
 * out->status "void" (voided now or before), or -- the void refused --
 * whatever the invoice is now (a GET): "paid" means the payment won and
 * the purchase goes forward. GONE for an unknown invoice; RETRY/UNKNOWN
 * when it could not be told. */
enum pur_call pur_stripe_invoice_void(const struct pur_stripe *s, const char *invoice,
    struct pur_stripe_invoice *out, struct pur_call_info *info);

/* GET /v1/subscriptions?status=all&limit=100&expand[]=data.latest_invoice
 * [&starting_after=ID]: one page, for reconciliation. */
enum pur_call pur_stripe_subscription_list(const struct pur_stripe *s, const char *after,
    struct pur_stripe_sub_page *out, struct pur_call_info *info);

/* GET /v1/invoices/{id}. */
enum pur_call pur_stripe_invoice_get(const struct pur_stripe *s, const char *invoice,
    struct pur_stripe_invoice *out, struct pur_call_info *info);

#endif
