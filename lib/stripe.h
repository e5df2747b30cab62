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

struct pur_stripe_error {
	char type[48];            /* card_error, invalid_request_error, ... */
	char code[48];            /* card_declined, resource_missing, ... */
	char decline_code[48];
};

/* --- pure: building --- */
/* The form body of POST /v1/subscriptions for a purchase (DESIGN §3 step 3). */
int pur_stripe_build_subscription(struct pur_buf *b, const char *customer, const char *price,
    const char *payment_method, int64_t purchase_id);

/* --- pure: parsing; each returns 0, or -1 when the reply is malformed --- */
/* default_payment_method of invoice_settings (string, expanded object or
 * null: pm[0] is then '\0'). */
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

/* POST /v1/subscriptions with Idempotency-Key purchase-<id>-subscribe. */
enum pur_call pur_stripe_subscription_create(const struct pur_stripe *s, int64_t purchase_id,
    const char *customer, const char *price, const char *payment_method,
    struct pur_stripe_sub *out, struct pur_call_info *info);

/* GET /v1/subscriptions/search?query=metadata['purchase_id']:'<id>'. OK with
 * *found set. */
enum pur_call pur_stripe_subscription_find(const struct pur_stripe *s, int64_t purchase_id,
    struct pur_stripe_sub *out, int *found, struct pur_call_info *info);

/* DELETE /v1/subscriptions/{id}: OK when canceled now or before; GONE when
 * Stripe does not know it (nothing to cancel). */
enum pur_call pur_stripe_subscription_cancel(const struct pur_stripe *s, const char *sub,
    struct pur_call_info *info);

/* POST /v1/subscriptions/{id} cancel_at_period_end=true. */
enum pur_call pur_stripe_subscription_release(const struct pur_stripe *s, const char *sub,
    struct pur_stripe_sub *out, struct pur_call_info *info);

/* POST /v1/invoices/{id}/pay with Idempotency-Key purchase-<id>-pay:
 * OK (paid), DECLINED, or as above. */
enum pur_call pur_stripe_invoice_pay(const struct pur_stripe *s, int64_t purchase_id,
    const char *invoice, struct pur_stripe_invoice *out, struct pur_call_info *info);

/* GET /v1/subscriptions?status=all&limit=100&expand[]=data.latest_invoice
 * [&starting_after=ID]: one page, for reconciliation. */
enum pur_call pur_stripe_subscription_list(const struct pur_stripe *s, const char *after,
    struct pur_stripe_sub_page *out, struct pur_call_info *info);

/* GET /v1/invoices/{id}. */
enum pur_call pur_stripe_invoice_get(const struct pur_stripe *s, const char *invoice,
    struct pur_stripe_invoice *out, struct pur_call_info *info);

#endif
