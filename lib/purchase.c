/*
 * purchase.c -- the purchase, top to bottom (DESIGN §3):
 *
 *   check -> claim -> subscribe -> provision -> pay -> finish
 *
 * and, when a step is refused, the way back: void the invoice (so that no
 * payment can land any more), then undo what was done (release the number,
 * cancel the subscription). This file does no I/O of its own: Stripe and
 * Twilio calls are in stripe.c and twilio.c, SQL in store.c.
 *
 * The states are an enum (store.h) and the steps between them one table,
 * `machine` below: for each state, the step that moves it forward (the
 * client's request, or its retry) and the one recovery takes, with nobody
 * waiting (backward: deliver only what is paid). drive() runs the table.
 * Every step's result is committed before the next provider call, under a
 * lease fenced by a token, so a purchase interrupted anywhere is resumed by
 * drive() -- from the request, from a retry with the same Idempotency-Key,
 * or from purchase_recover() -- knowing exactly which steps happened.
 *
 * Money moves last: the subscription is created incomplete (no charge), the
 * number is bought, and only then is the invoice paid. So a refusal before
 * payment leaves nothing to refund, only a subscription to cancel and maybe
 * a number to release. And nothing is undone while money can still move:
 * a payment sent by a worker that died (or timed out) may land at Stripe
 * after recovery looked, so the way back starts by voiding the invoice --
 * the one decision Stripe makes atomically. A void refused because the
 * invoice is paid sends the purchase forward instead.
 *
 * Twilio has no such decision: a buy in flight cannot be cancelled. What
 * bounds it is time (p->settle_at): a worker sends nothing once less than
 * one provider timeout of its lease is left, a provider acts on a request
 * within a settle time of receiving it or never, and a number is concluded
 * "not bought" only from a lookup made after every buy that may have been
 * sent has had that long to land.
 */
#include "autoconfig.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "ctx.h"
#include "e164.h"
#include "error.h"
#include "flow.h"
#include "json.h"
#include "sha256.h"
#include "store.h"
#include "stripe.h"
#include "twilio.h"

#define MAX_ATTEMPTS 2   /* per provider call within one pass */
#define RECOVER_BATCH 64

#ifdef PURCHASE_FAULT_INJECTION
void
pur_crash_point(const char *name)
{
	const char *at = getenv("PURCHASE_CRASH_AT");

	if (name != NULL && at != NULL && strcmp(at, name) == 0)
		raise(SIGKILL);
}
#endif

/* Who is driving a purchase. */
enum mode {
	FORWARD,  /* the client's request (or its retry): complete it if possible */
	BACKWARD, /* recovery, nobody waiting: complete only what is paid */
};

static const struct pur_field purchase_fields[] = {
	{"phone_number", PUR_FIELD_STRING, 1},
};

int64_t
pur_lease_end(struct purchase_ctx *ctx)
{
	return pur_now() + ctx->cfg->lease_seconds;
}

#define lease_end pur_lease_end

/* How long a provider may still act on a request after it was sent: two
 * of our timeouts (what we waited, and as long again). */
static int64_t
settle_seconds(struct purchase_ctx *ctx)
{
	return (2 * ctx->cfg->provider_timeout_ms + 999) / 1000;
}

/* Whether this worker may still send a request that changes something:
 * only while its lease outlasts the request (a timeout and a second of
 * margin), so that everything it sends is sent before recovery may take
 * the purchase over. */
int
pur_lease_holds(struct purchase_ctx *ctx, struct pur_purchase *p)
{
	int64_t need = (ctx->cfg->provider_timeout_ms + 999) / 1000 + 1, until;

	if (p->lease_until - pur_now() > need)
		return 1;
	/* Short: extended (nothing is written on the way otherwise, and a
	 * slow purchase would run out of it), when it is still ours. */
	until = lease_end(ctx);
	if (p->lease_until > pur_now() &&
	    pur_store_purchase_save(ctx->store, p, pur_now(), until, NULL, 0) == PURCHASE_OK) {
		p->lease_until = until;
		return 1;
	}
	purchase_log(ctx, "purchase=%" PRId64 " lease ends in %" PRId64 " s: left for recovery",
	    p->id, p->lease_until - pur_now());
	return 0;
}

#define lease_holds pur_lease_holds

static struct pur_stripe_ref
ref_of(const struct pur_purchase *p)
{
	struct pur_stripe_ref r = {p->id, p->nonce};
	return r;
}

void
pur_log_call(struct purchase_ctx *ctx, const struct pur_purchase *p, const char *what,
    enum pur_call rc, const struct pur_call_info *info)
{
	if (rc == PUR_CALL_OK)
		pur_log_ok(ctx, "purchase=%" PRId64 " %s %ld %ldms", p->id, what, info->status,
		    info->elapsed_ms);
	else
		purchase_log(ctx, "purchase=%" PRId64 " %s: %s status=%ld code=%s ms=%ld", p->id,
		    what, pur_call_name(rc), info->status, info->code[0] ? info->code : "-",
		    info->elapsed_ms);
}

#define log_call pur_log_call

/* Leaves p for recovery or the client's retry: saved with the lease given
 * up, so that either can take it at once. */
static void
leave(struct purchase_ctx *ctx, struct pur_purchase *p)
{
	(void)pur_store_purchase_save(ctx->store, p, pur_now(), 0, NULL, 0);
	p->lease_until = 0;
}

