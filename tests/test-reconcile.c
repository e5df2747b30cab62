/*
 * test-reconcile.c -- the judge of the other tests, judged (issue 9, item
 * 3): purchase_reconcile over provider lists of several pages, cursors that
 * repeat, and subscriptions of another database; our rows in a real SQLite
 * file, the providers scripted (tests/fake.h).
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "fixture.h"

/* A complete purchase of number e164 (id n) with its number row. */
static void
owned(int n, const char *e164)
{
	char q[1024];

	snprintf(q, sizeof(q),
	    "insert into purchases (id, account_id, nonce, phone_number, country_code, type, "
	    "price_cents, stripe_price_id, sms_capable, stripe_customer, payment_method, state, "
	    "open, live, subscription_id, invoice_id, number_sid, created_at, updated_at) values "
	    "(%d, %lld, '%032d', '%s', 'US', 'local', 115, 'price_x', 1, 'cus_1', 'pm_1', "
	    "'complete', 0, 1, 'sub_%d', 'in_%d', 'PN%032d', 1, 1); insert into numbers (id, account_id, purchase_id, "
	    "phone_number, country_code, type, sms_capable, price_cents, status, subscription_id, "
	    "number_sid, created_at, updated_at) values (%d, %lld, %d, '%s', 'US', 'local', 1, 115, "
	    "'active', 'sub_%d', 'PN%032d', 1, 1);",
	    n, (long long)account, n, e164, n, n, n, n, (long long)account, n, e164, n, n);
	sql(q);
}

#define SUB(n, nonce) \
	"{\"id\":\"sub_" #n "\",\"object\":\"subscription\",\"status\":\"active\"," \
	"\"latest_invoice\":{\"id\":\"in_" #n "\",\"object\":\"invoice\",\"status\":\"paid\"," \
	"\"paid\":true},\"current_period_end\":1800000000,\"metadata\":{\"purchase_id\":\"" #n \
	"\",\"purchase_nonce\":\"" nonce "\"}}"
#define NONCE(n) "000000000000000000000000000000" n
#define NUMBER(n, e164) "{\"sid\":\"PN000000000000000000000000000000" n "\",\"phone_number\":\"" e164 "\"}"
#define TW "/2010-04-01/Accounts/AC00000000000000000000000000000000/IncomingPhoneNumbers.json"

static int ndiff;
static char diffs[2048];

static void
on_diff(void *arg, const char *kind, const char *detail)
{
	size_t n = strlen(diffs);

	(void)arg;
	snprintf(diffs + n, sizeof(diffs) - n, "%s%s", n ? "," : "", kind);
	diag("%s: %s", kind, detail);
}

static enum purchase_err
run(void)
{
	struct purchase_detail d = {""};
	enum purchase_err err;

	diffs[0] = '\0';
	err = purchase_reconcile(ctx, on_diff, NULL, &ndiff, &d);
	if (err != PURCHASE_OK)
		diag("reconcile: %s: %s", purchase_strerror(err), d.text);
	return err;
}

static const char STRIPE_P1[] =
    "{\"object\":\"list\",\"url\":\"/v1/subscriptions\",\"has_more\":true,\"data\":["
    SUB(3, NONCE("03")) "," SUB(2, NONCE("02")) "]}";
static const char STRIPE_P2[] =
    "{\"object\":\"list\",\"url\":\"/v1/subscriptions\",\"has_more\":false,\"data\":["
    SUB(1, NONCE("01")) "]}";
static const char TW_P1[] = "{\"incoming_phone_numbers\":[" NUMBER("01", "+14155550101")
    "],\"next_page_uri\":\"" TW "?PageSize=1&Page=1&PageToken=PA1\"}";
static const char TW_P2[] = "{\"incoming_phone_numbers\":[" NUMBER("02", "+14155550102")
    "],\"next_page_uri\":\"" TW "?PageSize=1&Page=2&PageToken=PA2\"}";
static const char TW_P3[] = "{\"incoming_phone_numbers\":[" NUMBER("03", "+14155550103")
    "],\"next_page_uri\":null}";
static const char TW_LOOP[] = "{\"incoming_phone_numbers\":[" NUMBER("02", "+14155550102")
    "],\"next_page_uri\":\"" TW "?PageSize=1&Page=1&PageToken=PA1\"}";

static void
script_stripe_pages(void)
{
	fake_on(&f, "GET", "starting_after=sub_2", 200, STRIPE_P2, 1);
	fake_on(&f, "GET", "/v1/subscriptions?", 200, STRIPE_P1, 1);
}

