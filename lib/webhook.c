/*
 * webhook.c -- Stripe's webhooks (DESIGN §3a): verified, recorded once,
 * answered, then worked on -- and replayed from GET /v1/events when they
 * were lost.
 *
 * Webhooks are triggers, not truth. The signature is checked on the raw
 * body (stripe.c: every v1 against every configured secret, 300 s either
 * way, constant time); the event id is recorded durably before the 200 (a
 * second delivery finds it and does nothing); the work comes after the
 * answer (purchase_idle, or recovery): the subscription or customer the
 * event is about is fetched again and what Stripe says now is applied
 * (release.c). Order and repetition of deliveries then do not matter.
 *
 *   invoice.paid, invoice.payment_succeeded, invoice.payment_failed,
 *   customer.subscription.updated, customer.subscription.deleted
 *       -> the number of that subscription synced (renewal, past_due,
 *          release scheduled or undone, ended -> released at the carrier)
 *   customer.updated
 *       -> the customer's default payment method set on every live number
 *          subscription of theirs (each purchase pinned its own, and Stripe
 *          retries a failed renewal with that one)
 *   anything else: recorded as done (200, ignored)
 */
#include "autoconfig.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "error.h"
#include "flow.h"
#include "store.h"
#include "stripe.h"

#define TOLERANCE 300     /* seconds a signature's timestamp may be off */
#define CUSTOMER_BATCH 256
#define RETRY_SECONDS 60  /* an event whose work failed is tried again after */
#define EVENT_LEASE 60

enum about { ABOUT_NOTHING, ABOUT_SUBSCRIPTION, ABOUT_CUSTOMER };

static enum about
about(const char *type)
{
	static const char *const subscription[] = {"invoice.paid", "invoice.payment_succeeded",
	    "invoice.payment_failed", "customer.subscription.updated",
	    "customer.subscription.deleted"};
	size_t i;

	for (i = 0; i < sizeof(subscription) / sizeof(subscription[0]); i++)
		if (strcmp(type, subscription[i]) == 0)
			return ABOUT_SUBSCRIPTION;
	return strcmp(type, "customer.updated") == 0 ? ABOUT_CUSTOMER : ABOUT_NOTHING;
}

/* What the store keeps of a parsed event. */
static void
event_of(const struct pur_stripe_event *e, struct pur_event *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->id, sizeof(out->id), "%s", e->id);
	snprintf(out->type, sizeof(out->type), "%s", e->type);
	snprintf(out->object_id, sizeof(out->object_id), "%s",
	    about(e->type) == ABOUT_CUSTOMER ? e->customer : e->subscription);
	out->created = e->created;
}

/* Records one event (from a webhook or from the list). *dup when seen. */
static enum purchase_err
record(struct purchase_ctx *ctx, const struct pur_stripe_event *e, int *dup)
{
	struct pur_event ev;
	enum about a = about(e->type);

	event_of(e, &ev);
	/* An event about nothing we can name is done as soon as recorded. */
	return pur_store_event_record(ctx->store, &ev, pur_now(),
	    a == ABOUT_NOTHING || ev.object_id[0] == '\0', dup);
}

enum purchase_err
purchase_webhook(struct purchase_ctx *ctx, const char *body, size_t len, const char *signature,
    struct purchase_detail *d)
{
	struct pur_stripe_event e;
	const char *secrets = ctx->cfg->stripe_webhook_secret;
	enum purchase_err err;
	int dup = 0;

	if ((err = pur_ctx_ready(ctx, d)) != PURCHASE_OK)
		return err;
	if (secrets == NULL || strspn(secrets, " ,\t") == strlen(secrets))
		return pur_error_set(d, PURCHASE_ESIGNATURE, "no stripe_webhook_secret configured");
	if (pur_stripe_signature_ok(signature, body, len, secrets, pur_now(), TOLERANCE) != 0)
		return pur_error_set(d, PURCHASE_ESIGNATURE, "signature %s",
		    signature == NULL ? "missing" : "does not verify");
	if (pur_stripe_parse_event(body, len, &e) != 0) {
		/* Signed by Stripe but not an event: no retry can help. */
		purchase_log(ctx, "webhook: a signed body that is not an event; ignored");
		return PURCHASE_OK;
	}
	if ((err = record(ctx, &e, &dup)) != PURCHASE_OK)
		return pur_error_set(d, err, "webhook %s could not be recorded", e.id);
	CRASH_POINT("after_record");
	purchase_log(ctx, "webhook %s %s%s", e.id, e.type, dup ? " (seen before)" : "");
	/* Worked on after the reply -- also a duplicate whose work is still to
	 * do (Stripe's retry after the recording process died). */
	if (dup != 1 && about(e.type) != ABOUT_NOTHING)
		ctx->events_pending = 1;
	return PURCHASE_OK;
}

