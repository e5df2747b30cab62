/*
 * test-flow.c -- the purchase flow (lib/purchase.c) in C, judged in
 * milliseconds: a real SQLite file in a temporary directory, the real
 * library, and scripted providers (tests/fake.h) answering with the vendors'
 * shapes. Each case scripts Stripe and Twilio, buys, and checks the answer,
 * the exact sequence of provider calls, the rows, and what recovery does.
 *
 * Time: cases that need the lease to run out set PURCHASE_TEST_CLOCK_OFFSET,
 * which only builds with --enable-fault-injection honour (else skipped).
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctx.h"
#include "fake.h"
#include "fixture.h"
#include "store.h"
#include "tap.h"

#define NUM "+14155550100"
#define NUM2 "+14155550101"

static const char CUSTOMER[] =
    "{\"id\":\"cus_1\",\"object\":\"customer\",\"default_source\":null,"
    "\"invoice_settings\":{\"default_payment_method\":\"pm_1\"}}";
static const char CUSTOMER_NONE[] =
    "{\"id\":\"cus_1\",\"object\":\"customer\",\"default_source\":null,"
    "\"invoice_settings\":{\"default_payment_method\":null}}";
static const char CUSTOMER_SOURCE[] =
    "{\"id\":\"cus_1\",\"object\":\"customer\",\"default_source\":\"card_7\","
    "\"invoice_settings\":{\"default_payment_method\":null}}";
static const char SUB[] =
    "{\"id\":\"sub_1\",\"object\":\"subscription\",\"status\":\"incomplete\","
    "\"latest_invoice\":\"in_1\",\"current_period_end\":1800000000,"
    "\"cancel_at_period_end\":false,\"metadata\":{\"purchase_id\":\"1\"}}";
static const char SUB_CANCELED[] =
    "{\"id\":\"sub_1\",\"object\":\"subscription\",\"status\":\"canceled\","
    "\"latest_invoice\":\"in_1\",\"current_period_end\":1800000000,"
    "\"cancel_at_period_end\":false,\"metadata\":{\"purchase_id\":\"1\"}}";
static const char SUB_EXPIRED[] =
    "{\"id\":\"sub_1\",\"object\":\"subscription\",\"status\":\"incomplete_expired\","
    "\"latest_invoice\":\"in_1\",\"current_period_end\":1800000000,"
    "\"cancel_at_period_end\":false,\"metadata\":{\"purchase_id\":\"1\"}}";
static const char INV_PAID[] =
    "{\"id\":\"in_1\",\"object\":\"invoice\",\"status\":\"paid\",\"paid\":true}";
static const char INV_VOID[] =
    "{\"id\":\"in_1\",\"object\":\"invoice\",\"status\":\"void\",\"paid\":false}";
static const char STRIPE_DECLINED[] =
    "{\"error\":{\"type\":\"card_error\",\"code\":\"card_declined\","
    "\"decline_code\":\"generic_decline\",\"message\":\"Your card was declined.\"}}";
static const char STRIPE_NOT_OPEN[] =
    "{\"error\":{\"type\":\"invalid_request_error\",\"message\":\"You can only void an open "
    "invoice.\"}}";
static const char AVAILABLE[] =
    "{\"available_phone_numbers\":[{\"phone_number\":\"" NUM "\",\"friendly_name\":"
    "\"(415) 555-0100\",\"iso_country\":\"US\",\"address_requirements\":\"none\","
    "\"capabilities\":{\"SMS\":true}},{\"phone_number\":\"" NUM2 "\",\"friendly_name\":"
    "\"(415) 555-0101\",\"iso_country\":\"US\",\"address_requirements\":\"none\","
    "\"capabilities\":{\"SMS\":true}}]}";
static const char BOUGHT[] = "{\"sid\":\"PN11111111111111111111111111111111\",\"phone_number\":"
                             "\"" NUM "\"}";
static const char OWNED[] = "{\"incoming_phone_numbers\":[{\"sid\":"
                            "\"PN11111111111111111111111111111111\",\"phone_number\":\"" NUM
                            "\"}],\"next_page_uri\":null}";
static const char OWNED_NONE[] = "{\"incoming_phone_numbers\":[],\"next_page_uri\":null}";
static const char TAKEN[] = "{\"code\":21422,\"message\":\"PhoneNumber not available\","
                            "\"more_info\":\"https://www.twilio.com/docs/errors/21422\","
                            "\"status\":400}";

/* A search that offers NUM and NUM2 to the account. */
static void
offer(void)
{
	struct purchase_offers o = {0, NULL};
	struct purchase_detail d = {""};

	fake_reset(&f);
	fake_on(&f, "GET", "/AvailablePhoneNumbers/US/Local.json", 200, AVAILABLE, 1);
	if (purchase_search(ctx, account, "limit=2", &o, &d) != PURCHASE_OK || o.n != 2)
		diag("offer: search failed: %s", d.text);
	purchase_offers_free(&o);
	fake_reset(&f);
}

