/*
 * fuzz-twilio.c -- libFuzzer target: every Twilio reply parser of
 * lib/twilio.h. The first byte picks the parser ('a' available numbers,
 * 'i' incoming number, 'l' incoming list, looked up for +14155551234,
 * 'e' error, 'o' owned-numbers page; any other byte: its value modulo 5),
 * the rest is the reply body, in a buffer of exactly its size.
 *
 * One target for the vendor, as for Stripe (fuzz-stripe.c): one JSON
 * reader under all of them, one corpus, one FUZZ_TIME of CI.
 *
 * Properties: an offered number is E.164 (it re-parses to itself) with a
 * known address requirement and terminated strings, at most 1000 of them;
 * a bought number's sid starts "PN"; a next page is a path under
 * /2010-04-01/Accounts/ without ".."; failures leave nothing to free.
 */
#include "autoconfig.h"

#include "e164.h"
#include "fuzz.h"
#include "twilio.h"

#define T(a) fuzz_terminated((a), sizeof(a))

static const char E164[] = "+14155551234";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char sel[] = "ailoe";
	const char *which;
	char *body, sid[PUR_TWILIO_SID], again[PUR_E164_MAX];
	struct pur_twilio_avail_list al;
	struct pur_twilio_owned_page op;
	size_t len, i;
	long code;

	if (size == 0)
		return 0;
	which = strchr(sel, data[0]);
	if (data[0] == '\0' || which == NULL)
		which = sel + data[0] % 5;
	len = size - 1;
	body = fuzz_exact(data + 1, len);
	memset(sid, 'x', sizeof(sid));
	switch (*which) {
	case 'a':
		if (pur_twilio_parse_available(body, len, &al) != 0) {
			FUZZ_CHECK(al.n == 0 && al.v == NULL);
			break;
		}
		FUZZ_CHECK(al.n <= 1000 && (al.n == 0 || al.v != NULL));
		for (i = 0; i < al.n; i++) {
			const struct pur_twilio_avail *a = &al.v[i];
			FUZZ_CHECK(T(a->phone_number) && T(a->friendly_name) && T(a->iso_country) &&
			    T(a->address_requirements));
			FUZZ_CHECK(pur_e164_parse(a->phone_number, strlen(a->phone_number), again) == 0 &&
			    strcmp(again, a->phone_number) == 0);
			FUZZ_CHECK(strcmp(a->address_requirements, "none") == 0 ||
			    strcmp(a->address_requirements, "local") == 0 ||
			    strcmp(a->address_requirements, "foreign") == 0 ||
			    strcmp(a->address_requirements, "any") == 0);
			FUZZ_CHECK(a->sms == 0 || a->sms == 1);
		}
		pur_twilio_avail_list_free(&al);
		break;
	case 'i':
		if (pur_twilio_parse_incoming(body, len, sid) == 0)
			FUZZ_CHECK(T(sid) && strncmp(sid, "PN", 2) == 0);
		break;
	case 'l':
		if (pur_twilio_parse_incoming_list(body, len, E164, sid) == 0)
			FUZZ_CHECK(T(sid));
		break;
	case 'o':
		if (pur_twilio_parse_owned_page(body, len, &op) != 0) {
			FUZZ_CHECK(op.n == 0 && op.v == NULL);
			break;
		}
		FUZZ_CHECK(op.n == 0 || op.v != NULL);
		for (i = 0; i < op.n; i++)
			FUZZ_CHECK(T(op.v[i].sid) && T(op.v[i].phone_number));
		FUZZ_CHECK(T(op.next));
		FUZZ_CHECK(op.next[0] == '\0' ||
		    (strncmp(op.next, "/2010-04-01/Accounts/", 21) == 0 && strstr(op.next, "..") == NULL));
		pur_twilio_owned_page_free(&op);
		break;
	case 'e':
		code = -1;
		(void)pur_twilio_parse_error(body, len, &code);
		break;
	}
	free(body);
	return 0;
}