/* customer.updated: the customer's default payment method now, set on each
 * of their live number subscriptions that does not have it. */
static enum purchase_err
customer_updated(struct purchase_ctx *ctx, const char *customer, struct purchase_detail *d)
{
	int64_t ids[CUSTOMER_BATCH];
	struct pur_stripe_sub sub;
	struct pur_call_info info;
	struct pur_purchase p;
	struct pur_number n;
	enum purchase_err err, last = PURCHASE_OK;
	enum pur_call rc;
	char pm[PUR_STRIPE_ID];
	size_t k, i;

	rc = pur_stripe_customer_get(&ctx->stripe, customer, pm, &info);
	purchase_log(ctx, "customer %s: stripe customer: %s status=%ld", customer, pur_call_name(rc),
	    info.status);
	if (rc == PUR_CALL_GONE)
		return PURCHASE_OK; /* no such customer: nothing of ours to change */
	if (rc != PUR_CALL_OK)
		return pur_error_set(d, PURCHASE_EPROVIDER, "customer %s: %s", customer,
		    pur_call_name(rc));
	if (pm[0] == '\0')
		return PURCHASE_OK; /* no default any more: Stripe keeps each pinned one */
	if ((err = pur_store_numbers_of_customer(ctx->store, customer, ids, CUSTOMER_BATCH, &k)) !=
	    PURCHASE_OK)
		return err;
	for (i = 0; i < k; i++) {
		err = pur_store_number_take(ctx->store, ids[i], pur_now(), pur_lease_end(ctx), &p, &n);
		if (err == PURCHASE_ENOT_FOUND)
			continue; /* releasing or released: no more charges */
		if (err != PURCHASE_OK) {
			last = err == PURCHASE_EIDEM_BUSY ? PURCHASE_EBUSY : err;
			continue;
		}
		if (strcmp(p.payment_method, pm) != 0) {
			rc = pur_stripe_subscription_set_payment(&ctx->stripe, n.subscription_id, pm, &sub,
			    &info);
			pur_log_call(ctx, &p, "stripe set payment method", rc, &info);
			if (rc == PUR_CALL_OK)
				snprintf(p.payment_method, sizeof(p.payment_method), "%s", pm);
			else
				last = PURCHASE_EPROVIDER;
		}
		(void)pur_store_number_save(ctx->store, &p, &n, pur_now(), 0, 0);
	}
	return last;
}

/* An event about a subscription: the subscription fetched again, its
 * purchase named by its metadata (purchase_id, and the nonce that makes it
 * this database's), and the number synced with what Stripe says now. */
static enum purchase_err
subscription_event(struct purchase_ctx *ctx, const char *sub_id, struct purchase_detail *d)
{
	struct pur_stripe_sub sub;
	struct pur_call_info info;
	struct pur_purchase p;
	enum purchase_err err;
	enum pur_call rc;
	char *end;
	long long pid;

	rc = pur_stripe_subscription_get(&ctx->stripe, sub_id, &sub, &info);
	purchase_log(ctx, "subscription %s: stripe subscription: %s status=%ld", sub_id,
	    pur_call_name(rc), info.status);
	if (rc == PUR_CALL_GONE)
		return PURCHASE_OK; /* not one Stripe knows: nothing of ours */
	if (rc != PUR_CALL_OK)
		return pur_error_set(d, PURCHASE_EPROVIDER, "subscription %s: %s", sub_id,
		    pur_call_name(rc));
	pid = strtoll(sub.purchase_id, &end, 10);
	if (sub.purchase_id[0] == '\0' || *end != '\0' || pid <= 0)
		return PURCHASE_OK; /* not made by us */
	err = pur_store_purchase_get(ctx->store, pid, &p);
	if (err == PURCHASE_ENOT_FOUND)
		return PURCHASE_OK;
	if (err != PURCHASE_OK)
		return err;
	/* Another database's purchase of that id, or not its subscription (a
	 * purchase under way knows its own: the flow handles it). */
	if (strcmp(p.subscription_id, sub.id) != 0 ||
	    (sub.purchase_nonce[0] != '\0' && strcmp(sub.purchase_nonce, p.nonce) != 0))
		return PURCHASE_OK;
	return pur_number_sync(ctx, p.id, &sub, d);
}

