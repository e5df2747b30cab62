/*
 * test-stripe.c -- unit tests of lib/stripe.c: the pure request builder and
 * reply parsers, then every call through the HTTP test hook: the exact
 * request (method, URL, key, Idempotency-Key, form, Stripe-Version) and the
 * classification of each kind of reply.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "sha256.h"
#include "stripe.h"
#include "tap.h"
#include "hook.h"

#define SUB_JSON(status, inv)                                                          \
	"{\"id\":\"sub_1\",\"object\":\"subscription\",\"status\":\"" status "\","     \
	"\"latest_invoice\":" inv ",\"metadata\":{\"purchase_id\":\"42\"},"              \
	"\"current_period_end\":1700000000,\"cancel_at_period_end\":false}"

static const char sub_ok[] = SUB_JSON("incomplete", "\"in_1\"");
static const char inv_paid[] = "{\"id\":\"in_1\",\"object\":\"invoice\",\"status\":\"paid\","
                               "\"paid\":true}";
static const char inv_open[] = "{\"id\":\"in_1\",\"object\":\"invoice\",\"status\":\"open\","
                               "\"paid\":false}";
static const char err_card[] =
    "{\"error\":{\"type\":\"card_error\",\"code\":\"card_declined\","
    "\"decline_code\":\"insufficient_funds\",\"message\":\"Your card has insufficient funds.\"}}";
static const char err_missing[] =
    "{\"error\":{\"type\":\"invalid_request_error\",\"code\":\"resource_missing\","
    "\"message\":\"No such customer: 'cus_x'\",\"param\":\"customer\"}}";
static const char err_invalid[] =
    "{\"error\":{\"type\":\"invalid_request_error\",\"code\":\"parameter_invalid_empty\","
    "\"message\":\"...\"}}";
static const char err_rate[] =
    "{\"error\":{\"type\":\"invalid_request_error\",\"code\":\"rate_limit\"}}";
static const char err_api[] = "{\"error\":{\"type\":\"api_error\",\"message\":\"oops\"}}";

/* A JSON string of n 'i' characters prefixed with "x_", as "\"x_iii...\"". */
static char *
long_id(size_t n)
{
	char *s = malloc(n + 5);
	if (s == NULL)
		abort();
	s[0] = '"';
	memset(s + 1, 'i', n);
	s[n + 1] = '"';
	s[n + 2] = '\0';
	return s;
}

/* A purchase made before schema 2 (keys name the row id), one with a
 * nonce, one with a 64-bit id. */
static const struct pur_stripe_ref R42 = {42, NULL};
static const struct pur_stripe_ref RN = {42, "0123456789abcdef0123456789abcdef"};
static const struct pur_stripe_ref RBIG = {INT64_C(9007199254740993), ""};

static void
test_build(void)
{
	struct pur_buf b;
	char key[128];

	pur_buf_init(&b, 4096);
	is_int(pur_stripe_build_subscription(&b, "cus_1", "price_x", "pm_1", &R42), 0,
	    "build subscription");
	is_str(b.data,
	    "customer=cus_1&items%5B0%5D%5Bprice%5D=price_x&default_payment_method=pm_1"
	    "&payment_behavior=default_incomplete&metadata%5Bpurchase_id%5D=42",
	    "subscription form body exactly");
	pur_buf_free(&b);

	pur_buf_init(&b, 4096);
	is_int(pur_stripe_build_subscription(&b, "cus_1&x=1", "p", "pm_", &RBIG),
	    0, "build with hostile customer");
	is_str(b.data,
	    "customer=cus_1%26x%3D1&items%5B0%5D%5Bprice%5D=p&default_payment_method=pm_"
	    "&payment_behavior=default_incomplete&metadata%5Bpurchase_id%5D=9007199254740993",
	    "values escaped; 64-bit purchase id");
	pur_buf_free(&b);

	pur_buf_init(&b, 16);
	is_int(pur_stripe_build_subscription(&b, "cus_1", "price_x", "pm_1", &R42), -1,
	    "build over the ceiling fails");
	pur_buf_free(&b);

	/* A nonce rides in the metadata; a legacy card goes as default_source. */
	pur_buf_init(&b, 4096);
	is_int(pur_stripe_build_subscription(&b, "cus_1", "price_x", "card_1", &RN), 0,
	    "build with a nonce and a card source");
	is_str(b.data,
	    "customer=cus_1&items%5B0%5D%5Bprice%5D=price_x&default_source=card_1"
	    "&payment_behavior=default_incomplete&metadata%5Bpurchase_id%5D=42"
	    "&metadata%5Bpurchase_nonce%5D=0123456789abcdef0123456789abcdef",
	    "card_ ids are sent as default_source, the nonce as metadata");
	pur_buf_free(&b);

	is_int(pur_stripe_idem_key(&RN, "subscribe", key, sizeof(key)), 0, "idem key: nonce");
	is_str(key, "purchase-0123456789abcdef0123456789abcdef-subscribe",
	    "idem key: names the nonce, not the row id");
	is_int(pur_stripe_idem_key(&R42, "pay", key, sizeof(key)), 0, "idem key: legacy");
	is_str(key, "purchase-42-pay", "idem key: a purchase without a nonce keeps its old key");
	is_int(pur_stripe_idem_key(&RN, "subscribe", key, 20), -1, "idem key: too small a buffer");
	ok(pur_stripe_sub_ended("canceled") && pur_stripe_sub_ended("incomplete_expired") &&
	        !pur_stripe_sub_ended("incomplete") && !pur_stripe_sub_ended("active") &&
	        !pur_stripe_sub_ended("past_due") && !pur_stripe_sub_ended("unpaid"),
	    "ended: canceled and incomplete_expired only (the spec's terminal statuses)");
}

