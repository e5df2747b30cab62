/*
 * release.c -- the number's life after the purchase (DESIGN §3a): its status
 * kept in step with its Stripe subscription, the release at the end of the
 * billing period (scheduled, restored), and the release at the carrier.
 *
 *   active <-> past_due          (Stripe's status; invoice.paid / payment_failed)
 *   active|past_due <-> release_scheduled   (cancel_at_period_end: DELETE, restore)
 *   -> released                  (the subscription ended, or the scheduled
 *                                 release came due: Twilio DELETE)
 *
 * Stripe is the truth: every change here is Stripe's answer applied
 * (apply()), whether it comes from our own request (DELETE, restore), a
 * webhook (only a trigger: the subscription is fetched again) or recovery
 * (periods that ended without a word). So late, repeated and out-of-order
 * events cannot move a number backwards, and a released number never moves
 * again. The release at the carrier is the purchase machine's last step
 * (complete -> releasing -> released), under the purchase's lease and
 * fencing token, driven and recovered as the purchase is -- no later than
 * release_margin_seconds before the period ends, because Twilio bills the
 * next month up front on the provisioning anniversary, without proration.
 */
#include "autoconfig.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ctx.h"
#include "error.h"
#include "flow.h"
#include "numbers.h"
#include "store.h"
#include "stripe.h"
#include "twilio.h"

#define DUE_BATCH 64

/* Why a number is released (numbers.release_reason). */
#define REASON_SCHEDULED "released"      /* by the customer or operator, at period end */
#define REASON_CANCELED "canceled"       /* its subscription was canceled at Stripe */
#define REASON_UNPAID "unpaid"           /* Stripe gave up collecting */

/*
 * What Stripe's subscription makes of the number (p: its purchase, leased):
 * the subscription has ended (canceled, incomplete_expired) or will never
 * be paid (unpaid) -> the release starts; else the status (past_due as
 * Stripe says, release_scheduled while cancel_at_period_end), the period's
 * end and the flag -- and a scheduled release within the margin of the
 * period's end starts the release too.
 */
static void
apply(struct purchase_ctx *ctx, struct pur_purchase *p, struct pur_number *n,
    const struct pur_stripe_sub *sub)
{
	int64_t now = pur_now();

	if (pur_stripe_sub_ended(sub->status) || strcmp(sub->status, "unpaid") == 0) {
		p->state = PUR_RELEASING;
		snprintf(n->release_reason, sizeof(n->release_reason), "%s",
		    strcmp(sub->status, "unpaid") == 0 ? REASON_UNPAID :
		    n->cancel_at_period_end || sub->cancel_at_period_end ? REASON_SCHEDULED :
		                                                          REASON_CANCELED);
		return;
	}
	n->cancel_at_period_end = sub->cancel_at_period_end;
	if (sub->current_period_end > 0)
		n->period_end = sub->current_period_end;
	snprintf(n->status, sizeof(n->status), "%s",
	    n->cancel_at_period_end ? "release_scheduled" :
	    strcmp(sub->status, "past_due") == 0 ? "past_due" : "active");
	if (n->cancel_at_period_end && n->period_end > 0 &&
	    now >= n->period_end - ctx->cfg->release_margin_seconds) {
		p->state = PUR_RELEASING;
		snprintf(n->release_reason, sizeof(n->release_reason), REASON_SCHEDULED);
	}
}

/* Writes what apply() made (synced when a client is told), lets go of the
 * lease unless the release starts, and drives that release now. */
static enum purchase_err
store_and_go(struct purchase_ctx *ctx, struct pur_purchase *p, const struct pur_number *n,
    int durable, struct purchase_detail *d)
{
	int releasing = p->state == PUR_RELEASING;
	int64_t until = releasing ? pur_lease_end(ctx) : 0;
	enum purchase_err err;

	err = pur_store_number_save(ctx->store, p, n, pur_now(), until, durable || releasing);
	if (err != PURCHASE_OK)
		return pur_error_set(d, err, "number %" PRId64 ": save", n->id);
	p->lease_until = until;
	if (!releasing)
		return PURCHASE_OK;
	purchase_log(ctx, "purchase=%" PRId64 " number %s: releasing (%s)", p->id, n->phone_number,
	    n->release_reason);
	/* EPROVIDER: left for recovery (the carrier did not answer); what
	 * Stripe said is recorded either way. */
	return pur_drive(ctx, p, NULL, d);
}