/* Buys number with key (NULL: none); returns the status (0: an error
 * value, in *err) and leaves the body in body. */
static int
buy(const char *number, const char *key, char *body, size_t n, enum purchase_err *err)
{
	struct purchase_reply r = {0, NULL, 0};
	struct purchase_detail d = {""};
	char req[64];
	int status;

	snprintf(req, sizeof(req), "{\"phone_number\":\"%s\"}", number);
	*err = purchase_buy(ctx, account, req, strlen(req), key, &r, &d);
	body[0] = '\0';
	if (*err != PURCHASE_OK)
		return 0;
	snprintf(body, n, "%s", r.body);
	status = r.status;
	purchase_reply_free(&r);
	return status;
}

static void
recover(int *done, int *left)
{
	struct purchase_detail d = {""};

	if (purchase_recover(ctx, done, left, &d) != PURCHASE_OK)
		diag("recover: %s", d.text);
}

static void
later(const char *seconds)
{
#ifdef PURCHASE_FAULT_INJECTION
	setenv("PURCHASE_TEST_CLOCK_OFFSET", seconds, 1);
#else
	(void)seconds;
#endif
}

static void
test_happy(void)
{
	enum purchase_err err;
	char body[1024], want[512];
	const char *nonce;

	offer();
	fake_on(&f, "GET", "/v1/customers/cus_1", 200, CUSTOMER, 1);
	fake_on(&f, "POST", "/v1/subscriptions", 200, SUB, 1);
	fake_on(&f, "POST", "/IncomingPhoneNumbers.json", 201, BOUGHT, 1);
	fake_on(&f, "POST", "/v1/invoices/in_1/pay", 200, INV_PAID, 1);
	is_int(buy(NUM, "k1", body, sizeof(body), &err), 201, "happy: 201");
	snprintf(want, sizeof(want), "{\"message\":\"Phone number purchased successfully.\",\"data\":"
	    "{\"id\":%s,\"phone_number\":\"" NUM "\",\"country_code\":\"US\",\"type\":\"normal\","
	    "\"sms_capable\":true}}", val("select id from purchases where phone_number='" NUM "'"));
	is_str(body, want, "happy: the body");
	is_str(f.calls, "GET cus_1,POST subscriptions,POST IncomingPhoneNumbers.json,POST pay",
	    "happy: customer, subscribe, buy, pay -- in that order, nothing else");
	nonce = val("select nonce from purchases where phone_number='" NUM "'");
	is_int((intmax_t)strlen(nonce), 32, "happy: a 128-bit nonce is stored");
	{
		char key[128];
		snprintf(key, sizeof(key), "purchase-%s-subscribe", nonce);
		is_str(f.log[1].idem, key, "happy: the subscribe key names the nonce");
		snprintf(key, sizeof(key), "purchase-%s-pay", nonce);
		is_str(f.log[3].idem, key, "happy: the pay key names the nonce");
		ok(strstr(f.log[1].form, "metadata%5Bpurchase_nonce%5D=") != NULL,
		    "happy: the nonce is in the subscription's metadata");
	}
	is_str(val("select state from purchases where phone_number='" NUM "'"), "complete",
	    "happy: purchase complete");
	is_str(val("select status || ' ' || number_sid from numbers where phone_number='" NUM "'"),
	    "active PN11111111111111111111111111111111", "happy: the number row");
	/* A replay: the same bytes, no provider call. */
	fake_reset(&f);
	{
		char again[1024];
		is_int(buy(NUM, "k1", again, sizeof(again), &err), 201, "replay: 201");
		is_str(again, body, "replay: byte for byte");
		is_int(f.nlog, 0, "replay: no provider call");
	}
}

