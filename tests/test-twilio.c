/*
 * test-twilio.c -- unit tests of lib/twilio.c: the AvailablePhoneNumbers URL
 * builder, the reply parsers (fed Twilio-shaped replies), and the calls
 * through the HTTP test hook: the exact request and the classification of
 * each reply, including Twilio's error codes 21421/21422 on buy.
 */
#include "autoconfig.h"

#include <string.h>

#include "twilio.h"
#include "tap.h"
#include "hook.h"

static void
url_is(const char *country, const char *type, const char *area, const char *contains, int ps,
    const char *want, const char *why)
{
	struct pur_buf b;

	pur_buf_init(&b, 2048);
	if (ok(pur_twilio_build_available_url(&b, "https://api.twilio.test", "AC123", country, type,
	           area, contains, ps) == 0, "url builds: %s", why))
		is_str(b.data, want, "url: %s", why);
	pur_buf_free(&b);
}

#define AVAIL "https://api.twilio.test/2010-04-01/Accounts/AC123/AvailablePhoneNumbers/"

static void
test_url(void)
{
	struct pur_buf b;

	url_is("US", "local", "415", "555", 20, AVAIL "US/Local.json?AreaCode=415&Contains=555&PageSize=20",
	    "local with filters");
	url_is("US", "toll_free", NULL, NULL, 5, AVAIL "US/TollFree.json?PageSize=5", "toll_free");
	url_is("GB", "mobile", "", "", 50, AVAIL "GB/Mobile.json?PageSize=50", "mobile, empty filters");
	url_is("US", "local", "415", NULL, 1, AVAIL "US/Local.json?AreaCode=415&PageSize=1",
	    "area code only");
	url_is("US", "local", NULL, "55", 1, AVAIL "US/Local.json?Contains=55&PageSize=1",
	    "contains only");
	url_is("US", "normal", NULL, NULL, 20, AVAIL "US/Local.json?PageSize=20", "other type -> Local");
	url_is("U/S", "local", "4&1", "5 5", 20,
	    AVAIL "U%2FS/Local.json?AreaCode=4%261&Contains=5%205&PageSize=20", "values escaped");

	pur_buf_init(&b, 2048);
	pur_twilio_build_available_url(&b, "https://api.twilio.test", "AC/../x", "US", "local", NULL,
	    NULL, 20);
	is_str(b.data,
	    "https://api.twilio.test/2010-04-01/Accounts/AC%2F..%2Fx/AvailablePhoneNumbers/US/"
	    "Local.json?PageSize=20",
	    "url: account sid escaped");
	pur_buf_free(&b);
	pur_buf_init(&b, 40);
	is_int(pur_twilio_build_available_url(&b, "https://api.twilio.test", "AC123", "US", "local",
	           NULL, NULL, 20), -1, "url: over the ceiling fails");
	pur_buf_free(&b);
}