/* The answer a refused purchase gives. */
static enum purchase_err
outcome_err(enum pur_outcome outcome)
{
	switch (outcome) {
	case PUR_OUT_NOT_AVAILABLE: return PURCHASE_ENOT_AVAILABLE;
	case PUR_OUT_DECLINED: return PURCHASE_EDECLINED;
	case PUR_OUT_NO_PAYMENT_METHOD: return PURCHASE_ENO_PAYMENT_METHOD;
	default: return PURCHASE_EPROVIDER;
	}
}

static void
number_of(const struct pur_purchase *p, struct purchase_number *n)
{
	memset(n, 0, sizeof(*n));
	memcpy(n->phone_number, p->phone_number, sizeof(n->phone_number));
	memcpy(n->country_code, p->country_code, sizeof(n->country_code));
	/* The API calls a local number "normal" (Sondos/Autocalls). */
	snprintf(n->type, sizeof(n->type), "%s", strcmp(p->type, "local") == 0 ? "normal" : p->type);
	n->sms_capable = p->sms_capable;
	memcpy(n->region, p->region, sizeof(n->region));
	snprintf(n->status, sizeof(n->status), "active");
	n->price_cents = p->price_cents;
	n->period_end = p->period_end;
}

/* --- forward steps ---------------------------------------------------- */

/* The customer's default payment method into p->payment_method: OK, GONE
 * when there is none (or no such customer), else why it is not known. */
static enum pur_call
payment_method(struct purchase_ctx *ctx, struct pur_purchase *p)
{
	struct pur_call_info info;
	enum pur_call rc = PUR_CALL_UNKNOWN;
	char pm[PUR_STRIPE_ID];
	int i;

	for (i = 0; i < MAX_ATTEMPTS; i++) {
		rc = pur_stripe_customer_get(&ctx->stripe, p->stripe_customer, pm, &info);
		log_call(ctx, p, "stripe customer", rc, &info);
		if (rc != PUR_CALL_RETRY && rc != PUR_CALL_UNKNOWN)
			break;
	}
	if (rc == PUR_CALL_OK && pm[0] == '\0')
		rc = PUR_CALL_GONE;
	if (rc == PUR_CALL_OK)
		snprintf(p->payment_method, sizeof(p->payment_method), "%s", pm);
	return rc;
}

/* POST /v1/subscriptions under the purchase's Idempotency-Key: the first
 * call makes it (incomplete, nothing charged), every later one -- a retry,
 * a resumed purchase, a compensation -- returns that same subscription. */
static enum pur_call
create_subscription(struct purchase_ctx *ctx, struct pur_purchase *p, const char *why)
{
	struct pur_stripe_ref ref = ref_of(p);
	struct pur_stripe_sub sub;
	struct pur_call_info info;
	enum pur_call rc = PUR_CALL_UNKNOWN;
	int i;

	for (i = 0; i < MAX_ATTEMPTS; i++) {
		rc = pur_stripe_subscription_create(&ctx->stripe, &ref, p->stripe_customer,
		    p->stripe_price_id, p->payment_method, &sub, &info);
		log_call(ctx, p, why, rc, &info);
		if (rc != PUR_CALL_RETRY && rc != PUR_CALL_UNKNOWN)
			break;
	}
	if (rc == PUR_CALL_OK) {
		snprintf(p->subscription_id, sizeof(p->subscription_id), "%s", sub.id);
		snprintf(p->invoice_id, sizeof(p->invoice_id), "%s", sub.latest_invoice);
		p->period_end = sub.current_period_end;
	}
	return rc;
}

/* pending -> subscribed. */
static enum step
subscribe(struct purchase_ctx *ctx, struct pur_purchase *p)
{
	enum pur_call rc;

	/* Resumed before the payment method was recorded: look it up. */
	if (p->payment_method[0] == '\0') {
		rc = payment_method(ctx, p);
		if (rc == PUR_CALL_GONE) {
			p->outcome = PUR_OUT_NO_PAYMENT_METHOD;
			return STEP_REFUSED;
		}
		if (rc != PUR_CALL_OK)
			return rc == PUR_CALL_REJECTED ? STEP_REFUSED : STEP_UNKNOWN;
	}
	if (!lease_holds(ctx, p))
		return STEP_UNKNOWN;
	rc = create_subscription(ctx, p, "stripe subscribe");
	if (rc == PUR_CALL_OK)
		return STEP_DONE;
	if (rc == PUR_CALL_RETRY || rc == PUR_CALL_UNKNOWN)
		return STEP_UNKNOWN;
	/* Refused outright (bad customer, price or card): nothing was made. */
	p->outcome = rc == PUR_CALL_DECLINED ? PUR_OUT_DECLINED : PUR_OUT_PROVIDER;
	return STEP_REFUSED;
}

/* subscribed -> provisioned: buy the number at Twilio. Twilio has no
 * idempotency key, so whenever a buy's outcome is unknown -- a lost reply,
 * or a worker that died after buying -- the number is looked up before it
 * is bought again: "not available" for a number this account already holds
 * means our own earlier buy (one live purchase per number, so it is this
 * purchase's). A resumed purchase (lease token above 1) looks first. */