int
main(void)
{
	if (fixture_setup("test-reconcile") != 0) {
		printf("Bail out! cannot set up\n");
		return 1;
	}
	pur_http_set_hook(ctx->http, fake_hook, &f);
	owned(1, "+14155550101");
	owned(2, "+14155550102");
	owned(3, "+14155550103");

	/* Every number on its own Twilio page, subscriptions on two pages. */
	fake_reset(&f);
	script_stripe_pages();
	fake_on(&f, "GET", "PageToken=PA2", 200, TW_P3, 1);
	fake_on(&f, "GET", "PageToken=PA1", 200, TW_P2, 1);
	fake_on(&f, "GET", "IncomingPhoneNumbers.json?PageSize=250", 200, TW_P1, 1);
	is_int(run(), PURCHASE_OK, "pages: reconcile runs");
	is_int(ndiff, 0, "pages: no difference when the numbers span three Twilio pages");
	is_int(fake_count(&f, "GET", "IncomingPhoneNumbers.json"), 3, "pages: all three pages read");
	is_int(fake_count(&f, "GET", "/v1/subscriptions"), 2, "pages: both Stripe pages read");

	/* Twilio hands out a cursor again: an error, never followed for ever. */
	fake_reset(&f);
	script_stripe_pages();
	fake_on(&f, "GET", "PageToken=PA1", 200, TW_LOOP, -1);
	fake_on(&f, "GET", "IncomingPhoneNumbers.json?PageSize=250", 200, TW_P1, 1);
	is_int(run(), PURCHASE_EPROVIDER, "twilio loop: EPROVIDER");
	ok(f.nlog < 10, "twilio loop: stopped after %d requests", f.nlog);

	/* Stripe says has_more with the same page again. */
	fake_reset(&f);
	fake_on(&f, "GET", "/v1/subscriptions?", 200, STRIPE_P1, -1);
	is_int(run(), PURCHASE_EPROVIDER, "stripe loop: EPROVIDER");
	ok(f.nlog < 10, "stripe loop: stopped after %d requests", f.nlog);

	/* has_more with an empty page: nothing to page from. */
	fake_reset(&f);
	fake_on(&f, "GET", "/v1/subscriptions?", 200,
	    "{\"object\":\"list\",\"has_more\":true,\"data\":[]}", -1);
	is_int(run(), PURCHASE_EPROVIDER, "stripe: has_more on an empty page is an error");

	/* A missing number is still found, even on page 2 of 3. */
	fake_reset(&f);
	script_stripe_pages();
	fake_on(&f, "GET", "PageToken=PA2", 200, TW_P3, 1);
	fake_on(&f, "GET", "PageToken=PA1", 200,
	    "{\"incoming_phone_numbers\":[],\"next_page_uri\":\"" TW "?PageSize=1&Page=2&PageToken=PA2\"}",
	    1);
	fake_on(&f, "GET", "IncomingPhoneNumbers.json?PageSize=250", 200, TW_P1, 1);
	is_int(run(), PURCHASE_OK, "gap: reconcile runs");
	is_str(diffs, "paid_without_number", "gap: the one number not held is reported, once");

	/* Our purchase 4 failed; another database's purchase 4 (another
	 * nonce) is paid and live on the same Stripe account: not ours, no
	 * difference. (Matched on the row id alone it would be reported as
	 * paid_without_number.) */
	sql("insert into purchases (id, account_id, nonce, phone_number, country_code, type, "
	    "price_cents, stripe_price_id, sms_capable, stripe_customer, payment_method, state, "
	    "outcome, open, live, created_at, updated_at) values (4, 1, '" NONCE("04") "', "
	    "'+14155550104', 'US', 'local', 115, 'price_x', 1, 'cus_1', 'pm_1', 'failed', "
	    "'declined', 0, 0, 1, 1)");
	fake_reset(&f);
	fake_on(&f, "GET", "/v1/subscriptions?", 200,
	    "{\"object\":\"list\",\"has_more\":false,\"data\":[" SUB(4, NONCE("99")) ","
	    SUB(3, NONCE("03")) "," SUB(2, NONCE("02")) "," SUB(1, NONCE("01")) "]}", 1);
	fake_on(&f, "GET", "PageToken=PA2", 200, TW_P3, 1);
	fake_on(&f, "GET", "PageToken=PA1", 200, TW_P2, 1);
	fake_on(&f, "GET", "IncomingPhoneNumbers.json?PageSize=250", 200, TW_P1, 1);
	is_int(run(), PURCHASE_OK, "foreign: reconcile runs");
	is_str(diffs, "", "foreign: another database's subscription of the same id is not ours");
	fake_reset(&f);
	fake_on(&f, "GET", "/v1/subscriptions?", 200,
	    "{\"object\":\"list\",\"has_more\":false,\"data\":[" SUB(4, NONCE("04")) ","
	    SUB(3, NONCE("03")) "," SUB(2, NONCE("02")) "," SUB(1, NONCE("01")) "]}", 1);
	fake_on(&f, "GET", "PageToken=PA2", 200, TW_P3, 1);
	fake_on(&f, "GET", "PageToken=PA1", 200, TW_P2, 1);
	fake_on(&f, "GET", "IncomingPhoneNumbers.json?PageSize=250", 200, TW_P1, 1);
	is_int(run(), PURCHASE_OK, "ours: reconcile runs");
	is_str(diffs, "paid_without_number", "ours: the same, with our nonce, is reported");
	fixture_teardown();
	return done_testing();
}
