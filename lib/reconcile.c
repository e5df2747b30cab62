/*
 * reconcile.c -- our rows against Stripe's and Twilio's (purchasectl
 * reconcile, and the invariant check the tests run after every fault):
 *
 *   every paid subscription has exactly one number, every number has a paid
 *   subscription, no number is sold twice, nothing is left half-done.
 *
 * Reads everything through the providers' list APIs (paginated), then our
 * database, and reports each difference through a callback; changes nothing
 * -- except, asked to repair (purchasectl reconcile --repair), what a
 * purchase lost with its row left at the providers: a power cut may take
 * the tail of the WAL that was never synced, and with it a claim whose
 * subscription was already created and whose number may be bought
 * (DESIGN §3: the first synced commit of a purchase is the one before its
 * payment). Such objects carry the purchase's nonce (the subscription's
 * metadata, the number's FriendlyName tag) and no purchase of ours has it;
 * no money moved for them (the payment comes after that sync), so:
 *
 *   an incomplete subscription of an unknown nonce is cancelled;
 *   a number tagged with an unknown nonce is released, unless a
 *   subscription of that nonce bills or was paid (then it was sold, by
 *   whatever database made it: reported, never touched).
 *
 * Both only once older than the age asked (an hour by default), far past
 * any lease and settle time; a number without our tag is only reported.
 * Repair presumes this database is the only one that sells from these
 * Stripe and Twilio accounts.
 */
#include "autoconfig.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "error.h"

#define MAX_PAGES 100000

struct diff_out {
	purchase_diff_fn fn;
	void *arg;
	int n;
};

