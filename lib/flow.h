/*
 * flow.h -- what the purchase flow (purchase.c), the number's life after it
 * (release.c) and the webhooks (webhook.c) offer one another. One machine
 * drives all of them: a number's release is its purchase's last states
 * (complete -> releasing -> released), under the same lease and fencing
 * token, driven by the same drive() and recovered by the same recovery.
 */
#ifndef PUR_FLOW_H
#define PUR_FLOW_H

#include "ctx.h"
#include "store.h"
#include "stripe.h"

/* What a step came to. */
enum step {
	STEP_DONE,    /* advanced to the machine's next state */
	STEP_REFUSED, /* definitively refused: go back, answering p->outcome */
	STEP_PAID,    /* (the way back) the invoice was paid after all: go forward */
	STEP_UNKNOWN, /* could not find out now: leave it for later */
};

/*
 * Crash points (--enable-fault-injection only): the process dies at the
 * named point when PURCHASE_CRASH_AT names it, to prove that recovery
 * finishes what was left. Compiled out otherwise.
 */
#ifdef PURCHASE_FAULT_INJECTION
void pur_crash_point(const char *name);
#define CRASH_POINT(name) pur_crash_point(name)
#else
#define CRASH_POINT(name) ((void)0)
#endif

/* --- purchase.c --- */

/* Drives p, whose lease this process holds, as recovery does (nobody
 * waiting) as far as it can go now; *at_rest (optional) tells whether it
 * needs no more work. EPROVIDER when left for later, ELEASE, storage
 * errors. */
enum purchase_err pur_drive(struct purchase_ctx *ctx, struct pur_purchase *p, int *at_rest,
    struct purchase_detail *detail);
/* The end of a lease taken now. */
int64_t pur_lease_end(struct purchase_ctx *ctx);
/* Whether this worker may still send a request that changes something:
 * while its lease outlasts the request (extended when it is short and
 * still ours). */
int pur_lease_holds(struct purchase_ctx *ctx, struct pur_purchase *p);
/* The log line of one provider call of a purchase. */
void pur_log_call(struct purchase_ctx *ctx, const struct pur_purchase *p, const char *what,
    enum pur_call rc, const struct pur_call_info *info);

/* --- release.c --- */

/* releasing -> released: the number given back to the carrier (Twilio
 * DELETE; a number already gone counts as given back). */
enum step pur_release_step(struct purchase_ctx *ctx, struct pur_purchase *p);

/* Brings the number of a delivered purchase in step with its Stripe
 * subscription -- known (just answered by Stripe) or, when NULL, fetched
 * now: status (active, past_due, release_scheduled), period end, the flag;
 * a subscription that has ended, or a scheduled release within
 * release_margin_seconds of the period's end, starts the release at the
 * carrier, driven at once. Never moves a released number. OK (done, or
 * nothing to do); EBUSY while another worker holds it; EPROVIDER when
 * Stripe could not be asked, or the release at the carrier is left for
 * later. */
enum purchase_err pur_number_sync(struct purchase_ctx *ctx, int64_t purchase_id,
    const struct pur_stripe_sub *known, struct purchase_detail *detail);

/* Recovery's part of the numbers' lives: every number whose scheduled
 * release is coming due or whose period has ended is synced. */
enum purchase_err pur_release_recover(struct purchase_ctx *ctx, int *done, int *left,
    struct purchase_detail *detail);

/* --- webhook.c --- */

/* Works on at most max recorded events whose work is not done (oldest
 * first): each triggers a sync of what it is about. */
enum purchase_err pur_webhook_work(struct purchase_ctx *ctx, int max, int *done, int *left,
    struct purchase_detail *detail);

#endif