static int
customer(const char *body, char pm[PUR_STRIPE_ID])
{
	memset(pm, 'x', PUR_STRIPE_ID);
	return pur_stripe_parse_customer(body, strlen(body), pm);
}

static void
test_parse_customer(void)
{
	char pm[PUR_STRIPE_ID];
	const char *big;
	char *id255 = long_id(255), *id256 = long_id(256);

	is_int(customer("{\"id\":\"cus_1\",\"object\":\"customer\",\"invoice_settings\":"
	                "{\"default_payment_method\":\"pm_1\"}}", pm), 0, "customer: pm string");
	is_str(pm, "pm_1", "customer: pm");
	is_int(customer("{\"id\":\"cus_1\",\"invoice_settings\":{\"default_payment_method\":"
	                "{\"id\":\"pm_2\",\"object\":\"payment_method\"}}}", pm), 0,
	    "customer: pm expanded");
	is_str(pm, "pm_2", "customer: expanded pm id");
	is_int(customer("{\"id\":\"cus_1\",\"invoice_settings\":{\"default_payment_method\":null}}",
	           pm), 0, "customer: pm null");
	is_str(pm, "", "customer: null pm is empty");
	is_int(customer("{\"id\":\"cus_1\"}", pm), 0, "customer: no invoice_settings");
	is_str(pm, "", "customer: no invoice_settings -> empty pm");
	is_int(customer("{\"id\":\"cus_1\",\"invoice_settings\":null}", pm), 0,
	    "customer: invoice_settings null");
	is_str(pm, "", "customer: invoice_settings null -> empty pm");
	is_int(customer("{\"id\":\"cus_1\",\"default_source\":\"card_9\",\"invoice_settings\":"
	                "{\"default_payment_method\":null}}", pm), 0, "customer: default_source only");
	is_str(pm, "card_9", "customer: Stripe bills default_source when there is no pm");
	is_int(customer("{\"id\":\"cus_1\",\"default_source\":{\"id\":\"src_1\",\"object\":"
	                "\"source\"},\"invoice_settings\":{\"default_payment_method\":null}}", pm), 0,
	    "customer: default_source expanded");
	is_str(pm, "src_1", "customer: expanded default_source id");
	is_int(customer("{\"id\":\"cus_1\",\"default_source\":\"card_9\",\"invoice_settings\":"
	                "{\"default_payment_method\":\"pm_1\"}}", pm), 0, "customer: both");
	is_str(pm, "pm_1", "customer: the default payment method wins over default_source");
	is_int(customer("{\"id\":\"cus_1\",\"default_source\":null}", pm), 0,
	    "customer: default_source null");
	is_str(pm, "", "customer: default_source null -> empty");
	is_int(customer("{\"id\":\"cus_1\",\"default_source\":3}", pm), -1,
	    "customer: default_source a number refused");

	is_int(customer("{\"id\":\"cus_1\",\"invoice_settings\":{\"default_payment_method\":7}}",
	           pm), -1, "customer: pm number refused");
	is_int(customer("{\"id\":\"cus_1\",\"invoice_settings\":{\"default_payment_method\":"
	                "{\"object\":\"payment_method\"}}}", pm), -1,
	    "customer: expanded pm without id refused");
	is_int(customer("{\"id\":\"cus_1\",\"invoice_settings\":{\"default_payment_method\":"
	                "{\"id\":5}}}", pm), -1, "customer: expanded pm id not a string");
	is_int(customer("{\"id\":5,\"invoice_settings\":{\"default_payment_method\":\"pm_1\"}}",
	           pm), -1, "customer: id not a string");
	is_int(customer("{\"object\":\"customer\"}", pm), -1, "customer: no id");
	is_int(customer("{\"id\":\"cus_1\",\"invoice_settings\":{\"default_payment_method\":"
	                "\"pm_1\"}", pm), -1, "customer: truncated JSON");
	is_int(customer("[]", pm), -1, "customer: array");
	is_int(customer("", pm), -1, "customer: empty");
	is_int(pur_stripe_parse_customer(NULL, 0, pm), -1, "customer: NULL body");

	big = "{\"id\":\"cus_1\",\"invoice_settings\":{\"default_payment_method\":";
	{
		struct pur_buf b;
		pur_buf_init(&b, 4096);
		pur_buf_adds(&b, big);
		pur_buf_adds(&b, id255);
		pur_buf_adds(&b, "}}");
		is_int(customer(b.data, pm), 0, "customer: 255-char pm fits");
		is_int((intmax_t)strlen(pm), 255, "customer: 255-char pm copied");
		pur_buf_reset(&b);
		pur_buf_adds(&b, big);
		pur_buf_adds(&b, id256);
		pur_buf_adds(&b, "}}");
		is_int(customer(b.data, pm), -1, "customer: 256-char pm refused");
		is_str(pm, "", "customer: pm empty after refusal");
		pur_buf_free(&b);
	}
	free(id255);
	free(id256);
}

static int
sub(const char *body, struct pur_stripe_sub *s)
{
	memset(s, 'x', sizeof(*s));
	return pur_stripe_parse_subscription(body, strlen(body), s);
}