static const char avail_reply[] =
    "{\"uri\":\"/2010-04-01/Accounts/AC123/AvailablePhoneNumbers/US/Local.json?AreaCode=415\","
    "\"available_phone_numbers\":["
    /* 0: the usual shape */
    "{\"friendly_name\":\"(415) 555-0100\",\"phone_number\":\"+14155550100\",\"lata\":\"722\","
    "\"locality\":\"San Francisco\",\"rate_center\":\"SNFC CA 01\",\"latitude\":\"37.77\","
    "\"longitude\":\"-122.41\",\"region\":\"CA\",\"postal_code\":\"94110\",\"iso_country\":\"US\","
    "\"address_requirements\":\"none\",\"beta\":false,"
    "\"capabilities\":{\"voice\":true,\"SMS\":true,\"MMS\":true}},"
    /* 1: lower-case sms */
    "{\"friendly_name\":\"(415) 555-0101\",\"phone_number\":\"+14155550101\",\"iso_country\":\"US\","
    "\"address_requirements\":\"local\",\"capabilities\":{\"voice\":true,\"sms\":true,\"mms\":false}},"
    /* skipped: not E.164 */
    "{\"friendly_name\":\"x\",\"phone_number\":\"4155550102\",\"iso_country\":\"US\","
    "\"address_requirements\":\"none\",\"capabilities\":{\"SMS\":true}},"
    "{\"friendly_name\":\"x\",\"phone_number\":\"+1 415 555 0103\",\"iso_country\":\"US\"},"
    "{\"friendly_name\":\"x\",\"iso_country\":\"US\"},"
    "{\"friendly_name\":\"x\",\"phone_number\":14155550105,\"iso_country\":\"US\"},"
    "\"+14155550106\","
    /* 2: unknown address requirement, no friendly name, SMS false */
    "{\"phone_number\":\"+14155550104\",\"iso_country\":\"US\","
    "\"address_requirements\":\"weird\",\"capabilities\":{\"SMS\":false}},"
    /* 3: no capabilities */
    "{\"friendly_name\":\"Foreign\",\"phone_number\":\"+14155550107\",\"iso_country\":\"US\","
    "\"address_requirements\":\"foreign\"},"
    /* 4: address requirement too long to copy; SMS as a string */
    "{\"friendly_name\":\"F\",\"phone_number\":\"+14155550108\",\"iso_country\":\"US\","
    "\"address_requirements\":\"foreignxx\",\"capabilities\":{\"SMS\":\"true\"}},"
    /* 5: GB, no friendly name; address requirement missing */
    "{\"phone_number\":\"+442079460123\",\"iso_country\":\"GB\",\"capabilities\":{\"SMS\":true}}"
    "],\"end\":0,\"page\":0,\"page_size\":20}";

static void
test_parse_available(void)
{
	struct pur_twilio_avail_list l;
	static const char *const bad[] = {
	    "{\"available_phone_numbers\":{}}",
	    "{\"available_phone_numbers\":null}",
	    "{\"uri\":\"x\"}",
	    "{\"available_phone_numbers\":[",
	    "[]",
	    "",
	};
	size_t i;

	if (!is_int(pur_twilio_parse_available(avail_reply, strlen(avail_reply), &l), 0,
	        "available: parses") ||
	    !is_int((intmax_t)l.n, 6, "available: 6 usable entries, 5 skipped")) {
		pur_twilio_avail_list_free(&l);
		return;
	}
	is_str(l.v[0].phone_number, "+14155550100", "available[0] number");
	is_str(l.v[0].friendly_name, "(415) 555-0100", "available[0] friendly name");
	is_str(l.v[0].iso_country, "US", "available[0] country");
	is_str(l.v[0].address_requirements, "none", "available[0] address none");
	is_int(l.v[0].sms, 1, "available[0] SMS true");
	is_str(l.v[1].phone_number, "+14155550101", "available[1] number");
	is_str(l.v[1].address_requirements, "local", "available[1] address local");
	is_int(l.v[1].sms, 1, "available[1] lower-case sms true");
	is_str(l.v[2].phone_number, "+14155550104", "available[2] number");
	is_str(l.v[2].address_requirements, "any", "available[2] unknown address -> any");
	is_str(l.v[2].friendly_name, "(415) 555-0104", "available[2] friendly name formatted");
	is_int(l.v[2].sms, 0, "available[2] SMS false");
	is_str(l.v[3].address_requirements, "foreign", "available[3] address foreign");
	is_int(l.v[3].sms, 0, "available[3] no capabilities -> no SMS");
	is_str(l.v[4].address_requirements, "any", "available[4] overlong address -> any");
	is_int(l.v[4].sms, 0, "available[4] SMS \"true\" is not coerced");
	is_str(l.v[5].phone_number, "+442079460123", "available[5] GB number");
	is_str(l.v[5].friendly_name, "+44 20 7946 0123", "available[5] GB formatted");
	is_str(l.v[5].iso_country, "GB", "available[5] country GB");
	is_str(l.v[5].address_requirements, "any", "available[5] missing address -> any");
	is_int(l.v[5].sms, 1, "available[5] SMS");
	pur_twilio_avail_list_free(&l);
	ok(l.v == NULL && l.n == 0, "avail_list_free resets");
	pur_twilio_avail_list_free(NULL);

	{
		static const char empty[] = "{\"available_phone_numbers\":[]}";
		is_int(pur_twilio_parse_available(empty, strlen(empty), &l), 0, "available: empty list");
		is_int((intmax_t)l.n, 0, "available: none");
		pur_twilio_avail_list_free(&l);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		is_int(pur_twilio_parse_available(bad[i], strlen(bad[i]), &l), -1,
		    "available: malformed %zu refused", i);
		ok(l.v == NULL && l.n == 0, "available: malformed %zu leaves an empty list", i);
	}
}

