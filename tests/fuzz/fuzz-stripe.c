/*
 * fuzz-stripe.c -- libFuzzer target: every Stripe reply parser of
 * lib/stripe.h. The first byte picks the parser ('c' customer,
 * 's' subscription, 'i' invoice, 'e' error, 'q' subscription search,
 * 'l' subscription list; any other byte: its value modulo 6), the rest is
 * the reply body, in a buffer of exactly its size (not NUL-terminated).
 *
 * One target for the vendor rather than one per parser: every parser sits
 * on the same JSON reader, so one corpus of Stripe shapes serves them all
 * and coverage guides the fuzzer into each; and each target costs CI its
 * FUZZ_TIME, six times over otherwise.
 *
 * Properties: every string out is NUL-terminated in its field; booleans are
 * 0 or 1; a failed list parse leaves an empty page (nothing to free); a
 * list's entries are there when n > 0.
 */
#include "autoconfig.h"

#include "fuzz.h"
#include "stripe.h"

#define T(a) fuzz_terminated((a), sizeof(a))
#define B(x) ((x) == 0 || (x) == 1)

static void
sub_ok(const struct pur_stripe_sub *s)
{
	FUZZ_CHECK(T(s->id) && T(s->status) && T(s->latest_invoice) && T(s->purchase_id));
	FUZZ_CHECK(B(s->cancel_at_period_end) && B(s->invoice_paid));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char sel[] = "csieql";
	const char *which;
	char *body, pm[PUR_STRIPE_ID];
	struct pur_stripe_sub sub;
	struct pur_stripe_sub_page page;
	struct pur_stripe_invoice inv;
	struct pur_stripe_error err;
	size_t len, i;
	int found;

	if (size == 0)
		return 0;
	which = strchr(sel, data[0]);
	if (data[0] == '\0' || which == NULL)
		which = sel + data[0] % 6;
	len = size - 1;
	body = fuzz_exact(data + 1, len);
	switch (*which) {
	case 'c':
		memset(pm, 'x', sizeof(pm));
		if (pur_stripe_parse_customer(body, len, pm) == 0)
			FUZZ_CHECK(T(pm));
		break;
	case 's':
		if (pur_stripe_parse_subscription(body, len, &sub) == 0)
			sub_ok(&sub);
		break;
	case 'i':
		if (pur_stripe_parse_invoice(body, len, &inv) == 0)
			FUZZ_CHECK(T(inv.id) && T(inv.status) && B(inv.paid));
		break;
	case 'e':
		if (pur_stripe_parse_error(body, len, &err) == 0)
			FUZZ_CHECK(T(err.type) && T(err.code) && T(err.decline_code));
		break;
	case 'q':
		found = -1;
		if (pur_stripe_parse_sub_search(body, len, &sub, &found) == 0) {
			FUZZ_CHECK(B(found));
			if (found)
				sub_ok(&sub);
		}
		break;
	case 'l':
		if (pur_stripe_parse_sub_list(body, len, &page) != 0) {
			FUZZ_CHECK(page.n == 0 && page.v == NULL);
			break;
		}
		FUZZ_CHECK(B(page.has_more) && (page.n == 0 || page.v != NULL));
		for (i = 0; i < page.n; i++)
			sub_ok(&page.v[i]);
		pur_stripe_sub_page_free(&page);
		FUZZ_CHECK(page.n == 0 && page.v == NULL);
		break;
	}
	free(body);
	return 0;
}