static enum step
provision(struct purchase_ctx *ctx, struct pur_purchase *p)
{
	struct pur_call_info info;
	enum pur_call rc = PUR_CALL_UNKNOWN;
	char sid[PUR_TWILIO_SID], tag[PUR_TWILIO_TAG_MAX + 1];
	int i, look = p->lease_token > 1; /* resumed: a buy may have happened */

	/* (a purchase made before schema 2 has no nonce: Twilio's default name) */
	if (pur_twilio_tag(tag, sizeof(tag), p->nonce, pur_now()) != 0)
		tag[0] = '\0';

	for (i = 0; i < MAX_ATTEMPTS + 1; i++) {
		if (look) {
			rc = pur_twilio_find(&ctx->twilio, p->phone_number, sid, &info);
			log_call(ctx, p, "twilio find", rc, &info);
			if (rc == PUR_CALL_OK)
				break;
			if (rc != PUR_CALL_GONE)
				continue; /* still cannot tell: look again */
			look = 0;
		}
		if (!lease_holds(ctx, p)) {
			rc = PUR_CALL_UNKNOWN;
			break;
		}
		CRASH_POINT("before_buy");
		rc = pur_twilio_buy(&ctx->twilio, p->phone_number, tag, sid, &info);
		log_call(ctx, p, "twilio buy", rc, &info);
		CRASH_POINT("after_buy");
		if (rc == PUR_CALL_UNKNOWN) {
			/* It may land later still: no lookup before then proves
			 * it was not bought. */
			if (p->settle_at < pur_now() + settle_seconds(ctx))
				p->settle_at = pur_now() + settle_seconds(ctx);
			look = 1;
		} else if (rc != PUR_CALL_RETRY) {
			break;
		}
	}
	if (look && rc != PUR_CALL_OK)
		rc = PUR_CALL_UNKNOWN;
	if (rc == PUR_CALL_OK) {
		snprintf(p->number_sid, sizeof(p->number_sid), "%s", sid);
		return STEP_DONE;
	}
	if (rc == PUR_CALL_GONE) {
		p->outcome = PUR_OUT_NOT_AVAILABLE;
		return STEP_REFUSED;
	}
	if (rc == PUR_CALL_REJECTED) {
		p->outcome = PUR_OUT_PROVIDER;
		return STEP_REFUSED;
	}
	return STEP_UNKNOWN;
}

/* provisioned -> paid: POST /v1/invoices/{id}/pay, the only step that moves
 * money, with its own Idempotency-Key. */
static enum step
pay(struct purchase_ctx *ctx, struct pur_purchase *p)
{
	struct pur_stripe_ref ref = ref_of(p);
	struct pur_stripe_invoice inv;
	struct pur_call_info info;
	enum pur_call rc = PUR_CALL_UNKNOWN;
	int i;

	for (i = 0; i < MAX_ATTEMPTS; i++) {
		if (!lease_holds(ctx, p))
			return STEP_UNKNOWN;
		CRASH_POINT("before_pay");
		rc = pur_stripe_invoice_pay(&ctx->stripe, &ref, p->invoice_id, &inv, &info);
		log_call(ctx, p, "stripe pay", rc, &info);
		CRASH_POINT("after_pay");
		if (rc != PUR_CALL_RETRY && rc != PUR_CALL_UNKNOWN)
			break;
	}
	if (rc == PUR_CALL_REJECTED || rc == PUR_CALL_GONE) {
		/* "Invoice is already paid" is a refusal that means success:
		 * ask the invoice itself. */
		rc = pur_stripe_invoice_get(&ctx->stripe, p->invoice_id, &inv, &info);
		log_call(ctx, p, "stripe invoice", rc, &info);
		if (rc == PUR_CALL_OK && !inv.paid)
			rc = strcmp(inv.status, "open") == 0 ? PUR_CALL_UNKNOWN : PUR_CALL_REJECTED;
	}
	if (rc == PUR_CALL_OK)
		return STEP_DONE;
	if (rc == PUR_CALL_DECLINED) {
		p->outcome = PUR_OUT_DECLINED;
		return STEP_REFUSED;
	}
	if (rc == PUR_CALL_REJECTED) {
		p->outcome = PUR_OUT_PROVIDER;
		return STEP_REFUSED;
	}
	return STEP_UNKNOWN;
}

/* Recovery, nobody waiting: whatever state an unfinished purchase was left
 * in, it goes back -- unless the way back finds it paid (settle). */
static enum step
refuse(struct purchase_ctx *ctx, struct pur_purchase *p)
{
	(void)ctx;
	if (p->outcome == PUR_OUT_NONE)
		p->outcome = PUR_OUT_PROVIDER;
	return STEP_REFUSED;
}

/* --- the way back ----------------------------------------------------- */

/* voiding -> compensating, or -> paid: settles whether money can still
 * move, before anything is undone. The subscription a claim may have made
 * is found first (the same Idempotency-Key returns it, or makes it,
 * incomplete and never charged, to be canceled), then its invoice is
 * voided: from then on no payment can land. A void refused because the
 * invoice is paid means a payment won the race: forward. */