static void
test_parse_other(void)
{
	char sid[PUR_TWILIO_SID];
	long code;

#define INC(s) pur_twilio_parse_incoming(s, strlen(s), sid)
	is_int(INC("{\"sid\":\"PN0123456789abcdef0123456789abcdef\",\"phone_number\":\"+14155551234\","
	           "\"account_sid\":\"AC123\"}"), 0, "incoming: parses");
	is_str(sid, "PN0123456789abcdef0123456789abcdef", "incoming: sid");
	is_int(INC("{\"sid\":\"AC0123\"}"), -1, "incoming: sid not PN...");
	is_int(INC("{\"sid\":\"pn0123\"}"), -1, "incoming: lower-case pn refused");
	is_int(INC("{\"sid\":7}"), -1, "incoming: sid not a string");
	is_int(INC("{\"phone_number\":\"+14155551234\"}"), -1, "incoming: no sid");
	is_int(INC("{\"sid\":\"PN0123456789012345678901234567890123456789\"}"), -1,
	    "incoming: sid too long");
	is_int(INC("{\"sid\":\"PN1\""), -1, "incoming: truncated");
#undef INC

#define LIST(s, n) pur_twilio_parse_incoming_list(s, strlen(s), n, sid)
	static const char list[] =
	    "{\"first_page_uri\":\"/x\",\"incoming_phone_numbers\":["
	    "{\"sid\":\"PNaaa\",\"phone_number\":\"+14155550000\"},"
	    "{\"sid\":\"PNbbb\",\"phone_number\":\"+14155551234\"}],\"page\":0}";
	is_int(LIST(list, "+14155551234"), 0, "incoming list: parses");
	is_str(sid, "PNbbb", "incoming list: the matching sid");
	is_int(LIST(list, "+14155559999"), 0, "incoming list: no match parses");
	is_str(sid, "", "incoming list: no match -> empty sid");
	is_int(LIST("{\"incoming_phone_numbers\":[]}", "+14155551234"), 0, "incoming list: empty");
	is_str(sid, "", "incoming list: empty -> empty sid");
	is_int(LIST("{\"incoming_phone_numbers\":[{\"phone_number\":\"+14155551234\"}]}",
	           "+14155551234"), -1, "incoming list: match without sid");
	is_int(LIST("{\"incoming_phone_numbers\":{}}", "+14155551234"), -1,
	    "incoming list: not an array");
	is_int(LIST("{}", "+14155551234"), -1, "incoming list: missing");
#undef LIST

#define ERR(s) pur_twilio_parse_error(s, strlen(s), &code)
	is_int(ERR("{\"code\":21422,\"message\":\"Phone number is not available\","
	           "\"more_info\":\"https://www.twilio.com/docs/errors/21422\",\"status\":400}"),
	    0, "error: parses");
	is_int(code, 21422, "error: code");
	is_int(ERR("{\"message\":\"x\",\"status\":500}"), 0, "error: without code");
	is_int(code, 0, "error: no code -> 0");
	is_int(ERR("{\"code\":\"21422\"}"), 0, "error: code as a string");
	is_int(code, 0, "error: string code not coerced");
	is_int(ERR("<html>"), -1, "error: not JSON");
#undef ERR
}

/* --- calls --------------------------------------------------------------- */

static struct pur_config cfg;
static struct pur_twilio tw;
static struct canned cn;

#define ACCT "https://api.twilio.test/2010-04-01/Accounts/AC123"

static void
request_is(const char *method, const char *url, const char *form, const char *why)
{
	is_int(cn.calls, 1, "%s: one request", why);
	is_str(cn.method, method, "%s: method", why);
	is_str(cn.url, url, "%s: URL", why);
	ok(cn.has_user && strcmp(cn.user, "AC123") == 0 && strcmp(cn.pass, "tok_secret") == 0,
	    "%s: Basic account sid / auth token", why);
	ok(!cn.has_bearer, "%s: no bearer", why);
	ok(!cn.has_idem, "%s: no Idempotency-Key", why);
	ok(!cn.has_version, "%s: no Stripe-Version", why);
	if (form == NULL)
		ok(!cn.has_form, "%s: no body", why);
	else
		ok(cn.has_form && strcmp(cn.form, form) == 0, "%s: form body", why);
}