static void
test_carrier_taken(void)
{
	enum purchase_err err;
	char body[1024];

	offer();
	fake_on(&f, "GET", "/v1/customers/cus_1", 200, CUSTOMER, 1);
	fake_on(&f, "POST", "/v1/subscriptions", 200, SUB, 1);
	fake_on(&f, "POST", "/IncomingPhoneNumbers.json", 400, TAKEN, 1);
	fake_on(&f, "POST", "/v1/invoices/in_1/void", 200, INV_VOID, 1);
	fake_on(&f, "GET", "/IncomingPhoneNumbers.json?PhoneNumber=", 200, OWNED_NONE, 1);
	fake_on(&f, "DELETE", "/v1/subscriptions/sub_1", 200, SUB_CANCELED, 1);
	is_int(buy(NUM2, NULL, body, sizeof(body), &err), 400, "taken: 400");
	ok(strstr(body, "not available for purchase") != NULL && strstr(body, "\"message\":") != NULL,
	    "taken: not available, with error, message and code");
	is_str(f.calls, "GET cus_1,POST subscriptions,POST IncomingPhoneNumbers.json,POST void,"
	    "GET IncomingPhoneNumbers.json,DELETE sub_1",
	    "taken: the invoice is voided before anything is undone");
	is_str(val("select state || ' ' || outcome from purchases where phone_number='" NUM2 "'"),
	    "failed not_available", "taken: failed not_available");
}

static void
test_declined(void)
{
	enum purchase_err err;
	char body[1024];

	/* NUM2 again: failed purchases free the number. */
	offer();
	fake_on(&f, "GET", "/v1/customers/cus_1", 200, CUSTOMER, 1);
	fake_on(&f, "POST", "/v1/subscriptions", 200, SUB, 1);
	fake_on(&f, "POST", "/IncomingPhoneNumbers.json", 201, BOUGHT, 1);
	fake_on(&f, "POST", "/v1/invoices/in_1/pay", 402, STRIPE_DECLINED, -1);
	fake_on(&f, "POST", "/v1/invoices/in_1/void", 200, INV_VOID, 1);
	fake_on(&f, "DELETE", "/IncomingPhoneNumbers/PN", 204, "", 1);
	fake_on(&f, "DELETE", "/v1/subscriptions/sub_1", 200, SUB_CANCELED, 1);
	is_int(buy(NUM2, "kd", body, sizeof(body), &err), 402, "declined: 402");
	ok(strstr(body, "Payment failed.") != NULL, "declined: payment failed");
	is_str(f.calls, "GET cus_1,POST subscriptions,POST IncomingPhoneNumbers.json,POST pay,"
	    "POST void,DELETE PN11111111111111111111111111111111.json,DELETE sub_1",
	    "declined: void, then release, then cancel");
	is_str(val("select status from idempotency where key='kd'"), "402", "declined: 402 stored");
}

static void
test_no_payment_method(void)
{
	enum purchase_err err;
	char body[1024];

	char before[32];

	offer();
	snprintf(before, sizeof(before), "%s", val("select count(*) from purchases"));
	fake_on(&f, "GET", "/v1/customers/cus_1", 200, CUSTOMER_NONE, 1);
	is_int(buy(NUM2, "knpm", body, sizeof(body), &err), 0, "no payment method: an error value");
	is_int(err, PURCHASE_ENO_PAYMENT_METHOD, "no payment method: ENO_PAYMENT_METHOD");
	is_str(val("select count(*) from purchases"), before,
	    "no payment method: the claim is taken back (no row left, DESIGN §3)");
	is_str(val("select count(*) from idempotency where key='knpm'"), "0",
	    "no payment method: the key is forgotten");
	is_str(f.calls, "GET cus_1", "no payment method: one provider call, a read");
}