static enum step
settle(struct purchase_ctx *ctx, struct pur_purchase *p)
{
	struct pur_stripe_invoice inv;
	struct pur_call_info info;
	enum pur_call rc;

	if (p->subscription_id[0] == '\0') {
		/* Claimed, then died before "subscribed" was stored: the
		 * payment method the subscription was asked with is looked up
		 * again (a repeat with other parameters would be refused by
		 * Stripe's idempotency check). None now: none was ever used,
		 * or the card was removed since and the subscription,
		 * incomplete and never charged, expires at Stripe by itself. */
		if (p->payment_method[0] == '\0') {
			rc = payment_method(ctx, p);
			if (rc == PUR_CALL_RETRY || rc == PUR_CALL_UNKNOWN)
				return STEP_UNKNOWN;
		}
		if (p->payment_method[0] != '\0') {
			if (!lease_holds(ctx, p))
				return STEP_UNKNOWN;
			rc = create_subscription(ctx, p, "stripe subscribe (to cancel)");
			if (rc == PUR_CALL_RETRY || rc == PUR_CALL_UNKNOWN)
				return STEP_UNKNOWN;
		}
	}
	if (p->invoice_id[0] == '\0')
		return STEP_DONE; /* no subscription, no invoice: nothing can be paid */
	if (!lease_holds(ctx, p))
		return STEP_UNKNOWN;
	rc = pur_stripe_invoice_void(&ctx->stripe, p->invoice_id, &inv, &info);
	log_call(ctx, p, "stripe void", rc, &info);
	CRASH_POINT("after_void");
	if (rc == PUR_CALL_GONE)
		return STEP_DONE; /* Stripe has no such invoice: nothing to pay */
	if (rc != PUR_CALL_OK)
		return STEP_UNKNOWN;
	if (inv.paid || strcmp(inv.status, "paid") == 0) {
		purchase_log(ctx, "purchase=%" PRId64 " invoice %s was paid: going forward", p->id,
		    p->invoice_id);
		/* Paid for, so delivered: the number must be had. Only a lost
		 * (unsynced) "provisioned" gets here without it: the buy most
		 * likely happened, and provision() looks before it buys. */
		if (p->number_sid[0] == '\0' && provision(ctx, p) != STEP_DONE) {
			purchase_log(ctx, "purchase=%" PRId64 " paid, but the number could not be "
			    "had: left for recovery (reconcile reports it)", p->id);
			p->outcome = PUR_OUT_NONE;
			return STEP_UNKNOWN;
		}
		return STEP_PAID;
	}
	/* void, or uncollectible: a payment can no longer land. */
	return strcmp(inv.status, "open") == 0 || strcmp(inv.status, "draft") == 0 ? STEP_UNKNOWN :
	                                                                             STEP_DONE;
}

/* compensating -> failed: release the number (if it may have been bought),
 * cancel the subscription (if one exists). Each undo is idempotent: a
 * number already gone or a subscription already ended counts as done. */
static enum step
compensate(struct purchase_ctx *ctx, struct pur_purchase *p)
{
	struct pur_call_info info;
	enum pur_call rc;
	char sid[PUR_TWILIO_SID];

	/* A buy is only ever tried once a subscription is recorded. */
	if (p->number_sid[0] == '\0' && p->subscription_id[0] != '\0') {
		/* The buy's outcome was never learnt: is the number ours? */
		rc = pur_twilio_find(&ctx->twilio, p->phone_number, sid, &info);
		log_call(ctx, p, "twilio find", rc, &info);
		if (rc == PUR_CALL_OK) {
			snprintf(p->number_sid, sizeof(p->number_sid), "%s", sid);
		} else if (rc != PUR_CALL_GONE) {
			return STEP_UNKNOWN;
		} else if (pur_now() < p->settle_at) {
			/* Not there -- yet: a buy sent before may still land. */
			purchase_log(ctx, "purchase=%" PRId64 " number not held, but a buy may land "
			    "until %" PRId64 ": looking again later", p->id, p->settle_at);
			return STEP_UNKNOWN;
		}
	}
	if (p->number_sid[0] != '\0') {
		if (!lease_holds(ctx, p))
			return STEP_UNKNOWN;
		rc = pur_twilio_release(&ctx->twilio, p->number_sid, &info);
		log_call(ctx, p, "twilio release", rc, &info);
		if (rc != PUR_CALL_OK)
			return STEP_UNKNOWN;
		CRASH_POINT("after_release");
	}
	if (p->subscription_id[0] != '\0') {
		if (!lease_holds(ctx, p))
			return STEP_UNKNOWN;
		rc = pur_stripe_subscription_cancel(&ctx->stripe, p->subscription_id, &info);
		log_call(ctx, p, "stripe cancel", rc, &info);
		if (rc != PUR_CALL_OK && rc != PUR_CALL_GONE)
			return STEP_UNKNOWN;
	}
	return STEP_DONE;
}

/* --- the machine -------------------------------------------------------- */

/*
 * For each state that needs work: the step the client's request takes, the
 * one recovery takes, where STEP_DONE leads, and the crash point right after
 * that move is committed. PUR_PAID is driven by finish() (the number row,
 * the state and the stored 201 in one transaction), the states at rest not
 * at all. A refusal leads to PUR_VOIDING from anywhere.
 */