static enum pur_call
buy(long status, const char *body, char sid[PUR_TWILIO_SID], struct pur_call_info *info)
{
	canned_set(&cn, status, body);
	return pur_twilio_buy(&tw, "+14155551234", NULL, sid, info);
}

static void
test_calls(void)
{
	struct pur_twilio_avail_list l;
	struct pur_call_info info;
	char sid[PUR_TWILIO_SID];

	/* available */
	canned_set(&cn, 200, avail_reply);
	is_int(pur_twilio_available(&tw, "US", "local", "415", "555", 20, &l, &info), PUR_CALL_OK,
	    "available: OK");
	request_is("GET", ACCT "/AvailablePhoneNumbers/US/Local.json?AreaCode=415&Contains=555"
	                       "&PageSize=20", NULL, "available");
	is_int((intmax_t)l.n, 6, "available: list");
	pur_twilio_avail_list_free(&l);
	canned_set(&cn, 404, "{\"code\":20404,\"message\":\"not found\",\"status\":404}");
	is_int(pur_twilio_available(&tw, "ZZ", "local", NULL, NULL, 20, &l, &info), PUR_CALL_GONE,
	    "available: 404 -> GONE");
	is_str(info.code, "20404", "available: info.code");
	canned_set(&cn, 200, "{\"available_phone_numbers\":3}");
	is_int(pur_twilio_available(&tw, "US", "local", NULL, NULL, 20, &l, &info), PUR_CALL_UNKNOWN,
	    "available: 200 malformed -> UNKNOWN");
	ok(l.v == NULL && l.n == 0, "available: nothing to free after malformed");

	/* buy */
	is_int(buy(201, "{\"sid\":\"PN0123\",\"phone_number\":\"+14155551234\"}", sid, &info),
	    PUR_CALL_OK, "buy: 201 -> OK");
	request_is("POST", ACCT "/IncomingPhoneNumbers.json", "PhoneNumber=%2B14155551234", "buy");
	is_str(sid, "PN0123", "buy: sid");
	is_int(info.status, 201, "buy: info.status");
	canned_set(&cn, 201, "{\"sid\":\"PN0123\",\"phone_number\":\"+14155551234\"}");
	is_int(pur_twilio_buy(&tw, "+14155551234", "purchase:0123456789abcdef0123456789abcdef:17",
	           sid, &info), PUR_CALL_OK, "buy with a tag: OK");
	request_is("POST", ACCT "/IncomingPhoneNumbers.json", "PhoneNumber=%2B14155551234"
	    "&FriendlyName=purchase%3A0123456789abcdef0123456789abcdef%3A17", "buy with a tag");
	is_int(buy(201, "{\"sid\":\"XX0123\"}", sid, &info), PUR_CALL_UNKNOWN,
	    "buy: 201 with a bad sid -> UNKNOWN");
	is_int(buy(201, "{\"sid\":\"PN0", sid, &info), PUR_CALL_UNKNOWN,
	    "buy: 201 truncated -> UNKNOWN");
	is_int(buy(400, "{\"code\":21422,\"message\":\"not available\",\"status\":400}", sid, &info),
	    PUR_CALL_GONE, "buy: 400 code 21422 -> GONE");
	is_str(info.code, "21422", "buy: info.code 21422");
	is_int(buy(400, "{\"code\":21421,\"message\":\"invalid\",\"status\":400}", sid, &info),
	    PUR_CALL_GONE, "buy: 400 code 21421 -> GONE");
	is_int(buy(400, "{\"code\":21452,\"message\":\"no address\",\"status\":400}", sid, &info),
	    PUR_CALL_REJECTED, "buy: 400 other code -> REJECTED");
	is_int(buy(400, "{\"code\":\"21422\"}", sid, &info), PUR_CALL_REJECTED,
	    "buy: string code is not 21422 -> REJECTED");
	is_int(buy(401, "{\"code\":20003,\"message\":\"Authenticate\",\"status\":401}", sid, &info),
	    PUR_CALL_REJECTED, "buy: 401 -> REJECTED");
	is_int(buy(429, "{\"code\":20429}", sid, &info), PUR_CALL_RETRY, "buy: 429 -> RETRY");
	is_int(buy(500, "", sid, &info), PUR_CALL_UNKNOWN, "buy: 500 -> UNKNOWN");
	is_int(buy(400, "not json", sid, &info), PUR_CALL_UNKNOWN, "buy: 400 unreadable -> UNKNOWN");
	canned_set(&cn, 0, NULL);
	cn.outcome = PUR_HTTP_NOT_SENT;
	is_int(pur_twilio_buy(&tw, "+14155551234", NULL, sid, &info), PUR_CALL_RETRY,
	    "buy: not sent -> RETRY");
	canned_set(&cn, 0, NULL);
	cn.outcome = PUR_HTTP_UNKNOWN;
	is_int(pur_twilio_buy(&tw, "+14155551234", NULL, sid, &info), PUR_CALL_UNKNOWN,
	    "buy: outcome unknown -> UNKNOWN");
	canned_set(&cn, 0, NULL);
	cn.ret = PURCHASE_ENOMEM;
	is_int(pur_twilio_buy(&tw, "+14155551234", NULL, sid, NULL), PUR_CALL_RETRY,
	    "buy: http error -> RETRY (NULL info ok)");

	/* find */
	canned_set(&cn, 200, "{\"incoming_phone_numbers\":[{\"sid\":\"PNbbb\","
	                     "\"phone_number\":\"+14155551234\"}]}");
	is_int(pur_twilio_find(&tw, "+14155551234", sid, &info), PUR_CALL_OK, "find: OK");
	request_is("GET", ACCT "/IncomingPhoneNumbers.json?PhoneNumber=%2B14155551234", NULL,
	    "find");
	is_str(sid, "PNbbb", "find: sid");
	canned_set(&cn, 200, "{\"incoming_phone_numbers\":[]}");
	is_int(pur_twilio_find(&tw, "+14155551234", sid, &info), PUR_CALL_GONE,
	    "find: empty list -> GONE");
	canned_set(&cn, 200, "{\"incoming_phone_numbers\":[{\"sid\":\"PNccc\","
	                     "\"phone_number\":\"+14155550000\"}]}");
	is_int(pur_twilio_find(&tw, "+14155551234", sid, &info), PUR_CALL_GONE,
	    "find: another number only -> GONE");
	canned_set(&cn, 200, "{\"incoming\":[]}");
	is_int(pur_twilio_find(&tw, "+14155551234", sid, &info), PUR_CALL_UNKNOWN,
	    "find: malformed -> UNKNOWN");
	canned_set(&cn, 503, "");
	is_int(pur_twilio_find(&tw, "+14155551234", sid, &info), PUR_CALL_UNKNOWN, "find: 503");

	/* release */
	canned_set(&cn, 204, NULL);
	is_int(pur_twilio_release(&tw, "PN0123", &info), PUR_CALL_OK, "release: 204 -> OK");
	request_is("DELETE", ACCT "/IncomingPhoneNumbers/PN0123.json", NULL, "release");
	canned_set(&cn, 404, "{\"code\":20404,\"message\":\"not found\",\"status\":404}");
	is_int(pur_twilio_release(&tw, "PN0123", &info), PUR_CALL_OK,
	    "release: 404 -> OK (already gone)");
	canned_set(&cn, 500, "");
	is_int(pur_twilio_release(&tw, "PN0123", &info), PUR_CALL_UNKNOWN, "release: 500");
	canned_set(&cn, 401, "{\"code\":20003}");
	is_int(pur_twilio_release(&tw, "PN0123", &info), PUR_CALL_REJECTED, "release: 401");
	canned_set(&cn, 204, NULL);
	pur_twilio_release(&tw, "PN/../../x", &info);
	is_str(cn.url, ACCT "/IncomingPhoneNumbers/PN%2F..%2F..%2Fx.json", "release: sid escaped");
}