static void
test_parse_subscription(void)
{
	struct pur_stripe_sub s;
	struct pur_buf b;
	char *id256 = long_id(256);

	is_int(sub(sub_ok, &s), 0, "sub: parses");
	is_str(s.id, "sub_1", "sub: id");
	is_str(s.status, "incomplete", "sub: status");
	is_str(s.latest_invoice, "in_1", "sub: latest_invoice string");
	is_str(s.purchase_id, "42", "sub: metadata.purchase_id");
	is_int(s.current_period_end, 1700000000, "sub: current_period_end");
	is_int(s.cancel_at_period_end, 0, "sub: cancel_at_period_end false");

	is_int(sub(SUB_JSON("active", "{\"id\":\"in_2\",\"object\":\"invoice\",\"paid\":true}"), &s),
	    0, "sub: latest_invoice expanded");
	is_str(s.latest_invoice, "in_2", "sub: expanded invoice id");
	is_str(s.status, "active", "sub: status active");
	is_int(sub(SUB_JSON("incomplete", "null"), &s), 0, "sub: latest_invoice null");
	is_str(s.latest_invoice, "", "sub: null invoice is empty");
	is_int(sub("{\"id\":\"sub_1\",\"status\":\"active\",\"latest_invoice\":\"in_1\","
	           "\"cancel_at_period_end\":true}", &s), 0, "sub: minimal");
	is_int(s.cancel_at_period_end, 1, "sub: cancel_at_period_end true");
	is_str(s.purchase_id, "", "sub: no metadata -> empty purchase_id");
	is_int(s.current_period_end, 0, "sub: no period end -> 0");
	is_int(sub("{\"id\":\"sub_1\",\"status\":\"active\",\"latest_invoice\":\"in_1\","
	           "\"metadata\":{\"purchase_id\":42},\"current_period_end\":\"1700000000\"}", &s),
	    0, "sub: mistyped optional fields ignored");
	is_str(s.purchase_id, "", "sub: numeric purchase_id not coerced");
	is_int(s.current_period_end, 0, "sub: string period end not coerced");

	is_int(sub("{\"id\":7,\"status\":\"active\",\"latest_invoice\":\"in_1\"}", &s), -1,
	    "sub: id not a string");
	is_int(sub("{\"status\":\"active\",\"latest_invoice\":\"in_1\"}", &s), -1, "sub: no id");
	is_int(sub("{\"id\":\"sub_1\",\"latest_invoice\":\"in_1\"}", &s), -1, "sub: no status");
	is_int(sub("{\"id\":\"sub_1\",\"status\":true,\"latest_invoice\":\"in_1\"}", &s), -1,
	    "sub: status not a string");
	is_int(sub("{\"id\":\"sub_1\",\"status\":\"active\",\"latest_invoice\":12}", &s), -1,
	    "sub: latest_invoice a number");
	is_int(sub("{\"id\":\"sub_1\",\"status\":\"active\",\"latest_invoice\":{\"object\":1}}",
	           &s), -1, "sub: expanded invoice without id");
	is_int(sub("{\"id\":\"sub_1\",\"status\":\"a_status_that_is_far_too_long_for_it\","
	           "\"latest_invoice\":\"in_1\"}", &s), -1, "sub: status too long");
	is_int(sub("{\"id\":\"sub_1\",\"status\":\"active\"", &s), -1, "sub: truncated");
	is_int(sub("{\"id\":\"sub_1\",\"status\":\"active\",\"latest_invoice\":\"in_1\"} {}", &s), -1,
	    "sub: trailing bytes");

	pur_buf_init(&b, 4096);
	pur_buf_adds(&b, "{\"id\":");
	pur_buf_adds(&b, id256);
	pur_buf_adds(&b, ",\"status\":\"active\",\"latest_invoice\":\"in_1\"}");
	is_int(sub(b.data, &s), -1, "sub: 256-char id refused");
	pur_buf_reset(&b);
	pur_buf_adds(&b, "{\"id\":\"sub_1\",\"status\":\"active\",\"latest_invoice\":");
	pur_buf_adds(&b, id256);
	pur_buf_adds(&b, "}");
	is_int(sub(b.data, &s), -1, "sub: 256-char invoice id refused");
	pur_buf_free(&b);
	free(id256);
}

static void
test_parse_invoice_error(void)
{
	struct pur_stripe_invoice inv;
	struct pur_stripe_error e;

#define INV(s) pur_stripe_parse_invoice(s, strlen(s), &inv)
	is_int(INV(inv_paid), 0, "invoice: paid");
	is_str(inv.id, "in_1", "invoice: id");
	is_str(inv.status, "paid", "invoice: status");
	is_int(inv.paid, 1, "invoice: paid true");
	is_int(INV(inv_open), 0, "invoice: open");
	is_int(inv.paid, 0, "invoice: paid false");
	is_int(INV("{\"id\":\"in_1\",\"status\":\"paid\"}"), 0, "invoice: no paid flag");
	is_int(inv.paid, 1, "invoice: status paid implies paid");
	is_int(INV("{\"id\":\"in_1\",\"status\":\"open\",\"paid\":\"true\"}"), 0,
	    "invoice: paid as string");
	is_int(inv.paid, 0, "invoice: \"true\" is not coerced");
	is_int(INV("{\"id\":\"in_1\",\"paid\":true}"), -1, "invoice: no status");
	is_int(INV("{\"id\":1,\"status\":\"paid\",\"paid\":true}"), -1, "invoice: id not a string");
	is_int(INV("{\"id\":\"in_1\",\"status\":\"paid\",\"paid\":tr"), -1, "invoice: truncated");
#undef INV

#define ERR(s) pur_stripe_parse_error(s, strlen(s), &e)
	is_int(ERR(err_card), 0, "error: card_error");
	is_str(e.type, "card_error", "error: type");
	is_str(e.code, "card_declined", "error: code");
	is_str(e.decline_code, "insufficient_funds", "error: decline_code");
	is_int(ERR(err_missing), 0, "error: resource_missing");
	is_str(e.code, "resource_missing", "error: code resource_missing");
	is_str(e.decline_code, "", "error: no decline_code");
	is_int(ERR("{\"error\":{}}"), 0, "error: empty error object");
	is_str(e.type, "", "error: empty type");
	is_int(ERR("{\"error\":\"bad\"}"), -1, "error: error not an object");
	is_int(ERR("{\"message\":\"x\"}"), -1, "error: no error member");
	is_int(ERR("<html>502</html>"), -1, "error: HTML body");
#undef ERR
}