/* Lets go of a lease taken for nothing (Stripe could not be asked). */
static void
let_go(struct purchase_ctx *ctx, struct pur_purchase *p, const struct pur_number *n)
{
	(void)pur_store_number_save(ctx->store, p, n, pur_now(), 0, 0);
}

enum purchase_err
pur_number_sync(struct purchase_ctx *ctx, int64_t purchase_id, const struct pur_stripe_sub *known,
    struct purchase_detail *d)
{
	struct pur_stripe_sub sub;
	struct pur_call_info info;
	struct pur_purchase p;
	struct pur_number n;
	enum purchase_err err;
	enum pur_call rc;

	err = pur_store_number_take(ctx->store, purchase_id, pur_now(), pur_lease_end(ctx), &p, &n);
	if (err == PURCHASE_ENOT_FOUND)
		return PURCHASE_OK; /* releasing (the machine's), released, or not delivered */
	if (err == PURCHASE_EIDEM_BUSY)
		return PURCHASE_EBUSY;
	if (err != PURCHASE_OK)
		return err;
	if (known == NULL) {
		rc = pur_stripe_subscription_get(&ctx->stripe, n.subscription_id, &sub, &info);
		pur_log_call(ctx, &p, "stripe subscription", rc, &info);
		if (rc != PUR_CALL_OK) {
			let_go(ctx, &p, &n);
			/* GONE: Stripe has no such subscription -- never ours to
			 * decide from: an operator must look (reconcile says). */
			return pur_error_set(d, PURCHASE_EPROVIDER, "subscription %s: %s",
			    n.subscription_id, pur_call_name(rc));
		}
		known = &sub;
	}
	apply(ctx, &p, &n, known);
	return store_and_go(ctx, &p, &n, 0, d);
}

enum step
pur_release_step(struct purchase_ctx *ctx, struct pur_purchase *p)
{
	struct pur_call_info info;
	enum pur_call rc;

	if (p->number_sid[0] == '\0')
		return STEP_DONE; /* (never bought: nothing to give back) */
	if (!pur_lease_holds(ctx, p))
		return STEP_UNKNOWN;
	CRASH_POINT("before_release_number");
	rc = pur_twilio_release(&ctx->twilio, p->number_sid, &info);
	pur_log_call(ctx, p, "twilio release", rc, &info);
	CRASH_POINT("after_release_number");
	/* 404 is "no longer ours": released before, which is done. */
	return rc == PUR_CALL_OK ? STEP_DONE : STEP_UNKNOWN;
}

enum purchase_err
pur_release_recover(struct purchase_ctx *ctx, int *ndone, int *nleft, struct purchase_detail *d)
{
	int64_t ids[DUE_BATCH];
	enum purchase_err err;
	size_t n, i;

	err = pur_store_numbers_due(ctx->store, pur_now(), ctx->cfg->release_margin_seconds, ids,
	    DUE_BATCH, &n);
	if (err != PURCHASE_OK)
		return err;
	for (i = 0; i < n; i++) {
		err = pur_number_sync(ctx, ids[i], NULL, d);
		if (err == PURCHASE_OK)
			(*ndone)++;
		else if (err == PURCHASE_EDB || err == PURCHASE_ENOMEM)
			return err;
		else
			(*nleft)++;
	}
	return PURCHASE_OK;
}

/* --- DELETE and restore ------------------------------------------------- */

/* The lease of a number of the account, and the number: ENOT_FOUND for
 * another account's; ERELEASED when its release is under way or done;
 * EBUSY while another worker holds it. */
static enum purchase_err
take(struct purchase_ctx *ctx, int64_t account_id, int64_t id, struct pur_purchase *p,
    struct pur_number *n)
{
	enum purchase_err err;