/* The FriendlyName tag of a purchase's number (reconcile --repair). */
static void
test_tag(void)
{
	const char *nonce = "0123456789abcdef0123456789abcdef";
	char tag[PUR_TWILIO_TAG_MAX + 1], got[33], small[20];
	int64_t at = 0;

	ok(pur_twilio_tag(tag, sizeof(tag), nonce, 1764680000) == 0, "tag: built");
	is_str(tag, "purchase:0123456789abcdef0123456789abcdef:1764680000", "tag: its form");
	ok(strlen(tag) <= 64, "tag: within Twilio's 64 characters");
	ok(pur_twilio_tag_parse(tag, got, &at) == 0 && strcmp(got, nonce) == 0 &&
	    at == 1764680000, "tag: parsed back");
	ok(pur_twilio_tag(tag, sizeof(tag), "", 1) != 0, "tag: no nonce (before schema 2): none");
	ok(pur_twilio_tag(tag, sizeof(tag), "0123456789ABCDEF0123456789abcdef", 1) != 0,
	    "tag: a nonce not in lower-case hex: none");
	ok(pur_twilio_tag(small, sizeof(small), nonce, 1) != 0, "tag: too small a buffer");
	ok(pur_twilio_tag_parse("(415) 555-1234", got, &at) != 0, "parse: Twilio's default name");
	ok(pur_twilio_tag_parse("", got, &at) != 0, "parse: empty");
	ok(pur_twilio_tag_parse("purchase:0123456789abcdef0123456789abcdef:", got, &at) != 0,
	    "parse: no time");
	ok(pur_twilio_tag_parse("purchase:0123456789abcdef0123456789abcdef:12x", got, &at) != 0,
	    "parse: junk after the time");
	ok(pur_twilio_tag_parse("purchase:0123456789abcdef0123456789abcde:12", got, &at) != 0,
	    "parse: a short nonce");
	ok(pur_twilio_tag_parse("purchase:0123456789abcdef0123456789abcdef:-1", got, &at) != 0,
	    "parse: a negative time");
	ok(pur_twilio_tag_parse("purchase:0123456789abcdef0123456789abcdef:99999999999999999999",
	       got, &at) != 0, "parse: a time out of range");

	/* what the list gives reconcile */
	{
		static const char page[] = "{\"incoming_phone_numbers\":["
		    "{\"sid\":\"PNa\",\"phone_number\":\"+14155550100\",\"friendly_name\":"
		    "\"purchase:0123456789abcdef0123456789abcdef:17\"},"
		    "{\"sid\":\"PNb\",\"phone_number\":\"+14155550101\",\"friendly_name\":null},"
		    "{\"sid\":\"PNc\",\"phone_number\":\"+14155550102\",\"friendly_name\":"
		    "\"0123456789012345678901234567890123456789012345678901234567890123456789\"},"
		    "{\"sid\":\"PNd\",\"phone_number\":\"+14155550103\"}],"
		    "\"next_page_uri\":null}";
		struct pur_twilio_owned_page pg;

		ok(pur_twilio_parse_owned_page(page, sizeof(page) - 1, &pg) == 0 && pg.n == 4,
		    "owned page: read");
		if (pg.n == 4) {
			is_str(pg.v[0].friendly_name, "purchase:0123456789abcdef0123456789abcdef:17",
			    "owned page: the tag");
			is_str(pg.v[1].friendly_name, "", "owned page: null name reads as none");
			is_str(pg.v[2].friendly_name, "", "owned page: a name over 64 reads as none");
			is_str(pg.v[3].friendly_name, "", "owned page: no name reads as none");
		}
		pur_twilio_owned_page_free(&pg);
	}
}

int
main(void)
{
	static char base[] = "https://api.twilio.test", sid[] = "AC123", tok[] = "tok_secret";

	test_url();
	test_parse_available();
	test_parse_other();
	test_tag();

	memset(&cfg, 0, sizeof(cfg));
	cfg.twilio_api_base = base;
	cfg.twilio_account_sid = sid;
	cfg.twilio_auth_token = tok;
	tw.cfg = &cfg;
	if ((tw.http = pur_http_new(1000, 1000, 1 << 20)) == NULL) {
		ok(0, "pur_http_new");
		return done_testing();
	}
	pur_http_set_hook(tw.http, canned_hook, &cn);
	test_calls();
	pur_http_free(tw.http);
	return done_testing();
}
