/*
 * fuzz-stripe.c -- libFuzzer target: every Stripe reply parser of
 * lib/stripe.h. The first byte picks the parser ('c' customer,
 * 's' subscription, 'i' invoice, 'e' error, 'q' subscription search,
 * 'l' subscription list, 'v' webhook event, 'V' event list, 'g' the
 * Stripe-Signature check; any other byte: its value modulo 9), the rest is
 * the reply body, in a buffer of exactly its size (not NUL-terminated).
 * For 'g' the body's first line is the header, the rest the signed body.
 *
 * One target for the vendor rather than one per parser: every parser sits
 * on the same JSON reader, so one corpus of Stripe shapes serves them all
 * and coverage guides the fuzzer into each; and each target costs CI its
 * FUZZ_TIME, six times over otherwise.
 *
 * Properties: every string out is NUL-terminated in its field; booleans are
 * 0 or 1; a failed list parse leaves an empty page (nothing to free); a
 * list's entries are there when n > 0. The signature check answers 0 or
 * -1, and 0 for the body signed here with either secret (one v1 among
 * whatever else the header holds), -1 once the body is changed.
 */
#include "autoconfig.h"

#include "fuzz.h"
#include "sha256.h"
#include "stripe.h"

#define T(a) fuzz_terminated((a), sizeof(a))
#define B(x) ((x) == 0 || (x) == 1)

static void
sub_ok(const struct pur_stripe_sub *s)
{
	FUZZ_CHECK(T(s->id) && T(s->status) && T(s->latest_invoice) && T(s->purchase_id));
	FUZZ_CHECK(B(s->cancel_at_period_end) && B(s->invoice_paid));
}

static void
event_ok(const struct pur_stripe_event *e)
{
	FUZZ_CHECK(T(e->id) && T(e->type) && T(e->object) && T(e->object_id) &&
	    T(e->subscription) && T(e->customer));
}

#define SECRETS "whsec_one, whsec_two"
#define NOW 1764680000

static void
signature(const char *in, size_t len)
{
	const char *nl = memchr(in, '\n', len);
	size_t hlen = nl ? (size_t)(nl - in) : len, blen = nl ? len - hlen - 1 : 0;
	char *header = malloc(hlen + 1), *signed_hdr = malloc(hlen + 128);
	const char *body = nl ? nl + 1 : "";
	unsigned char mac[PUR_SHA256_LEN];
	struct pur_hmac h;
	int rc;
	size_t i, n;

	memcpy(header, in, hlen);
	header[hlen] = '\0';
	rc = pur_stripe_signature_ok(header, body, blen, SECRETS, NOW, 300);
	FUZZ_CHECK(rc == 0 || rc == -1);
	/* The body signed with the second secret, our v1 put before whatever
	 * the input's header holds (with no t= of its own to clash). */
	pur_hmac_init(&h, "whsec_two", 9);
	pur_hmac_update(&h, "1764680010.", 11);
	pur_hmac_update(&h, body, blen);
	pur_hmac_final(&h, mac);
	n = (size_t)snprintf(signed_hdr, 128, "t=1764680010,v1=");
	for (i = 0; i < PUR_SHA256_LEN; i++)
		n += (size_t)snprintf(signed_hdr + n, 3, "%02x", mac[i]);
	if (memchr(header, '\0', hlen) == NULL && strstr(header, "t=") == NULL &&
	    strlen(header) < 2048) {
		signed_hdr[n++] = ',';
		memcpy(signed_hdr + n, header, hlen + 1);
		FUZZ_CHECK(pur_stripe_signature_ok(signed_hdr, body, blen, SECRETS, NOW, 300) == 0);
		if (blen > 0) {
			char *other = malloc(blen);
			memcpy(other, body, blen);
			other[0] ^= 1;
			FUZZ_CHECK(pur_stripe_signature_ok(signed_hdr, other, blen, SECRETS, NOW, 300) ==
			    -1);
			free(other);
		}
	}
	free(signed_hdr);
	free(header);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char sel[] = "csieqlvVg";
	const char *which;
	char *body, pm[PUR_STRIPE_ID];
	struct pur_stripe_sub sub;
	struct pur_stripe_sub_page page;
	struct pur_stripe_invoice inv;
	struct pur_stripe_error err;
	struct pur_stripe_event ev;
	struct pur_stripe_event_page evp;
	size_t len, i;
	int found;

	if (size == 0)
		return 0;
	which = strchr(sel, data[0]);
	if (data[0] == '\0' || which == NULL)
		which = sel + data[0] % 9;
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
	case 'v':
		if (pur_stripe_parse_event(body, len, &ev) == 0)
			event_ok(&ev);
		break;
	case 'V':
		if (pur_stripe_parse_event_list(body, len, &evp) != 0) {
			FUZZ_CHECK(evp.n == 0 && evp.v == NULL);
			break;
		}
		FUZZ_CHECK(B(evp.has_more) && (evp.n == 0 || evp.v != NULL));
		for (i = 0; i < evp.n; i++)
			event_ok(&evp.v[i]);
		pur_stripe_event_page_free(&evp);
		break;
	case 'g':
		signature(body, len);
		break;
	}
	free(body);
	return 0;
}