static enum purchase_err
work_on(struct purchase_ctx *ctx, const struct pur_event *e, struct purchase_detail *d)
{
	switch (about(e->type)) {
	case ABOUT_SUBSCRIPTION:
		return subscription_event(ctx, e->object_id, d);
	case ABOUT_CUSTOMER:
		return customer_updated(ctx, e->object_id, d);
	case ABOUT_NOTHING:
		break;
	}
	return PURCHASE_OK;
}

enum purchase_err
pur_webhook_work(struct purchase_ctx *ctx, int max, int *ndone, int *nleft,
    struct purchase_detail *d)
{
	struct pur_event e;
	enum purchase_err err;
	int i;

	for (i = 0; i < max; i++) {
		err = pur_store_event_take(ctx->store, pur_now(), pur_now() + EVENT_LEASE, &e);
		if (err == PURCHASE_ENOT_FOUND)
			return PURCHASE_OK;
		if (err != PURCHASE_OK)
			return err;
		err = work_on(ctx, &e, d);
		CRASH_POINT("after_event_work");
		if (err == PURCHASE_OK) {
			(void)pur_store_event_done(ctx->store, e.id, pur_now());
			(*ndone)++;
		} else {
			purchase_log(ctx, "webhook %s %s: left for later: %s", e.id, e.type,
			    purchase_strerror(err));
			(void)pur_store_event_again(ctx->store, e.id, pur_now() + RETRY_SECONDS);
			(*nleft)++;
			if (err == PURCHASE_EDB || err == PURCHASE_ENOMEM)
				return err;
		}
	}
	return PURCHASE_OK;
}

/*
 * GET /v1/events lists newest first. From the newest event we have, the
 * pages just newer are walked with ending_before = the newest of each page;
 * with none, everything Stripe still keeps (30 days) from the newest back,
 * with starting_after = the oldest of each page.
 */
#define REPLAY_PAGES 10000

enum purchase_err
purchase_webhooks_replay(struct purchase_ctx *ctx, int *recorded, struct purchase_detail *d)
{
	struct pur_stripe_event_page page;
	struct pur_call_info info;
	enum purchase_err err;
	enum pur_call rc;
	char newest[PUR_ID_MAX], cursor[PUR_STRIPE_ID] = "";
	int forward, pages, dup, done = 0, left = 0;
	size_t i;

	*recorded = 0;
	if ((err = pur_ctx_ready(ctx, d)) != PURCHASE_OK)
		return err;
	err = pur_store_event_newest(ctx->store, newest);
	if (err != PURCHASE_OK && err != PURCHASE_ENOT_FOUND)
		return err;
	forward = err == PURCHASE_OK;
	if (forward)
		snprintf(cursor, sizeof(cursor), "%s", newest);
	for (pages = 0; pages < REPLAY_PAGES; pages++) {
		rc = pur_stripe_event_list(&ctx->stripe, forward ? cursor : NULL,
		    !forward && cursor[0] ? cursor : NULL, &page, &info);
		if (rc != PUR_CALL_OK)
			return pur_error_set(d, PURCHASE_EPROVIDER, "stripe events: %s status=%ld",
			    pur_call_name(rc), info.status);
		for (i = 0; i < page.n; i++) {
			if ((err = record(ctx, &page.v[i], &dup)) != PURCHASE_OK) {
				pur_stripe_event_page_free(&page);
				return err;
			}
			*recorded += dup == 0;
		}
		if (page.n > 0) {
			const char *next = forward ? page.v[0].id : page.v[page.n - 1].id;
			if (strcmp(next, cursor) == 0) {
				pur_stripe_event_page_free(&page);
				return pur_error_set(d, PURCHASE_EPROVIDER, "stripe events: a cursor again");
			}
			snprintf(cursor, sizeof(cursor), "%s", next);
		}
		if (!page.has_more || page.n == 0) {
			pur_stripe_event_page_free(&page);
			break;
		}
		pur_stripe_event_page_free(&page);
	}
	/* Their work, as after a webhook. */
	do {
		int before = done + left;
		if ((err = pur_webhook_work(ctx, 64, &done, &left, d)) != PURCHASE_OK)
			return err;
		if (done + left == before)
			break;
	} while (1);
	if (left > 0)
		return pur_error_set(d, PURCHASE_EPROVIDER, "%d events left for later", left);
	return PURCHASE_OK;
}