static const struct {
	enum step (*forward)(struct purchase_ctx *, struct pur_purchase *);
	enum step (*backward)(struct purchase_ctx *, struct pur_purchase *);
	enum pur_state next;
	const char *crash_after;
} machine[PUR_STATE__MAX] = {
	[PUR_PENDING] = {subscribe, refuse, PUR_SUBSCRIBED, "after_subscribe"},
	[PUR_SUBSCRIBED] = {provision, refuse, PUR_PROVISIONED, "after_provision"},
	[PUR_PROVISIONED] = {pay, refuse, PUR_PAID, "after_paid"},
	[PUR_VOIDING] = {settle, settle, PUR_COMPENSATING, "after_decide"},
	[PUR_COMPENSATING] = {compensate, compensate, PUR_FAILED, NULL},
	/* The number's life (release.c): the subscription ended, or its
	 * scheduled release came due. */
	[PUR_RELEASING] = {pur_release_step, pur_release_step, PUR_RELEASED, NULL},
};

/* 6. Finish: the number row (its id is the purchase's), the state and the
 * stored 201, in one synced transaction: acknowledged => durable. */
static enum purchase_err
finish(struct purchase_ctx *ctx, struct pur_purchase *p, struct purchase_reply *reply,
    struct purchase_detail *d)
{
	struct purchase_number num;
	enum purchase_err err;

	purchase_reply_free(reply);
	number_of(p, &num);
	num.id = p->id;
	num.created_at = pur_now();
	if ((err = purchase_render(PURCHASE_OK, &num, reply)) != PURCHASE_OK)
		return err;
	/* Not synced: what makes this 201 durable is the synced commit
	 * before the payment ("provisioned", with everything the answer is
	 * made of). Lost to a power cut, the finish is done again by
	 * recovery: the void is refused, the invoice being paid, and the same
	 * 201 is rendered and stored. */
	if ((err = pur_store_purchase_end(ctx->store, p, &num, reply, pur_now(), 0)) !=
	    PURCHASE_OK) {
		purchase_reply_free(reply);
		return pur_error_set(d, err, "finish purchase %" PRId64, p->id);
	}
	CRASH_POINT("after_finish");
	pur_log_ok(ctx, "purchase=%" PRId64 " complete", p->id);
	return PURCHASE_OK;
}

/* The decision to refuse, made once the money is settled: its answer is
 * rendered and stored with the state, synced, before anything is undone --
 * the client's retry and recovery's outcome are then that answer, whatever
 * happens to the undo. */
static enum purchase_err
decide(struct purchase_ctx *ctx, struct pur_purchase *p, struct purchase_reply *reply)
{
	int64_t until = lease_end(ctx);
	enum purchase_err err;

	purchase_reply_free(reply);
	if ((err = purchase_render(outcome_err(p->outcome), NULL, reply)) != PURCHASE_OK)
		return err;
	if ((err = pur_store_purchase_save(ctx->store, p, pur_now(), until, reply, 1)) !=
	    PURCHASE_OK) {
		purchase_reply_free(reply);
		return err;
	}
	p->lease_until = until;
	return PURCHASE_OK;
}

/*
 * Drives p (whose lease this process holds) as far as it can go now.
 *
 * Returns PURCHASE_OK with *reply set once the purchase is decided: paid and
 * delivered (201), or refused -- undone, or being undone (the refusal's
 * status). The reply is stored with the decision, in the same transaction,
 * so a replay is exact even if this process dies right after. *at_rest
 * (optional) tells whether the purchase needs no more work (an undo may be
 * left for recovery after the decision). Returns EPROVIDER when the
 * purchase was left undecided for recovery (a provider could not tell us
 * what happened), ELEASE when a newer worker took it over, or a storage
 * error.
 */
static enum purchase_err
drive(struct purchase_ctx *ctx, struct pur_purchase *p, enum mode mode,
    struct purchase_reply *reply, int *at_rest, struct purchase_detail *d)
{
	enum purchase_err err;
	enum pur_state from;
	enum step st;