static void
test_parse_search(void)
{
	struct pur_stripe_sub s;
	int found;

#define SEARCH(str) pur_stripe_parse_sub_search(str, strlen(str), &s, &found)
	found = 7;
	is_int(SEARCH("{\"object\":\"search_result\",\"data\":[],\"has_more\":false}"), 0,
	    "search: empty list");
	is_int(found, 0, "search: none found");
	is_int(SEARCH("{\"object\":\"search_result\",\"data\":[" SUB_JSON("active", "\"in_1\"") "]}"),
	    0, "search: one");
	is_int(found, 1, "search: found");
	is_str(s.id, "sub_1", "search: id");
	is_str(s.latest_invoice, "in_1", "search: invoice");
	is_int(SEARCH("{\"data\":[{\"id\":\"sub_a\",\"status\":\"canceled\",\"latest_invoice\":null},"
	              "{\"id\":\"sub_b\",\"status\":\"active\",\"latest_invoice\":\"in_b\"}]}"),
	    0, "search: canceled then live");
	is_str(s.id, "sub_b", "search: the live one wins");
	is_int(SEARCH("{\"data\":[{\"id\":\"sub_a\",\"status\":\"incomplete\",\"latest_invoice\":null},"
	              "{\"id\":\"sub_b\",\"status\":\"active\",\"latest_invoice\":\"in_b\"}]}"),
	    0, "search: two live");
	is_str(s.id, "sub_a", "search: the first live one");
	is_int(SEARCH("{\"data\":[{\"id\":\"sub_a\",\"status\":\"canceled\",\"latest_invoice\":null},"
	              "{\"id\":\"sub_b\",\"status\":\"canceled\",\"latest_invoice\":null},"
	              "{\"id\":\"sub_c\",\"status\":\"canceled\",\"latest_invoice\":null}]}"),
	    0, "search: all canceled");
	is_str(s.id, "sub_a", "search: all canceled -> the first (header contract)");
	is_int(SEARCH("{\"data\":[{\"id\":\"sub_a\",\"status\":\"active\",\"latest_invoice\":null},"
	              "{\"id\":\"sub_b\",\"status\":\"canceled\",\"latest_invoice\":null}]}"),
	    0, "search: live then canceled");
	is_str(s.id, "sub_a", "search: live one kept");
	is_int(SEARCH("{\"data\":[{\"id\":5}]}"), -1, "search: malformed entry");
	is_int(SEARCH("{\"data\":[\"sub_1\"]}"), -1, "search: entry not an object");
	is_int(SEARCH("{\"data\":{}}"), -1, "search: data not an array");
	is_int(SEARCH("{\"object\":\"search_result\"}"), -1, "search: no data");
	is_int(SEARCH("{\"data\":["), -1, "search: truncated");
#undef SEARCH
}

/* --- the calls, through the hook ---------------------------------------- */

static struct pur_config cfg;
static struct pur_stripe st;
static struct canned cn;

static void
request_is(const char *method, const char *url, const char *idem, const char *form,
    const char *why)
{
	is_int(cn.calls, 1, "%s: one request", why);
	is_str(cn.method, method, "%s: method", why);
	is_str(cn.url, url, "%s: URL", why);
	ok(cn.has_bearer && strcmp(cn.bearer, "sk_test_x") == 0, "%s: bearer is the secret key",
	    why);
	ok(!cn.has_user, "%s: no Basic auth", why);
	ok(cn.has_version && strcmp(cn.version, "2023-08-16") == 0, "%s: Stripe-Version", why);
	if (idem == NULL)
		ok(!cn.has_idem, "%s: no Idempotency-Key", why);
	else
		ok(cn.has_idem && strcmp(cn.idem, idem) == 0, "%s: Idempotency-Key %s", why, idem);
	if (form == NULL)
		ok(!cn.has_form, "%s: no body", why);
	else
		ok(cn.has_form && strcmp(cn.form, form) == 0, "%s: form body", why);
}

static enum pur_call
create(long status, const char *body, struct pur_stripe_sub *out, struct pur_call_info *info)
{
	canned_set(&cn, status, body);
	return pur_stripe_subscription_create(&st, &R42, "cus_1", "price_x", "pm_1", out, info);
}