	if ((err = pur_store_number_get(ctx->store, account_id, id, n)) != PURCHASE_OK)
		return err;
	if (strcmp(n->status, "released") == 0)
		return PURCHASE_ERELEASED;
	err = pur_store_number_take(ctx->store, n->purchase_id, pur_now(), pur_lease_end(ctx), p, n);
	if (err == PURCHASE_ENOT_FOUND)
		return PURCHASE_ERELEASED; /* releasing */
	return err == PURCHASE_EIDEM_BUSY ? PURCHASE_EBUSY : err;
}

/*
 * Schedules (cancel = 1) or undoes (0) the release at the period's end:
 * Stripe told first, then its answer applied and stored (synced: the
 * client is told). Errors as the public functions below say.
 */
static enum purchase_err
set_cancel(struct purchase_ctx *ctx, int64_t account_id, int64_t id, int cancel,
    struct pur_number *out, struct purchase_detail *d)
{
	struct pur_stripe_sub sub;
	struct pur_call_info info;
	struct pur_purchase p;
	struct pur_number n;
	enum purchase_err err;
	enum pur_call rc;

	err = take(ctx, account_id, id, &p, &n);
	if (err == PURCHASE_ERELEASED && cancel)
		err = PURCHASE_ERELEASE_PENDING; /* DESIGN: "also when already released" */
	if (err != PURCHASE_OK)
		return err;
	if (cancel ? n.cancel_at_period_end : !n.cancel_at_period_end) {
		let_go(ctx, &p, &n);
		return cancel ? PURCHASE_ERELEASE_PENDING : PURCHASE_ENOT_SCHEDULED;
	}
	rc = pur_stripe_subscription_set_cancel(&ctx->stripe, n.subscription_id, cancel, &sub, &info);
	pur_log_call(ctx, &p, cancel ? "stripe cancel at period end" : "stripe restore", rc, &info);
	CRASH_POINT(cancel ? "after_schedule" : "after_restore");
	if (rc != PUR_CALL_OK) {
		/* Nothing changed here; if Stripe did it after all, its answer
		 * comes back as a webhook, or to recovery, and is applied. */
		let_go(ctx, &p, &n);
		return pur_error_set(d, cancel ? PURCHASE_ERELEASE : PURCHASE_ERESTORE,
		    "subscription %s: %s", n.subscription_id, pur_call_name(rc));
	}
	apply(ctx, &p, &n, &sub);
	/* Scheduled (or undone): the release at the carrier, if it is due at
	 * once, may be left for recovery -- that is not this request's. */
	if ((err = store_and_go(ctx, &p, &n, 1, d)) != PURCHASE_OK && err != PURCHASE_EPROVIDER)
		return err;
	if (out != NULL)
		return pur_store_number_get(ctx->store, account_id, id, out);
	return PURCHASE_OK;
}

enum purchase_err
purchase_number_release(struct purchase_ctx *ctx, int64_t account_id, const char *id,
    struct purchase_detail *d)
{
	enum purchase_err err;
	int64_t n;

	if ((err = pur_ctx_ready(ctx, d)) != PURCHASE_OK)
		return err;
	if ((n = pur_number_id(id)) == 0)
		return PURCHASE_ENOT_FOUND;
	return set_cancel(ctx, account_id, n, 1, NULL, d);
}

enum purchase_err
purchase_number_release_any(struct purchase_ctx *ctx, int64_t number_id,
    struct purchase_detail *d)
{
	enum purchase_err err;

	if ((err = pur_ctx_ready(ctx, d)) != PURCHASE_OK)
		return err;
	return set_cancel(ctx, 0, number_id, 1, NULL, d);
}

enum purchase_err
purchase_number_restore(struct purchase_ctx *ctx, int64_t account_id, const char *id,
    struct purchase_number *out, struct purchase_detail *d)
{
	struct pur_number n;
	enum purchase_err err;
	int64_t k;

	if ((err = pur_ctx_ready(ctx, d)) != PURCHASE_OK)
		return err;
	if ((k = pur_number_id(id)) == 0)
		return PURCHASE_ENOT_FOUND;
	if ((err = set_cancel(ctx, account_id, k, 0, &n, d)) != PURCHASE_OK)
		return err;
	pur_number_public(&n, out);
	return PURCHASE_OK;
}