	if (at_rest != NULL)
		*at_rest = 0;
	for (;;) {
		from = p->state;
		if (from == PUR_PAID) {
			if ((err = finish(ctx, p, reply, d)) == PURCHASE_OK && at_rest != NULL)
				*at_rest = 1;
			return err;
		}
		if ((unsigned)from >= PUR_STATE__MAX || machine[from].forward == NULL)
			return pur_error_set(d, PURCHASE_EINTERNAL, "purchase %" PRId64 " in state %s",
			    p->id, pur_state_name(from));
		st = (mode == FORWARD ? machine[from].forward : machine[from].backward)(ctx, p);

		switch (st) {
		case STEP_DONE:
			p->state = machine[from].next;
			if (p->state == PUR_FAILED) {
				/* The end of the undo: its answer was stored (and
				 * synced) when it was decided. */
				if ((err = pur_store_purchase_end(ctx->store, p, NULL, NULL, pur_now(),
				         0)) !=
				    PURCHASE_OK) {
					purchase_reply_free(reply);
					return err;
				}
				purchase_log(ctx, "purchase=%" PRId64 " failed outcome=%s", p->id,
				    pur_outcome_name(p->outcome));
				if (at_rest != NULL)
					*at_rest = 1;
				return reply->body != NULL ? PURCHASE_OK :
				    purchase_render(outcome_err(p->outcome), NULL, reply);
			}
			if (p->state == PUR_RELEASED) {
				/* Given back to the carrier: the number released,
				 * synced (reconcile's word must be final). */
				if ((err = pur_store_number_released(ctx->store, p, "released",
				         pur_now())) != PURCHASE_OK)
					return err;
				purchase_log(ctx, "purchase=%" PRId64 " number %s released", p->id,
				    p->phone_number);
				if (at_rest != NULL)
					*at_rest = 1;
				CRASH_POINT("after_released");
				return PURCHASE_OK;
			}
			/*
			 * What is written on the way (issue 11: one fsync per
			 * purchase). "subscribed" is not: Stripe gives the same
			 * subscription again for the purchase's Idempotency-Key,
			 * and a buy that may have happened is looked up before
			 * another (a resumed purchase looks first). "provisioned"
			 * is the one synced commit: the money moves next, and with
			 * it on disk whatever happens to the payment is found
			 * again (the way back voids the invoice, which Stripe
			 * refuses for a paid one). "paid" is not stored on its
			 * own: the finish stores it with the number and the 201.
			 */
			if (p->state == PUR_COMPENSATING)
				err = decide(ctx, p, reply);
			else if (p->state == PUR_PROVISIONED)
				err = pur_store_purchase_progress(ctx->store, p, pur_now(), 1);
			else
				err = PURCHASE_OK;
			if (err != PURCHASE_OK)
				return err;
			CRASH_POINT(machine[from].crash_after);
			break;
		case STEP_PAID:
			p->state = PUR_PAID;
			break;
		case STEP_REFUSED:
			/* Decided -- once no payment can land any more: voiding
			 * settles that before the answer is stored. */
			if (p->outcome == PUR_OUT_NONE)
				p->outcome = PUR_OUT_PROVIDER;
			p->state = PUR_VOIDING;
			break;
		case STEP_UNKNOWN:
			/* Leave it, the lease given up so that recovery or the
			 * client's retry can take it at once. After a decision
			 * the client's answer is stored already. */
			leave(ctx, p);
			if (reply->body != NULL) {
				purchase_log(ctx, "purchase=%" PRId64 " compensation left for recovery",
				    p->id);
				return PURCHASE_OK;
			}
			return pur_error_set(d, PURCHASE_EPROVIDER,
			    "purchase %" PRId64 " left in state %s for recovery", p->id,
			    pur_state_name(p->state));
		}
	}
}

enum purchase_err
pur_drive(struct purchase_ctx *ctx, struct pur_purchase *p, int *at_rest,
    struct purchase_detail *d)
{
	struct purchase_reply r = {0, NULL, 0};
	enum purchase_err err = drive(ctx, p, BACKWARD, &r, at_rest, d);

	purchase_reply_free(&r);
	return err;
}

/* --- the request -------------------------------------------------------- */

static int
idem_key_ok(const char *k)
{
	size_t n = strlen(k);

	if (n < 1 || n > 255)
		return 0;
	for (; *k != '\0'; k++)
		if (*k < 0x20 || *k > 0x7e)
			return 0;
	return 1;
}

/* What a request asks for, as a hash: a retry with the same key must ask
 * for the same number, however its JSON was spelled. */
static void
request_hash(const char *e164, char hex[65])
{
	unsigned char h[PUR_SHA256_LEN];
	struct pur_sha256 s;

	pur_sha256_init(&s);
	pur_sha256_update(&s, "purchase\n", 9);
	pur_sha256_update(&s, e164, strlen(e164));
	pur_sha256_final(&s, h);
	pur_hex(h, sizeof(h), hex);
}

static enum purchase_err
copy_reply(const struct pur_idem *idem, struct purchase_reply *reply)
{
	if ((reply->body = malloc(idem->len + 1)) == NULL)
		return PURCHASE_ENOMEM;
	memcpy(reply->body, idem->body, idem->len + 1);
	reply->len = idem->len;
	reply->status = idem->status;
	return PURCHASE_OK;
}

/* Takes the lease of purchase id and drives it. ENOT_FOUND when it is at
 * rest meanwhile, EIDEM_BUSY when its worker's lease still runs. */
static enum purchase_err
take_and_drive(struct purchase_ctx *ctx, int64_t id, enum mode mode,
    struct purchase_reply *reply, int *at_rest, struct purchase_detail *d)
{
	struct pur_purchase p;
	enum purchase_err err;

	err = pur_store_purchase_lease(ctx->store, id, pur_now(), lease_end(ctx),
	    settle_seconds(ctx), &p);
	if (err != PURCHASE_OK)
		return err;
	purchase_log(ctx, "purchase=%" PRId64 " taken in state %s (token %" PRId64 ")", p.id,
	    pur_state_name(p.state), p.lease_token);
	return drive(ctx, &p, mode, reply, at_rest, d);
}

/* A replayed answer whose purchase is still being undone (its worker died
 * mid-compensation): finish the undo now rather than wait for the timer.
 * Costs one read when there is nothing to do. */
static void
finish_undo(struct purchase_ctx *ctx, int64_t id)
{
	struct purchase_detail d;
	struct purchase_reply r = {0, NULL, 0};
	struct pur_purchase p;

	if (pur_store_purchase_get(ctx->store, id, &p) != PURCHASE_OK ||
	    p.state != PUR_COMPENSATING || p.lease_until > pur_now())
		return;
	(void)take_and_drive(ctx, id, BACKWARD, &r, NULL, &d);
	purchase_reply_free(&r);
}