static void
test_calls_create(void)
{
	struct pur_stripe_sub out;
	struct pur_call_info info;

	is_int(create(200, sub_ok, &out, &info), PUR_CALL_OK, "create: 200 -> OK");
	request_is("POST", "https://api.stripe.test/v1/subscriptions", "purchase-42-subscribe",
	    "customer=cus_1&items%5B0%5D%5Bprice%5D=price_x&default_payment_method=pm_1"
	    "&payment_behavior=default_incomplete&metadata%5Bpurchase_id%5D=42",
	    "create");
	is_str(out.id, "sub_1", "create: sub id");
	is_str(out.latest_invoice, "in_1", "create: invoice id");
	is_int(info.status, 200, "create: info.status");
	is_int(info.elapsed_ms, 7, "create: info.elapsed_ms");
	is_str(info.code, "", "create: no error code");

	is_int(create(402, err_card, &out, &info), PUR_CALL_DECLINED, "create: 402 card_error");
	is_str(info.code, "card_declined", "create: info.code card_declined");
	is_int(info.status, 402, "create: info.status 402");
	is_int(create(404, err_missing, &out, &info), PUR_CALL_GONE, "create: 404 resource_missing");
	is_int(create(400, err_missing, &out, &info), PUR_CALL_GONE,
	    "create: 400 resource_missing -> GONE");
	is_str(info.code, "resource_missing", "create: info.code resource_missing");
	is_int(create(400, err_invalid, &out, &info), PUR_CALL_REJECTED, "create: 400 other");
	is_int(create(401, "{\"error\":{\"type\":\"invalid_request_error\"}}", &out, &info),
	    PUR_CALL_REJECTED, "create: 401");
	is_str(info.code, "invalid_request_error", "create: info.code falls back to type");
	is_int(create(409, "{\"error\":{\"type\":\"idempotency_error\"}}", &out, &info),
	    PUR_CALL_RETRY, "create: 409 in flight -> RETRY");
	is_int(create(429, err_rate, &out, &info), PUR_CALL_RETRY, "create: 429");
	is_int(create(429, "", &out, &info), PUR_CALL_RETRY, "create: 429 without body");
	is_int(create(500, err_api, &out, &info), PUR_CALL_UNKNOWN, "create: 500");
	is_int(create(503, "", &out, &info), PUR_CALL_UNKNOWN, "create: 503 without body");
	is_int(create(400, "<html>bad</html>", &out, &info), PUR_CALL_UNKNOWN,
	    "create: 4xx unreadable -> UNKNOWN");
	is_int(create(302, "", &out, &info), PUR_CALL_UNKNOWN,
	    "create: 3xx (redirects are not followed) -> UNKNOWN");
	is_int(create(200, "{\"id\":\"sub_1\",\"status\":\"incom", &out, &info), PUR_CALL_UNKNOWN,
	    "create: 200 truncated -> UNKNOWN");
	is_int(create(200, "", &out, &info), PUR_CALL_UNKNOWN, "create: 200 empty -> UNKNOWN");
	is_int(create(200, "{\"id\":5,\"status\":\"active\",\"latest_invoice\":\"in_1\"}", &out,
	           &info), PUR_CALL_UNKNOWN, "create: 200 wrong types -> UNKNOWN");
	is_int(create(200, SUB_JSON("incomplete", "null"), &out, &info), PUR_CALL_UNKNOWN,
	    "create: 200 without an invoice -> UNKNOWN");

	canned_set(&cn, 0, NULL);
	cn.outcome = PUR_HTTP_NOT_SENT;
	is_int(pur_stripe_subscription_create(&st, &R42, "cus_1", "price_x", "pm_1", &out, &info),
	    PUR_CALL_RETRY, "create: not sent -> RETRY");
	is_int(info.status, 0, "create: not sent, status 0");
	canned_set(&cn, 0, NULL);
	cn.outcome = PUR_HTTP_UNKNOWN;
	is_int(pur_stripe_subscription_create(&st, &R42, "cus_1", "price_x", "pm_1", &out, &info),
	    PUR_CALL_UNKNOWN, "create: outcome unknown -> UNKNOWN");
	canned_set(&cn, 200, sub_ok);
	cn.outcome = PUR_HTTP_UNKNOWN;
	is_int(pur_stripe_subscription_create(&st, &R42, "cus_1", "price_x", "pm_1", &out, &info),
	    PUR_CALL_UNKNOWN, "create: outcome unknown with a body -> UNKNOWN");
	canned_set(&cn, 0, NULL);
	cn.ret = PURCHASE_ENOMEM;
	is_int(pur_stripe_subscription_create(&st, &R42, "cus_1", "price_x", "pm_1", &out, NULL),
	    PUR_CALL_RETRY, "create: http error before sending -> RETRY (NULL info ok)");
}