static void
test_default_source(void)
{
	enum purchase_err err;
	char body[1024];

	offer();
	fake_on(&f, "GET", "/v1/customers/cus_1", 200, CUSTOMER_SOURCE, 1);
	fake_on(&f, "POST", "/v1/subscriptions", 200, SUB, 1);
	fake_on(&f, "POST", "/IncomingPhoneNumbers.json", 201,
	    "{\"sid\":\"PN22222222222222222222222222222222\",\"phone_number\":\"" NUM2 "\"}", 1);
	fake_on(&f, "POST", "/v1/invoices/in_1/pay", 200, INV_PAID, 1);
	is_int(buy(NUM2, NULL, body, sizeof(body), &err), 201,
	    "default_source only: bought (Stripe bills default_source)");
	ok(strstr(f.log[1].form, "default_source=card_7") != NULL &&
	        strstr(f.log[1].form, "default_payment_method") == NULL,
	    "default_source only: the subscription is pinned to it");
}

#ifdef PURCHASE_FAULT_INJECTION
/* The pay of a worker that timed out landed after all: recovery's void is
 * refused (the invoice is paid) and the purchase goes forward -- never a
 * charge without a number. */
static void
test_recover_paid_after_all(void)
{
	enum purchase_err err;
	char body[1024];
	int done = 0, left = 0;

	sql("delete from numbers; delete from idempotency; delete from purchases;");
	offer();
	fake_on(&f, "GET", "/v1/customers/cus_1", 200, CUSTOMER, 1);
	fake_on(&f, "POST", "/v1/subscriptions", 200, SUB, 1);
	fake_on(&f, "POST", "/IncomingPhoneNumbers.json", 201, BOUGHT, 1);
	fake_on_outcome(&f, "POST", "/v1/invoices/in_1/pay", PUR_HTTP_UNKNOWN, 0, NULL, -1);
	is_int(buy(NUM, "kp", body, sizeof(body), &err), 0, "pay unknown: left for recovery");
	is_int(err, PURCHASE_EPROVIDER, "pay unknown: EPROVIDER (500, not stored)");
	is_str(val("select state from purchases where phone_number='" NUM "'"), "provisioned",
	    "pay unknown: provisioned");

	fake_reset(&f);
	fake_on(&f, "POST", "/v1/invoices/in_1/void", 400, STRIPE_NOT_OPEN, 1);
	fake_on(&f, "GET", "/v1/invoices/in_1", 200, INV_PAID, 1);
	later("600");
	recover(&done, &left);
	later("0");
	is_int(done, 1, "recovery: finished");
	is_int(left, 0, "recovery: nothing left");
	is_str(f.calls, "POST void,GET in_1", "recovery: void refused, the invoice read: paid");
	is_str(val("select state from purchases where phone_number='" NUM "'"), "complete",
	    "recovery: the paid purchase went forward");
	is_str(val("select status from idempotency where key='kp'"), "201",
	    "recovery: the client's retry will replay 201");
	is_str(val("select count(*) from numbers where phone_number='" NUM "'"), "1",
	    "recovery: the number row");
}

/* A buy in flight when its worker died: the number is not at the carrier
 * yet. Recovery must not conclude "not bought" until what was sent has had
 * time to land; then it finds the number (landed late) and releases it. */
