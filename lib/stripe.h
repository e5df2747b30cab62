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
};

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

/* POST /v1/subscriptions/{id} cancel_at_period_end=true. */
enum pur_call pur_stripe_subscription_release(const struct pur_stripe *s, const char *sub,
    struct pur_stripe_sub *out, struct pur_call_info *info);

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