static void
test_calls_other(void)
{
	struct pur_stripe_sub out;
	struct pur_stripe_invoice inv;
	struct pur_call_info info;
	char pm[PUR_STRIPE_ID];
	int found;

	/* customer */
	canned_set(&cn, 200, "{\"id\":\"cus_1\",\"invoice_settings\":{\"default_payment_method\":"
	                     "\"pm_1\"}}");
	is_int(pur_stripe_customer_get(&st, "cus_1", pm, &info), PUR_CALL_OK, "customer: OK");
	request_is("GET", "https://api.stripe.test/v1/customers/cus_1", NULL, NULL, "customer");
	is_str(pm, "pm_1", "customer: pm");
	canned_set(&cn, 200, "{\"id\":\"cus_1\",\"invoice_settings\":{\"default_payment_method\":"
	                     "null}}");
	is_int(pur_stripe_customer_get(&st, "cus_1", pm, &info), PUR_CALL_OK,
	    "customer: OK without pm");
	is_str(pm, "", "customer: empty pm");
	canned_set(&cn, 404, err_missing);
	is_int(pur_stripe_customer_get(&st, "cus_1", pm, &info), PUR_CALL_GONE, "customer: 404");
	canned_set(&cn, 200, "{\"id\":\"cus_1\",\"invoice_settings\":{\"default_payment_method\":1}}");
	is_int(pur_stripe_customer_get(&st, "cus_1", pm, &info), PUR_CALL_UNKNOWN,
	    "customer: 200 malformed -> UNKNOWN");
	canned_set(&cn, 200, "{}");
	pur_stripe_customer_get(&st, "cus_1/../../v1/charges?x=1", pm, &info);
	is_str(cn.url, "https://api.stripe.test/v1/customers/cus_1%2F..%2F..%2Fv1%2Fcharges%3Fx%3D1",
	    "customer: id escaped in the path");

	/* find */
	canned_set(&cn, 200, "{\"object\":\"search_result\",\"data\":[" SUB_JSON("active",
	                         "\"in_1\"") "]}");
	is_int(pur_stripe_subscription_find(&st, 42, &out, &found, &info), PUR_CALL_OK, "find: OK");
	request_is("GET",
	    "https://api.stripe.test/v1/subscriptions/search?query="
	    "metadata%5B%27purchase_id%27%5D%3A%2742%27",
	    NULL, NULL, "find");
	is_int(found, 1, "find: found");
	is_str(out.id, "sub_1", "find: id");
	canned_set(&cn, 200, "{\"object\":\"search_result\",\"data\":[]}");
	is_int(pur_stripe_subscription_find(&st, 42, &out, &found, &info), PUR_CALL_OK,
	    "find: OK empty");
	is_int(found, 0, "find: not found");
	canned_set(&cn, 500, "");
	is_int(pur_stripe_subscription_find(&st, 42, &out, &found, &info), PUR_CALL_UNKNOWN,
	    "find: 500");

	/* cancel */
	canned_set(&cn, 200, SUB_JSON("canceled", "\"in_1\""));
	is_int(pur_stripe_subscription_cancel(&st, "sub_1", &info), PUR_CALL_OK, "cancel: OK");
	request_is("DELETE", "https://api.stripe.test/v1/subscriptions/sub_1", NULL, NULL,
	    "cancel");
	canned_set(&cn, 200, SUB_JSON("active", "\"in_1\""));
	is_int(pur_stripe_subscription_cancel(&st, "sub_1", &info), PUR_CALL_UNKNOWN,
	    "cancel: 200 but not canceled -> UNKNOWN");
	canned_set(&cn, 404, err_missing);
	is_int(pur_stripe_subscription_cancel(&st, "sub_1", &info), PUR_CALL_GONE, "cancel: 404");
	canned_set(&cn, 200, SUB_JSON("incomplete_expired", "\"in_1\""));
	is_int(pur_stripe_subscription_cancel(&st, "sub_1", &info), PUR_CALL_OK,
	    "cancel: 200 incomplete_expired -> OK (ended, never bills)");
	canned_set(&cn, 400, err_invalid);
	cn.then_status = 200;
	cn.then_body = SUB_JSON("incomplete_expired", "\"in_1\"");
	is_int(pur_stripe_subscription_cancel(&st, "sub_1", &info), PUR_CALL_OK,
	    "cancel: refused, and the subscription says incomplete_expired -> OK");
	is_int(cn.calls, 2, "cancel: refused -> asked the subscription");
	is_str(cn.method, "GET", "cancel: the second call is a GET");
	canned_set(&cn, 400, err_invalid);
	cn.then_status = 200;
	cn.then_body = SUB_JSON("active", "\"in_1\"");
	is_int(pur_stripe_subscription_cancel(&st, "sub_1", &info), PUR_CALL_UNKNOWN,
	    "cancel: refused, and still active -> UNKNOWN (retried later)");

	/* subscription get */
	canned_set(&cn, 200, SUB_JSON("past_due", "\"in_1\""));
	is_int(pur_stripe_subscription_get(&st, "sub_1", &out, &info), PUR_CALL_OK, "sub get: OK");
	request_is("GET", "https://api.stripe.test/v1/subscriptions/sub_1", NULL, NULL, "sub get");
	is_str(out.status, "past_due", "sub get: status");
	canned_set(&cn, 404, err_missing);
	is_int(pur_stripe_subscription_get(&st, "sub_1", &out, &info), PUR_CALL_GONE,
	    "sub get: 404 -> GONE");

	/* void */
	canned_set(&cn, 200, "{\"id\":\"in_1\",\"object\":\"invoice\",\"status\":\"void\","
	                     "\"paid\":false}");
	is_int(pur_stripe_invoice_void(&st, "in_1", &inv, &info), PUR_CALL_OK, "void: OK");
	request_is("POST", "https://api.stripe.test/v1/invoices/in_1/void", NULL, "", "void");
	is_str(inv.status, "void", "void: status void");
	canned_set(&cn, 400, err_invalid);
	cn.then_status = 200;
	cn.then_body = inv_paid;
	is_int(pur_stripe_invoice_void(&st, "in_1", &inv, &info), PUR_CALL_OK,
	    "void refused: the invoice is read");
	is_int(inv.paid, 1, "void refused: paid (the purchase goes forward)");
	is_str(cn.method, "GET", "void refused: then a GET");
	canned_set(&cn, 200, inv_open);
	is_int(pur_stripe_invoice_void(&st, "in_1", &inv, &info), PUR_CALL_UNKNOWN,
	    "void: 200 but still open -> UNKNOWN");
	canned_set(&cn, 500, err_api);
	is_int(pur_stripe_invoice_void(&st, "in_1", &inv, &info), PUR_CALL_UNKNOWN, "void: 500");
	canned_set(&cn, 404, err_missing);
	is_int(pur_stripe_invoice_void(&st, "in_1", &inv, &info), PUR_CALL_GONE, "void: 404");

	/* the nonce's keys */
	canned_set(&cn, 200, inv_paid);
	is_int(pur_stripe_invoice_pay(&st, &RN, "in_1", &inv, &info), PUR_CALL_OK, "pay (nonce): OK");
	is_str(cn.idem, "purchase-0123456789abcdef0123456789abcdef-pay", "pay (nonce): its key");

	/* release at period end, and its undoing */
	canned_set(&cn, 200, SUB_JSON("active", "\"in_1\""));
	is_int(pur_stripe_subscription_set_cancel(&st, "sub_1", 1, &out, &info), PUR_CALL_UNKNOWN,
	    "set_cancel: a 200 that did not set the flag -> UNKNOWN");
	request_is("POST", "https://api.stripe.test/v1/subscriptions/sub_1", NULL,
	    "cancel_at_period_end=true", "set_cancel");
	canned_set(&cn, 200,
	    "{\"id\":\"sub_1\",\"object\":\"subscription\",\"status\":\"active\","
	    "\"latest_invoice\":\"in_1\",\"customer\":\"cus_1\",\"current_period_end\":1700000000,"
	    "\"cancel_at_period_end\":true,\"default_payment_method\":{\"id\":\"pm_9\"}}");
	is_int(pur_stripe_subscription_set_cancel(&st, "sub_1", 1, &out, &info), PUR_CALL_OK,
	    "set_cancel: OK");
	ok(out.cancel_at_period_end && strcmp(out.customer, "cus_1") == 0 &&
	        strcmp(out.default_payment_method, "pm_9") == 0,
	    "set_cancel: the subscription read back (flag, customer, expanded pm)");
	canned_set(&cn, 200, SUB_JSON("active", "\"in_1\""));
	is_int(pur_stripe_subscription_set_cancel(&st, "sub_1", 0, &out, &info), PUR_CALL_OK,
	    "set_cancel false: OK");
	request_is("POST", "https://api.stripe.test/v1/subscriptions/sub_1", NULL,
	    "cancel_at_period_end=false", "set_cancel false");
	canned_set(&cn, 200, SUB_JSON("active", "\"in_1\""));
	is_int(pur_stripe_subscription_set_payment(&st, "sub_1", "pm_2", &out, &info), PUR_CALL_OK,
	    "set_payment pm: OK");
	request_is("POST", "https://api.stripe.test/v1/subscriptions/sub_1", NULL,
	    "default_payment_method=pm_2", "set_payment pm");
	canned_set(&cn, 200, SUB_JSON("active", "\"in_1\""));
	is_int(pur_stripe_subscription_set_payment(&st, "sub_1", "card_2", &out, &info), PUR_CALL_OK,
	    "set_payment card: OK");
	request_is("POST", "https://api.stripe.test/v1/subscriptions/sub_1", NULL,
	    "default_payment_method=&default_source=card_2",
	    "set_payment card: default_payment_method cleared, default_source set");

	/* events */
	canned_set(&cn, 200, "{\"object\":\"list\",\"has_more\":true,\"url\":\"/v1/events\",\"data\":["
	    "{\"id\":\"evt_2\",\"object\":\"event\",\"type\":\"invoice.paid\",\"created\":5,"
	    "\"data\":{\"object\":{\"id\":\"in_1\",\"object\":\"invoice\",\"subscription\":\"sub_1\","
	    "\"customer\":\"cus_1\"}}}]}");
	{
		struct pur_stripe_event_page ep;
		is_int(pur_stripe_event_list(&st, "evt_1", NULL, &ep, &info), PUR_CALL_OK, "events: OK");
		request_is("GET", "https://api.stripe.test/v1/events?limit=100&ending_before=evt_1", NULL,
		    NULL, "events");
		ok(ep.n == 1 && ep.has_more && strcmp(ep.v[0].subscription, "sub_1") == 0,
		    "events: one, has_more, about sub_1");
		pur_stripe_event_page_free(&ep);
	}

	/* pay */
	canned_set(&cn, 200, inv_paid);
	is_int(pur_stripe_invoice_pay(&st, &R42, "in_1", &inv, &info), PUR_CALL_OK, "pay: 200 paid");
	request_is("POST", "https://api.stripe.test/v1/invoices/in_1/pay", "purchase-42-pay", "",
	    "pay");
	is_int(inv.paid, 1, "pay: paid");
	canned_set(&cn, 200, inv_open);
	is_int(pur_stripe_invoice_pay(&st, &R42, "in_1", &inv, &info), PUR_CALL_UNKNOWN,
	    "pay: 200 with paid:false -> UNKNOWN");
	canned_set(&cn, 402, err_card);
	is_int(pur_stripe_invoice_pay(&st, &R42, "in_1", &inv, &info), PUR_CALL_DECLINED,
	    "pay: 402 card_error -> DECLINED");
	is_str(info.code, "card_declined", "pay: info.code");
	canned_set(&cn, 429, err_rate);
	is_int(pur_stripe_invoice_pay(&st, &R42, "in_1", &inv, &info), PUR_CALL_RETRY, "pay: 429");
	canned_set(&cn, 502, "<html>");
	is_int(pur_stripe_invoice_pay(&st, &R42, "in_1", &inv, &info), PUR_CALL_UNKNOWN, "pay: 502");

	/* invoice get */
	canned_set(&cn, 200, inv_open);
	is_int(pur_stripe_invoice_get(&st, "in_1", &inv, &info), PUR_CALL_OK, "invoice get: OK");
	request_is("GET", "https://api.stripe.test/v1/invoices/in_1", NULL, NULL, "invoice get");
	is_str(inv.status, "open", "invoice get: status");
	is_int(inv.paid, 0, "invoice get: not paid");
}