static void
test_recover_buy_in_flight(void)
{
	enum purchase_err err;
	char body[1024];
	int done = 0, left = 0;

	sql("delete from numbers; delete from idempotency; delete from purchases;");
	offer();
	fake_on(&f, "GET", "/v1/customers/cus_1", 200, CUSTOMER, 1);
	fake_on(&f, "POST", "/v1/subscriptions", 200, SUB, 1);
	fake_on_outcome(&f, "POST", "/IncomingPhoneNumbers.json", PUR_HTTP_UNKNOWN, 0, NULL, -1);
	fake_on(&f, "GET", "/IncomingPhoneNumbers.json?PhoneNumber=", 200, OWNED_NONE, -1);
	is_int(buy(NUM, NULL, body, sizeof(body), &err), 0, "buy unknown: left");
	ok(atoll(val("select settle_at - strftime('%s','now') from purchases")) >= 3,
	    "buy unknown: settle_at is set ahead (a buy may still land)");

	/* Just past the lease, within the settle time: looked up, not there,
	 * and left. */
	fake_reset(&f);
	fake_on(&f, "POST", "/v1/invoices/in_1/void", 200, INV_VOID, 1);
	fake_on(&f, "GET", "/IncomingPhoneNumbers.json?PhoneNumber=", 200, OWNED_NONE, -1);
	sql("update purchases set lease_until = strftime('%s','now'), settle_at = strftime('%s','now') + 3");
	later("1");
	recover(&done, &left);
	is_int(done, 0, "within settle: not finished");
	is_int(left, 1, "within settle: left for later (purchasectl recover exits 3)");
	is_int(fake_count(&f, "DELETE", "/v1/subscriptions/"), 0,
	    "within settle: nothing undone on a lookup that may be too early");
	is_int(fake_count(&f, "POST", "/void"), 1, "within settle: the invoice was voided");
	is_str(val("select state from purchases"), "compensating",
	    "within settle: decided (the money settled), the undo waits");

	/* The buy landed meanwhile: found, released. */
	fake_reset(&f);
	fake_on(&f, "GET", "/IncomingPhoneNumbers.json?PhoneNumber=", 200, OWNED, 1);
	fake_on(&f, "DELETE", "/IncomingPhoneNumbers/PN", 204, "", 1);
	fake_on(&f, "DELETE", "/v1/subscriptions/sub_1", 200, SUB_EXPIRED, 1);
	later("600");
	recover(&done, &left);
	later("0");
	is_int(done, 1, "after settle: finished");
	is_str(f.calls, "GET IncomingPhoneNumbers.json,DELETE "
	    "PN11111111111111111111111111111111.json,DELETE sub_1",
	    "after settle: find (landed late), release, cancel");
	is_str(val("select state from purchases"), "failed",
	    "after settle: failed (an incomplete_expired subscription counts as ended)");
}

/* An undo that waits on a provider: decided, not done; recover says left. */
static void
test_recover_counts_left(void)
{
	enum purchase_err err;
	char body[1024];
	int done = 0, left = 0;

	sql("delete from numbers; delete from idempotency; delete from purchases;");
	offer();
	fake_on(&f, "GET", "/v1/customers/cus_1", 200, CUSTOMER, 1);
	fake_on(&f, "POST", "/v1/subscriptions", 200, SUB, 1);
	fake_on(&f, "POST", "/IncomingPhoneNumbers.json", 201, BOUGHT, 1);
	fake_on(&f, "POST", "/v1/invoices/in_1/pay", 402, STRIPE_DECLINED, -1);
	fake_on(&f, "POST", "/v1/invoices/in_1/void", 200, INV_VOID, -1);
	fake_on(&f, "DELETE", "/IncomingPhoneNumbers/PN", 500, "{\"code\":20500,\"status\":500}", -1);
	is_int(buy(NUM, "kl", body, sizeof(body), &err), 402, "undo pending: the client has its 402");
	is_str(val("select state from purchases"), "compensating", "undo pending: compensating");
	later("600");
	recover(&done, &left);
	later("0");
	is_int(done, 0, "undo pending: recover finished nothing");
	is_int(left, 1, "undo pending: recover counts it as left (exit 3)");
}
#endif

int
main(void)
{
	if (fixture_setup("test-flow") != 0) {
		printf("Bail out! cannot set up\n");
		return 1;
	}
	pur_http_set_hook(ctx->http, fake_hook, &f);
	test_happy();
	test_carrier_taken();
	test_declined();
	test_no_payment_method();
	test_default_source();
#ifdef PURCHASE_FAULT_INJECTION
	test_recover_paid_after_all();
	test_recover_buy_in_flight();
	test_recover_counts_left();
#else
	diag("recovery cases need --enable-fault-injection (the test clock)");
#endif
	fixture_teardown();
	return done_testing();
}