/*
 * A request whose Idempotency-Key is already recorded: another request
 * (422), the stored reply (replayed byte for byte), or a purchase still
 * under way: resumed when its worker is gone, else 409.
 */
static enum purchase_err
answer_known_key(struct purchase_ctx *ctx, int64_t account_id, const char *key,
    struct pur_idem *idem, const char *hash, struct purchase_reply *reply,
    struct purchase_detail *d)
{
	enum purchase_err err;

	if (strcmp(idem->request_hash, hash) != 0)
		return PURCHASE_EIDEM_MISMATCH;
	if (idem->status != 0) {
		finish_undo(ctx, idem->purchase_id);
		return copy_reply(idem, reply);
	}
	err = take_and_drive(ctx, idem->purchase_id, FORWARD, reply, NULL, d);
	if (err != PURCHASE_ENOT_FOUND)
		return err == PURCHASE_ELEASE ? PURCHASE_EIDEM_BUSY : err;
	/* It ended between our look and the lease: its reply is stored now. */
	pur_idem_free(idem);
	if ((err = pur_store_idem_get(ctx->store, account_id, key, idem)) != PURCHASE_OK)
		return err == PURCHASE_ENOT_FOUND ? PURCHASE_EINTERNAL : err;
	return idem->status != 0 ? copy_reply(idem, reply) : PURCHASE_EIDEM_BUSY;
}

/* The body: one JSON object, {"phone_number": "<E.164>"}, into e164, and
 * the hash of what it asks for. EBODY, EFIELD, EPHONE, ENOMEM. */
static enum purchase_err
read_request(const char *body, size_t len, char e164[PUR_E164_MAX], char hash[65])
{
	json_object *req = NULL;
	const char *phone;
	enum purchase_err err;

	if ((err = pur_json_parse_request(body, len, &req)) != PURCHASE_OK)
		return err;
	if ((err = pur_json_check_fields(req, purchase_fields, 1)) == PURCHASE_OK) {
		phone = pur_json_str(req, "phone_number");
		/* The whole string, so that "+1...\u0000junk" is not read as
		 * "+1...". */
		if (pur_e164_parse(phone, (size_t)json_object_get_string_len(
		        json_object_object_get(req, "phone_number")), e164) != 0)
			err = PURCHASE_EPHONE;
		else
			request_hash(e164, hash);
	}
	json_object_put(req);
	return err;
}

/* 1. Check, in DESIGN order, what our own database knows (inside the
 * caller's read transaction; no writes, no provider calls): the rate, the
 * number not in use, an unexpired offer to this account, the account. On
 * success *p is the purchase to claim. */
static enum purchase_err
check(struct purchase_ctx *ctx, int64_t account_id, const char *e164, int64_t now,
    struct pur_purchase *p)
{
	struct pur_account acct;
	struct pur_offer_row offer;
	enum purchase_err err;
	int64_t oldest;
	long recent;

	if (ctx->cfg->purchase_rate_per_minute > 0) {
		if ((err = pur_store_purchase_count_since(ctx->store, account_id, now - 60, &recent,
		         &oldest)) != PURCHASE_OK)
			return err;
		if (recent >= ctx->cfg->purchase_rate_per_minute) {
			/* The window frees up when its oldest purchase is a
			 * minute old: that is the Retry-After. */
			pur_ctx_set_retry_after(ctx, oldest + 60 - now);
			return PURCHASE_ERATE;
		}
	}
	if ((err = pur_store_purchase_checks(ctx->store, account_id, e164, now, &offer, &acct)) !=
	    PURCHASE_OK)
		return err == PURCHASE_ENOT_FOUND ? PURCHASE_EAUTH : err;
	memset(p, 0, sizeof(*p));
	p->account_id = account_id;
	memcpy(p->phone_number, e164, sizeof(p->phone_number));
	memcpy(p->country_code, offer.country_code, sizeof(p->country_code));
	memcpy(p->type, offer.type, sizeof(p->type));
	p->price_cents = offer.price_cents;
	memcpy(p->stripe_price_id, offer.stripe_price_id, sizeof(p->stripe_price_id));
	p->sms_capable = offer.sms_capable;
	memcpy(p->region, offer.region, sizeof(p->region));
	memcpy(p->stripe_customer, acct.stripe_customer, sizeof(p->stripe_customer));
	return PURCHASE_OK;
}

/* 2. Claim: the database decides who gets the number (EIN_USE for the
 * loser; EIDEM_BUSY with *idem when a twin request with the same key
 * claimed first). The purchase draws its nonce here: its Stripe
 * Idempotency-Keys name it, not the row id. The claim is durable (fsync)
 * when it returns.
 *
 * Then the last check, after the claim so that the loser of a race (and a
 * request that meets a locked database) never calls a provider: the
 * customer's default payment method. Nothing has happened at any provider
 * yet, so a refusal here takes the claim back -- the check phase writes
 * nothing in the end (DESIGN §3) -- and a retry with the key after adding
 * a card is judged afresh. The method found is stored with "subscribed";
 * a purchase resumed without it looks it up again. */