static void
sign(const char *secret, const char *t, const char *body, char hex[65])
{
	unsigned char mac[PUR_SHA256_LEN];
	struct pur_hmac h;

	pur_hmac_init(&h, secret, strlen(secret));
	pur_hmac_update(&h, t, strlen(t));
	pur_hmac_update(&h, ".", 1);
	pur_hmac_update(&h, body, strlen(body));
	pur_hmac_final(&h, mac);
	pur_hex(mac, sizeof(mac), hex);
}

static int
sig_ok(const char *header, const char *body, const char *secrets, int64_t now)
{
	return pur_stripe_signature_ok(header, body, strlen(body), secrets, now, 300);
}

static void
test_signature(void)
{
	static const char body[] = "{\"id\":\"evt_1\",\"object\":\"event\"}";
	char good[65], old[65], h[512], tampered[sizeof(body)];

	sign("whsec_new", "1000", body, good);
	sign("whsec_old", "1000", body, old);
	snprintf(h, sizeof(h), "t=1000,v1=%s", good);
	is_int(sig_ok(h, body, "whsec_new", 1000), 0, "signature: good");
	is_int(sig_ok(h, body, "whsec_new", 1300), 0, "signature: 300 s old is still good");
	is_int(sig_ok(h, body, "whsec_new", 1301), -1, "signature: 301 s old is stale");
	is_int(sig_ok(h, body, "whsec_new", 699), -1, "signature: 301 s in the future is refused");
	is_int(sig_ok(h, body, "whsec_other", 1000), -1, "signature: another secret");
	memcpy(tampered, body, sizeof(body));
	tampered[8] ^= 1;
	is_int(sig_ok(h, tampered, "whsec_new", 1000), -1, "signature: one byte of the body changed");
	snprintf(h, sizeof(h), "t=1001,v1=%s", good);
	is_int(sig_ok(h, body, "whsec_new", 1000), -1, "signature: another timestamp");
	/* A roll: two v1, one from each secret; either configured one matches. */
	snprintf(h, sizeof(h), "t=1000,v1=%s,v1=%s,v0=abc", old, good);
	is_int(sig_ok(h, body, "whsec_new", 1000), 0, "roll: the new secret matches the second v1");
	is_int(sig_ok(h, body, "whsec_old", 1000), 0, "roll: the old secret matches the first");
	snprintf(h, sizeof(h), "t=1000,v1=%s", old);
	is_int(sig_ok(h, body, "whsec_new, whsec_old", 1000), 0,
	    "roll: two configured secrets, the old one signed");
	is_int(sig_ok(h, body, "whsec_new", 1000), -1, "roll over: the old one no longer configured");
	is_int(sig_ok(h, body, " , ", 1000), -1, "no secret configured");
	/* Malformed headers. */
	is_int(sig_ok("", body, "whsec_new", 1000), -1, "empty header");
	is_int(pur_stripe_signature_ok(NULL, body, strlen(body), "whsec_new", 1000, 300), -1,
	    "no header");
	snprintf(h, sizeof(h), "v1=%s", good);
	is_int(sig_ok(h, body, "whsec_new", 1000), -1, "no timestamp");
	is_int(sig_ok("t=1000", body, "whsec_new", 1000), -1, "no v1");
	snprintf(h, sizeof(h), "t=1000,v0=%s", good);
	is_int(sig_ok(h, body, "whsec_new", 1000), -1, "only a v0 scheme");
	snprintf(h, sizeof(h), "t=1000,v1=%.63s", good);
	is_int(sig_ok(h, body, "whsec_new", 1000), -1, "a v1 one digit short");
	snprintf(h, sizeof(h), "t=10x0,v1=%s", good);
	is_int(sig_ok(h, body, "whsec_new", 1000), -1, "a timestamp that is not a number");
	snprintf(h, sizeof(h), "t=1000,t=1000,v1=%s", good);
	is_int(sig_ok(h, body, "whsec_new", 1000), -1, "two timestamps");
	snprintf(h, sizeof(h), "t=1000, v1=%s", good);
	is_int(sig_ok(h, body, "whsec_new", 1000), 0, "spaces after the commas are taken");
}