static void
report(struct diff_out *o, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
report(struct diff_out *o, const char *kind, const char *fmt, ...)
{
	char detail[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	o->n++;
	if (o->fn != NULL)
		o->fn(o->arg, kind, detail);
}

/* A subscription that bills: Stripe's statuses in which it is paid up or
 * owed and still collected. (unpaid: Stripe gave up collecting -- the
 * number is released, DESIGN §3a.) */
static int
sub_live(const struct pur_stripe_sub *s)
{
	return strcmp(s->status, "active") == 0 || strcmp(s->status, "past_due") == 0 ||
	    strcmp(s->status, "trialing") == 0;
}

/* qsort and bsearch, which may not be handed a NULL array even when empty. */
static void
sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

static void *
find(const void *key, const void *base, size_t n, size_t size,
    int (*cmp)(const void *, const void *))
{
	return n > 0 ? bsearch(key, base, n, size, cmp) : NULL;
}

static int
by_sub_id(const void *a, const void *b)
{
	return strcmp(((const struct pur_stripe_sub *)a)->id, ((const struct pur_stripe_sub *)b)->id);
}

static int
by_purchase(const void *a, const void *b)
{
	return strcmp(((const struct pur_stripe_sub *)a)->purchase_id,
	    ((const struct pur_stripe_sub *)b)->purchase_id);
}

static int
by_phone(const void *a, const void *b)
{
	return strcmp(((const struct pur_twilio_owned *)a)->phone_number,
	    ((const struct pur_twilio_owned *)b)->phone_number);
}

/*
 * Cursors already followed, as 64-bit hashes (FNV-1a) in an open-addressed
 * set: a provider that hands out a cursor twice -- the same one with
 * has_more: true, or a cycle of them -- would otherwise be followed until
 * MAX_PAGES. A repeat is an error, not the end of the list.
 */
struct seen {
	uint64_t *v;
	size_t cap, n;
};

static uint64_t
fnv1a(const char *s)
{
	uint64_t h = UINT64_C(14695981039346656037);

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
	return h | 1; /* 0 marks an empty slot */
}

/* 1 when cursor was seen before, 0 when it is new (now recorded), -1 on
 * allocation failure. */
static int
seen_before(struct seen *st, const char *cursor)
{
	uint64_t h = fnv1a(cursor);
	size_t i;

	if (2 * (st->n + 1) > st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 64, j;
		uint64_t *v = calloc(cap, sizeof(*v));
		if (v == NULL)
			return -1;
		for (j = 0; j < st->cap; j++)
			if (st->v[j] != 0) {
				for (i = st->v[j] & (cap - 1); v[i] != 0; i = (i + 1) & (cap - 1))
					;
				v[i] = st->v[j];
			}
		free(st->v);
		st->v = v;
		st->cap = cap;
	}
	for (i = h & (st->cap - 1); st->v[i] != 0; i = (i + 1) & (st->cap - 1))
		if (st->v[i] == h)
			return 1;
	st->v[i] = h;
	st->n++;
	return 0;
}

struct world {
	struct pur_stripe_sub *subs;
	size_t nsubs;
	struct pur_twilio_owned *nums;
	struct pur_twilio_owned *sids; /* the same, by sid */
	size_t nnums;
	char (*ours)[17];   /* our unreleased numbers, sorted */
	size_t nours, capours;
	struct diff_out *out;
	struct purchase_ctx *ctx;
	int64_t now;
	int repair;          /* undo what lost rows left (see the top) */
	int64_t older_than;  /* ... for objects at least this old (seconds) */
	int nrepaired;
	enum purchase_err err; /* what stopped a walk over our rows */
};

static enum purchase_err
fetch_subs(struct purchase_ctx *ctx, struct world *w, struct purchase_detail *d)
{
	struct pur_stripe_sub_page page;
	struct pur_call_info info;
	struct seen seen = {NULL, 0, 0};
	enum purchase_err err = PURCHASE_OK;
	enum pur_call rc;
	char after[PUR_STRIPE_ID] = "";
	int pages, more;
	size_t n;

	for (pages = 0; pages < MAX_PAGES; pages++) {
		rc = pur_stripe_subscription_list(&ctx->stripe, after[0] ? after : NULL, &page, &info);
		if (rc != PUR_CALL_OK) {
			err = pur_error_set(d, PURCHASE_EPROVIDER, "stripe list: %s status=%ld",
			    pur_call_name(rc), info.status);
			goto out;
		}
		n = page.n;
		more = page.has_more;
		if (n > 0) {
			struct pur_stripe_sub *v = realloc(w->subs, (w->nsubs + n) * sizeof(*v));
			if (v == NULL) {
				pur_stripe_sub_page_free(&page);
				err = PURCHASE_ENOMEM;
				goto out;
			}
			w->subs = v;
			memcpy(w->subs + w->nsubs, page.v, n * sizeof(*v));
			w->nsubs += n;
			snprintf(after, sizeof(after), "%s", page.v[n - 1].id);
		}
		pur_stripe_sub_page_free(&page);
		if (!more)
			goto out;
		/* has_more with nothing to page from, or a cursor again. */
		if (n == 0 || seen_before(&seen, after) != 0) {
			err = pur_error_set(d, PURCHASE_EPROVIDER,
			    "stripe list: has_more without a new cursor (%s) after %d pages", after,
			    pages + 1);
			goto out;
		}
	}
	err = pur_error_set(d, PURCHASE_EPROVIDER, "stripe list: too many pages");
out:
	free(seen.v);
	return err;
}

static enum purchase_err
fetch_numbers(struct purchase_ctx *ctx, struct world *w, struct purchase_detail *d)
{
	struct pur_twilio_owned_page page;
	struct pur_call_info info;
	struct seen seen = {NULL, 0, 0};
	enum purchase_err err = PURCHASE_OK;
	enum pur_call rc;
	char next[1024] = "";
	int pages;
	size_t n;

	for (pages = 0; pages < MAX_PAGES; pages++) {
		rc = pur_twilio_list(&ctx->twilio, next[0] ? next : NULL, &page, &info);
		if (rc != PUR_CALL_OK) {
			err = pur_error_set(d, PURCHASE_EPROVIDER, "twilio list: %s status=%ld",
			    pur_call_name(rc), info.status);
			goto out;
		}
		n = page.n;
		if (n > 0) {
			struct pur_twilio_owned *v = realloc(w->nums, (w->nnums + n) * sizeof(*v));
			if (v == NULL) {
				pur_twilio_owned_page_free(&page);
				err = PURCHASE_ENOMEM;
				goto out;
			}
			w->nums = v;
			memcpy(w->nums + w->nnums, page.v, n * sizeof(*v));
			w->nnums += n;
		}
		memcpy(next, page.next, sizeof(next));
		pur_twilio_owned_page_free(&page);
		/* Twilio ends a list with next_page_uri null; an empty page
		 * that still names a next one is followed (a cursor never
		 * repeats), a cursor seen before is an error. */
		if (next[0] == '\0')
			goto out;
		if (seen_before(&seen, next) != 0) {
			err = pur_error_set(d, PURCHASE_EPROVIDER,
			    "twilio list: next_page_uri repeats after %d pages", pages + 1);
			goto out;
		}
	}
	err = pur_error_set(d, PURCHASE_EPROVIDER, "twilio list: too many pages");
out:
	free(seen.v);
	return err;
}

static int
owned_at_twilio(const struct world *w, const char *e164)
{
	struct pur_twilio_owned key;

	snprintf(key.phone_number, sizeof(key.phone_number), "%s", e164);
	return find(&key, w->nums, w->nnums, sizeof(key), by_phone) != NULL;
}

static const struct pur_stripe_sub *
sub_by_id(const struct world *w, const char *id)
{
	struct pur_stripe_sub key;

	snprintf(key.id, sizeof(key.id), "%s", id ? id : "");
	return find(&key, w->subs, w->nsubs, sizeof(key), by_sub_id);
}

static int
ours_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static int
by_sid(const void *a, const void *b)
{
	return strcmp(((const struct pur_twilio_owned *)a)->sid,
	    ((const struct pur_twilio_owned *)b)->sid);
}

static int
sid_at_twilio(const struct world *w, const char *sid)
{
	struct pur_twilio_owned key;

	snprintf(key.sid, sizeof(key.sid), "%s", sid);
	return find(&key, w->sids, w->nnums, sizeof(key), by_sid) != NULL;
}

/*
 * Each of our numbers (DESIGN §3a, at rest):
 *   not released: exactly one subscription that bills, the number held at
 *   the carrier, and release_scheduled <=> cancel_at_period_end;
 *   released: not held at the carrier (by its sid: the same number bought
 *   again later is another), and its subscription ended or ending.
 */
static int
check_number(void *arg, const struct pur_number *n)
{
	struct world *w = arg;
	const struct pur_stripe_sub *s = sub_by_id(w, n->subscription_id);
	int released = strcmp(n->status, "released") == 0;

	if (released) {
		if (sid_at_twilio(w, n->number_sid))
			report(w->out, "released_number_owned", "number %" PRId64 " %s (%s) is "
			    "released but still held at the carrier", n->id, n->phone_number,
			    n->number_sid);
		if (s != NULL && sub_live(s) && !s->cancel_at_period_end)
			report(w->out, "released_number_billed", "number %" PRId64 " %s is released "
			    "but subscription %s is %s and not ending", n->id, n->phone_number, s->id,
			    s->status);
		return 0;
	}
	if (s == NULL || !sub_live(s))
		report(w->out, "number_without_payment", "number %" PRId64 " %s (purchase %" PRId64
		    "): subscription %s is %s", n->id, n->phone_number, n->purchase_id,
		    n->subscription_id, s ? s->status : "missing");
	else if ((strcmp(n->status, "release_scheduled") == 0) != (s->cancel_at_period_end != 0) ||
	         n->cancel_at_period_end != s->cancel_at_period_end)
		report(w->out, "release_flag_mismatch", "number %" PRId64 " %s is %s but "
		    "subscription %s has cancel_at_period_end %s", n->id, n->phone_number, n->status,
		    s->id, s->cancel_at_period_end ? "true" : "false");
	if (!owned_at_twilio(w, n->phone_number))
		report(w->out, "paid_without_number", "number %" PRId64 " %s (purchase %" PRId64
		    "): not held at the carrier", n->id, n->phone_number, n->purchase_id);
	if (w->nours == w->capours) {
		size_t cap = w->capours ? w->capours * 2 : 256;
		char (*v)[17] = realloc(w->ours, cap * sizeof(*v));
		if (v == NULL) {
			/* Stop, and say why: a number missing from w->ours
			 * would be reported as no one's. */
			w->err = PURCHASE_ENOMEM;
			return 1;
		}
		w->ours = v;
		w->capours = cap;
	}
	snprintf(w->ours[w->nours++], 17, "%s", n->phone_number);
	return 0;
}

static int
check_unfinished(void *arg, int64_t id, const char *e164, const char *state,
    int64_t lease_until)
{
	struct world *w = arg;

	report(w->out, "unfinished", "purchase %" PRId64 " %s in state %s (%s)", id, e164, state,
	    lease_until > w->now ? "in progress" : "awaiting recovery");
	return 0;
}

/* A repair done: reported as kind "repaired", not counted as a difference. */
static void
repaired(struct world *w, const char *what, const char *id, const char *nonce)
{
	w->nrepaired++;
	if (w->out->fn != NULL) {
		char detail[512];

		snprintf(detail, sizeof(detail), "%s %s (purchase nonce %s, lost with its row)",
		    what, id, nonce);
		w->out->fn(w->out->arg, "repaired", detail);
	}
}

/* Whether a subscription of this nonce bills or was paid. */
static int
nonce_sold(const struct world *w, const char *nonce)
{
	size_t i;

	for (i = 0; i < w->nsubs; i++)
		if (strcmp(w->subs[i].purchase_nonce, nonce) == 0 &&
		    (sub_live(&w->subs[i]) || w->subs[i].invoice_paid))
			return 1;
	return 0;
}

/* An incomplete subscription whose purchase we do not have. */
static enum purchase_err
check_lost_subscription(struct world *w, const struct pur_stripe_sub *s)
{
	struct pur_call_info info;
	enum purchase_err err;
	int known;

	if (s->purchase_nonce[0] == '\0' || strcmp(s->status, "incomplete") != 0 ||
	    s->invoice_paid)
		return PURCHASE_OK;
	if ((err = pur_store_nonce_known(w->ctx->store, s->purchase_nonce, &known)) !=
	        PURCHASE_OK ||
	    known)
		return err;
	if (w->repair && s->created > 0 && s->created <= w->now - w->older_than &&
	    pur_stripe_subscription_cancel(&w->ctx->stripe, s->id, &info) == PUR_CALL_OK) {
		repaired(w, "cancelled subscription", s->id, s->purchase_nonce);
		return PURCHASE_OK;
	}
	report(w->out, "orphan_subscription", "subscription %s (incomplete) names purchase %s "
	    "nonce %s, which we do not have%s", s->id, s->purchase_id, s->purchase_nonce,
	    w->repair ? "; not cancelled (too recent, or the cancel failed)" : "");
	return PURCHASE_OK;
}

/* A number the carrier holds that is none of ours. */
static enum purchase_err
check_orphan_number(struct world *w, const struct pur_twilio_owned *n)
{
	struct pur_call_info info;
	enum purchase_err err;
	char nonce[33];
	int64_t at;
	int known = 1;

	if (pur_twilio_tag_parse(n->friendly_name, nonce, &at) != 0) {
		report(w->out, "orphan_number", "%s (%s) is held at the carrier but is no one's "
		    "number (not bought by a purchase: left alone)", n->phone_number, n->sid);
		return PURCHASE_OK;
	}
	if ((err = pur_store_nonce_known(w->ctx->store, nonce, &known)) != PURCHASE_OK)
		return err;
	if (known || nonce_sold(w, nonce)) {
		report(w->out, "orphan_number", "%s (%s) is held at the carrier but is no one's "
		    "number (purchase nonce %s %s)", n->phone_number, n->sid, nonce,
		    known ? "is ours" : "has a subscription that bills: left alone");
		return PURCHASE_OK;
	}
	if (w->repair && at <= w->now - w->older_than &&
	    pur_twilio_release(&w->ctx->twilio, n->sid, &info) == PUR_CALL_OK) {
		repaired(w, "released number", n->sid, nonce);
		return PURCHASE_OK;
	}
	report(w->out, "orphan_number", "%s (%s) is held at the carrier but is no one's number "
	    "(purchase nonce %s, which we do not have%s)", n->phone_number, n->sid, nonce,
	    w->repair ? "; not released: too recent, or the release failed" : "");
	return PURCHASE_OK;
}

enum purchase_err
purchase_reconcile(struct purchase_ctx *ctx, purchase_diff_fn fn, void *arg, int *ndiff,
    struct purchase_detail *d)
{
	int nrepaired;

	return purchase_reconcile_repair(ctx, fn, arg, -1, ndiff, &nrepaired, d);
}

enum purchase_err
purchase_reconcile_repair(struct purchase_ctx *ctx, purchase_diff_fn fn, void *arg,
    int64_t older_than, int *ndiff, int *nrepaired, struct purchase_detail *d)
{
	struct diff_out out = {fn, arg, 0};
	struct world w;
	struct pur_purchase p;
	enum purchase_err err;
	size_t i, j, k;

	*ndiff = 0;
	*nrepaired = 0;
	memset(&w, 0, sizeof(w));
	w.out = &out;
	w.ctx = ctx;
	w.now = pur_now();
	w.repair = older_than >= 0;
	w.older_than = older_than;
	if ((err = pur_ctx_ready(ctx, d)) != PURCHASE_OK)
		return err;
	if ((err = fetch_subs(ctx, &w, d)) != PURCHASE_OK ||
	    (err = fetch_numbers(ctx, &w, d)) != PURCHASE_OK)
		goto out;
	sort(w.nums, w.nnums, sizeof(*w.nums), by_phone);
	if (w.nnums > 0) {
		if ((w.sids = malloc(w.nnums * sizeof(*w.sids))) == NULL) {
			err = PURCHASE_ENOMEM;
			goto out;
		}
		memcpy(w.sids, w.nums, w.nnums * sizeof(*w.sids));
		sort(w.sids, w.nnums, sizeof(*w.sids), by_sid);
	}
	for (i = 1; i < w.nnums; i++)
		if (strcmp(w.nums[i].phone_number, w.nums[i - 1].phone_number) == 0)
			report(&out, "duplicate", "%s held twice at the carrier", w.nums[i].phone_number);

	/* Subscriptions of our purchases: at most one that bills per
	 * purchase, and one that bills (or was paid) means a delivered number. */
	sort(w.subs, w.nsubs, sizeof(*w.subs), by_purchase);
	for (i = 0; i < w.nsubs; i = j) {
		int live = 0, paid = 0;
		int64_t pid;
		char *end;

		for (j = i; j < w.nsubs && strcmp(w.subs[j].purchase_id, w.subs[i].purchase_id) == 0; j++) {
			live += sub_live(&w.subs[j]);
			paid += sub_live(&w.subs[j]) || w.subs[j].invoice_paid;
		}
		if (w.subs[i].purchase_id[0] == '\0')
			continue; /* not one of ours */
		pid = strtoll(w.subs[i].purchase_id, &end, 10);
		if (live > 1)
			report(&out, "duplicate", "purchase %s has %d billing subscriptions",
			    w.subs[i].purchase_id, live);
		for (k = i; k < j; k++)
			if ((err = check_lost_subscription(&w, &w.subs[k])) != PURCHASE_OK)
				goto out;
		if (paid == 0)
			continue;
		err = *end == '\0' ? pur_store_purchase_get(ctx->store, pid, &p) : PURCHASE_ENOT_FOUND;
		if (err == PURCHASE_ENOT_FOUND) {
			report(&out, "orphan_subscription", "subscription %s names purchase %s, which "
			    "we do not have", w.subs[i].id, w.subs[i].purchase_id);
			continue;
		}
		if (err != PURCHASE_OK)
			goto out;
		/* Made for another database's purchase of the same id (a
		 * staging copy, a restored backup): not ours. */
		if (w.subs[i].purchase_nonce[0] != '\0' && strcmp(w.subs[i].purchase_nonce, p.nonce) != 0)
			continue;
		if (p.state == PUR_FAILED)
			report(&out, live ? "paid_without_number" : "charged_without_number",
			    "purchase %" PRId64 " %s failed (%s) but subscription %s is %s%s", p.id,
			    p.phone_number, pur_outcome_name(p.outcome), w.subs[i].id, w.subs[i].status,
			    w.subs[i].invoice_paid ? ", invoice paid" : "");
	}
	sort(w.subs, w.nsubs, sizeof(*w.subs), by_sub_id);

	/* Our numbers, then what the carrier holds that we do not know. */
	if ((err = pur_store_numbers_all(ctx->store, 0, check_number, &w)) != PURCHASE_OK ||
	    (err = w.err) != PURCHASE_OK)
		goto out;
	sort(w.ours, w.nours, sizeof(*w.ours), ours_cmp);
	for (i = 1; i < w.nours; i++)
		if (strcmp(w.ours[i], w.ours[i - 1]) == 0)
			report(&out, "duplicate", "%s sold twice", w.ours[i]);
	for (i = 0; i < w.nnums; i++)
		if (find(w.nums[i].phone_number, w.ours, w.nours, sizeof(*w.ours), ours_cmp) == NULL &&
		    (err = check_orphan_number(&w, &w.nums[i])) != PURCHASE_OK)
			goto out;
	err = pur_store_unfinished_each(ctx->store, check_unfinished, &w);
out:
	free(w.subs);
	free(w.nums);
	free(w.sids);
	free(w.ours);
	*ndiff = out.n;
	*nrepaired = w.nrepaired;
	return err;
}