static enum purchase_err
claim(struct purchase_ctx *ctx, struct pur_purchase *p, const char *idem_key,
    const char *hash, int64_t now, struct pur_idem *idem, struct purchase_detail *d)
{
	unsigned char nonce[PUR_NONCE_LEN / 2];
	enum purchase_err err;
	enum pur_call rc;

	if (pur_random(nonce, sizeof(nonce)) != 0)
		return pur_error_set(d, PURCHASE_EINTERNAL, "no randomness for the purchase nonce");
	pur_hex(nonce, sizeof(nonce), p->nonce);
	p->lease_until = lease_end(ctx);
	if ((err = pur_store_claim(ctx->store, p, idem_key, hash, now, idem)) != PURCHASE_OK)
		return err;
	pur_log_ok(ctx, "purchase=%" PRId64 " claimed %s account=%" PRId64, p->id, p->phone_number,
	    p->account_id);
	if ((rc = payment_method(ctx, p)) != PUR_CALL_OK) {
		err = rc == PUR_CALL_GONE ? PURCHASE_ENO_PAYMENT_METHOD :
		    pur_error_set(d, PURCHASE_EPROVIDER, "stripe customer lookup: %s",
		        pur_call_name(rc));
		if (pur_store_purchase_abandon(ctx->store, p, pur_now()) != PURCHASE_OK)
			purchase_log(ctx, "purchase=%" PRId64 " could not be taken back; recovery will",
			    p->id);
		return err;
	}
	CRASH_POINT("after_claim");
	return PURCHASE_OK;
}

enum purchase_err
purchase_buy(struct purchase_ctx *ctx, int64_t account_id, const char *body, size_t len,
    const char *idem_key, struct purchase_reply *reply, struct purchase_detail *d)
{
	struct pur_purchase p;
	struct pur_idem idem;
	char e164[PUR_E164_MAX], hash[65];
	enum purchase_err err;
	int64_t now = pur_now();

	memset(reply, 0, sizeof(*reply));
	memset(&idem, 0, sizeof(idem));
	if ((err = pur_ctx_ready(ctx, d)) != PURCHASE_OK)
		return err;
	/* An empty header is no key: lighttpd drops an empty header before
	 * the responder sees it, so every server must treat it so (one answer
	 * whatever serves us). */
	if (idem_key != NULL && *idem_key == '\0')
		idem_key = NULL;
	if (idem_key != NULL && !idem_key_ok(idem_key))
		return PURCHASE_EIDEMKEY;
	if ((err = read_request(body, len, e164, hash)) != PURCHASE_OK)
		return err;

	/* The lookups below, in one read transaction. A key seen before:
	 * replay, resume or refuse -- before any check that could call a
	 * provider. */
	if ((err = pur_store_read_begin(ctx->store)) != PURCHASE_OK)
		goto out;
	if (idem_key != NULL) {
		err = pur_store_idem_get(ctx->store, account_id, idem_key, &idem);
		if (err == PURCHASE_OK) {
			pur_store_read_end(ctx->store);
			err = answer_known_key(ctx, account_id, idem_key, &idem, hash, reply, d);
			goto out;
		}
		if (err != PURCHASE_ENOT_FOUND)
			goto out;
	}
	err = check(ctx, account_id, e164, now, &p);
	pur_store_read_end(ctx->store);
	if (err != PURCHASE_OK)
		goto out;
	err = claim(ctx, &p, idem_key, hash, now, &idem, d);
	if (err == PURCHASE_EIDEM_BUSY)
		/* A twin request with the same key claimed first. */
		err = answer_known_key(ctx, account_id, idem_key, &idem, hash, reply, d);
	else if (err == PURCHASE_OK)
		/* 3-6. Subscribe, provision, pay, finish (or go back). */
		err = drive(ctx, &p, FORWARD, reply, NULL, d);
out:
	pur_store_read_end(ctx->store); /* if a check left it open */
	if (err != PURCHASE_OK)
		purchase_reply_free(reply);
	pur_idem_free(&idem);
	return err;
}

enum purchase_err
purchase_recover(struct purchase_ctx *ctx, int *ndone, int *nleft, struct purchase_detail *d)
{
	int64_t ids[RECOVER_BATCH];
	struct purchase_reply reply;
	enum purchase_err err;
	size_t n, i;
	int at_rest;

	*ndone = *nleft = 0;
	if ((err = pur_ctx_ready(ctx, d)) != PURCHASE_OK)
		return err;
	if ((err = pur_store_purchases_stale(ctx->store, pur_now(), ids, RECOVER_BATCH, &n)) !=
	    PURCHASE_OK)
		return err;
	for (i = 0; i < n; i++) {
		memset(&reply, 0, sizeof(reply));
		err = take_and_drive(ctx, ids[i], BACKWARD, &reply, &at_rest, d);
		purchase_reply_free(&reply);
		/* Finished only when nothing is left to do: a refusal whose
		 * undo waits on a provider is decided but not done. */
		if (err == PURCHASE_OK && at_rest)
			(*ndone)++;
		else if (err == PURCHASE_EBUSY || err == PURCHASE_EDB || err == PURCHASE_ENOMEM)
			return err;
		else if (err != PURCHASE_ENOT_FOUND) /* not at rest meanwhile */
			(*nleft)++;
	}
	/* The numbers' lives: releases coming due, periods that ended
	 * without a word (release.c); webhook events not yet worked on. */
	if ((err = pur_release_recover(ctx, ndone, nleft, d)) != PURCHASE_OK)
		return err;
	return pur_webhook_work(ctx, RECOVER_BATCH, ndone, nleft, d);
}