static void
test_parse_event(void)
{
	struct pur_stripe_event e;
	const char *inv = "{\"id\":\"evt_1\",\"object\":\"event\",\"type\":\"invoice.paid\","
	    "\"created\":1700000000,\"data\":{\"object\":{\"id\":\"in_1\",\"object\":\"invoice\","
	    "\"subscription\":\"sub_1\",\"customer\":\"cus_1\"}}}";
	const char *sub = "{\"id\":\"evt_2\",\"type\":\"customer.subscription.deleted\",\"created\":1,"
	    "\"data\":{\"object\":{\"id\":\"sub_2\",\"object\":\"subscription\",\"customer\":"
	    "{\"id\":\"cus_2\"}},\"previous_attributes\":{}}}";
	const char *cus = "{\"id\":\"evt_3\",\"type\":\"customer.updated\",\"created\":1,"
	    "\"data\":{\"object\":{\"id\":\"cus_3\",\"object\":\"customer\"}}}";

	is_int(pur_stripe_parse_event(inv, strlen(inv), &e), 0, "event: invoice.paid");
	ok(strcmp(e.id, "evt_1") == 0 && strcmp(e.type, "invoice.paid") == 0 &&
	        e.created == 1700000000 && strcmp(e.subscription, "sub_1") == 0 &&
	        strcmp(e.customer, "cus_1") == 0,
	    "event: an invoice's subscription and customer");
	is_int(pur_stripe_parse_event(sub, strlen(sub), &e), 0, "event: subscription deleted");
	ok(strcmp(e.subscription, "sub_2") == 0 && strcmp(e.customer, "cus_2") == 0,
	    "event: a subscription is about itself (customer expanded)");
	is_int(pur_stripe_parse_event(cus, strlen(cus), &e), 0, "event: customer.updated");
	ok(strcmp(e.customer, "cus_3") == 0 && e.subscription[0] == '\0', "event: a customer");
	{
		const char *a = "{\"id\":\"ch_1\",\"type\":\"x\",\"data\":{\"object\":{}}}";
		const char *b = "{\"id\":\"evt_1\",\"type\":\"x\"}";
		is_int(pur_stripe_parse_event(a, strlen(a), &e), -1,
		    "event: an id that is not evt_ is refused");
		is_int(pur_stripe_parse_event(b, strlen(b), &e), -1, "event: no data.object");
	}
	is_int(pur_stripe_parse_event("[]", 2, &e), -1, "event: not an object");
}

int
main(void)
{
	static char base[] = "https://api.stripe.test", key[] = "sk_test_x";

	test_build();
	test_signature();
	test_parse_event();
	test_parse_customer();
	test_parse_subscription();
	test_parse_invoice_error();
	test_parse_search();

	memset(&cfg, 0, sizeof(cfg));
	cfg.stripe_api_base = base;
	cfg.stripe_secret_key = key;
	st.cfg = &cfg;
	if ((st.http = pur_http_new(1000, 1000, 1 << 20)) == NULL) {
		ok(0, "pur_http_new");
		return done_testing();
	}
	pur_http_set_hook(st.http, canned_hook, &cn);
	test_calls_create();
	test_calls_other();
	pur_http_free(st.http);
	return done_testing();
}
