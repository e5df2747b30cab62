/*
 * test-config.c -- unit tests of lib/config.c: purchase.conf parsing
 * (defaults, comments, trimming, strict keys and numbers) and the rule that
 * provider bases are https://, or plain http:// only to loopback.
 */
#include "autoconfig.h"

#include <string.h>

#include "config.h"
#include "tap.h"

static enum purchase_err
parse(const char *text, struct pur_config **out, struct purchase_detail *d)
{
	struct pur_config *c = NULL;
	enum purchase_err err;

	if (d != NULL)
		d->text[0] = '\0';
	err = pur_config_parse(text, "test.conf", &c, d);
	if ((err == PURCHASE_OK) != (c != NULL))
		diag("config_parse: result and object disagree");
	if (out != NULL)
		*out = c;
	else
		pur_config_free(c);
	return err;
}

static void
test_defaults(void)
{
	struct pur_config *c = NULL;

	if (!is_int(parse("database = /var/lib/purchase/db.sqlite\n", &c, NULL), PURCHASE_OK,
	        "minimal config parses") || c == NULL)
		return;
	is_str(c->database, "/var/lib/purchase/db.sqlite", "database");
	is_str(c->path, "test.conf", "path recorded");
	is_str(c->stripe_api_base, "https://api.stripe.com", "default stripe base");
	is_str(c->twilio_api_base, "https://api.twilio.com", "default twilio base");
	is_int(c->offer_ttl_seconds, 3600, "default offer_ttl_seconds");
	is_int(c->provider_timeout_ms, 8000, "default provider_timeout_ms");
	is_int(c->provider_connect_timeout_ms, 3000, "default provider_connect_timeout_ms");
	is_int(c->busy_timeout_ms, 2000, "default busy_timeout_ms");
	is_int(c->lease_seconds, 60, "default lease_seconds");
	is_int(c->purchase_rate_per_minute, 30, "default purchase_rate_per_minute");
	is_int(c->search_rate_per_minute, 120, "default search_rate_per_minute");
	ok(c->stripe_secret_key == NULL, "no default secret key");
	pur_config_free(c);
	pur_config_free(NULL);
	ok(1, "pur_config_free(NULL)");
}

static void
test_full(void)
{
	static const char text[] =
	    "# purchase.conf\n"
	    "\n"
	    "   \t\n"
	    "  database\t=   /tmp/x.db  \r\n"
	    "stripe_api_base=http://127.0.0.1:8080\n"
	    "stripe_secret_key = sk_test_123=abc\n"
	    "  # indented comment\n"
	    "stripe_webhook_secret = whsec_1\n"
	    "twilio_api_base = http://localhost:9\n"
	    "twilio_account_sid = AC123\n"
	    "twilio_auth_token = tok en\n"
	    "offer_ttl_seconds = 60\n"
	    "provider_timeout_ms=100\n"
	    "provider_connect_timeout_ms = 60000\n"
	    "busy_timeout_ms = 0\n"
	    "lease_seconds = 3600\n"
	    "purchase_rate_per_minute = 0\n"
	    "search_rate_per_minute = 1000000\n"
	    "offer_ttl_seconds = 604800"; /* last line without newline; later wins */
	struct pur_config *c = NULL;

	if (!is_int(parse(text, &c, NULL), PURCHASE_OK, "full config parses") || c == NULL)
		return;
	is_str(c->database, "/tmp/x.db", "whitespace and CR trimmed");
	is_str(c->stripe_api_base, "http://127.0.0.1:8080", "stripe base");
	is_str(c->stripe_secret_key, "sk_test_123=abc", "value may contain '='");
	is_str(c->stripe_webhook_secret, "whsec_1", "webhook secret");
	is_str(c->twilio_api_base, "http://localhost:9", "twilio base");
	is_str(c->twilio_account_sid, "AC123", "account sid");
	is_str(c->twilio_auth_token, "tok en", "inner space kept");
	is_int(c->offer_ttl_seconds, 604800, "offer ttl (last wins, max)");
	is_int(c->provider_timeout_ms, 100, "provider timeout (min)");
	is_int(c->provider_connect_timeout_ms, 60000, "connect timeout (max)");
	is_int(c->busy_timeout_ms, 0, "busy timeout 0");
	is_int(c->lease_seconds, 3600, "lease (max)");
	is_int(c->purchase_rate_per_minute, 0, "purchase rate 0 = unlimited");
	is_int(c->search_rate_per_minute, 1000000, "search rate (max)");
	pur_config_free(c);
}

struct bad {
	const char *text;
	const char *why;
};

static const struct bad bads[] = {
	{"", "empty file: no database"},
	{"# only a comment\n", "no database"},
	{"database =\n", "empty database"},
	{"database = /x\nfoo = 1\n", "unknown key"},
	{"database = /x\nDatabase = /y\n", "keys are case-sensitive"},
	{"database = /x\nstripe_api_base\n", "line without '='"},
	{"database /x\n", "line without '=' (first)"},
	{"database = /x\n= 5\n", "empty key"},
	{"database = /x\noffer_ttl_seconds = 12abc\n", "number with trailing junk"},
	{"database = /x\noffer_ttl_seconds = -5\n", "negative number"},
	{"database = /x\noffer_ttl_seconds = 0\n", "below minimum"},
	{"database = /x\noffer_ttl_seconds = 604801\n", "above maximum"},
	{"database = /x\noffer_ttl_seconds = 99999999999999999999\n", "overflow"},
	{"database = /x\noffer_ttl_seconds =\n", "empty number"},
	{"database = /x\noffer_ttl_seconds = abc\n", "not a number"},
	{"database = /x\noffer_ttl_seconds = +60\n", "explicit plus"},
	{"database = /x\noffer_ttl_seconds = 0x10\n", "hex"},
	{"database = /x\noffer_ttl_seconds = 6 0\n", "inner space"},
	{"database = /x\nprovider_timeout_ms = 99\n", "timeout below 100"},
	{"database = /x\nlease_seconds = 4\n", "lease below 5"},
	{"database = /x\nbusy_timeout_ms = -1\n", "busy timeout negative"},
	{"database = /x\nstripe_api_base = http://example.com\n", "http:// to a remote host"},
	{"database = /x\ntwilio_api_base = http://api.twilio.com\n", "twilio http:// remote"},
	{"database = /x\nstripe_api_base = ftp://127.0.0.1\n", "not http(s)"},
	{"database = /x\nstripe_api_base =\n", "empty base"},
	{"database = /x\nstripe_api_base = https://\n", "https:// without host"},
	{"database = /x\nstripe_api_base = http://127.0.0.1.evil.com\n", "127.0.0.1.evil.com"},
	{"database = /x\nstripe_api_base = http://localhost.evil.com\n", "localhost.evil.com"},
	{"database = /x\nstripe_api_base = http://127.0.0.1@evil.com\n", "127.0.0.1@evil.com"},
	{"database = /x\nstripe_api_base = http://127.0.0.1:80@evil.com\n",
	    "127.0.0.1:80@evil.com (userinfo)"},
};

static void
test_errors(void)
{
	struct purchase_detail d;
	size_t i;

	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++)
		is_int(parse(bads[i].text, NULL, &d), PURCHASE_ECONFIG, "ECONFIG: %s", bads[i].why);

	parse("database = /x\n\n# c\nfoo = 1\n", NULL, &d);
	ok(strstr(d.text, "test.conf:4") != NULL, "detail names file and line (%s)", d.text);
	parse("database = /x\noffer_ttl_seconds = -5\n", NULL, &d);
	ok(strstr(d.text, "offer_ttl_seconds") != NULL, "detail names the key (%s)", d.text);
	is_int(parse("database = /x\nfoo = 1\n", NULL, NULL), PURCHASE_ECONFIG,
	    "NULL detail is allowed");
}

struct base {
	const char *base;
	int ok;
};

static const struct base bases[] = {
	{"https://api.stripe.com", 1},
	{"https://api.stripe.test", 1},
	{"https://127.0.0.1:8443", 1},
	{"http://127.0.0.1:8080", 1},
	{"http://127.0.0.1", 1},
	{"http://127.0.0.1/", 1},
	{"http://127.0.0.1:8080/prefix", 1},
	{"http://127.1.2.3:9", 1},
	{"http://localhost:9", 1},
	{"http://localhost", 1},
	{"http://localhost/", 1},
	{"http://[::1]:80", 1},
	{"http://[::1]", 1},
	{NULL, 0},
	{"", 0},
	{"https://", 0},
	{"http://", 0},
	{"http://example.com", 0},
	{"http://10.0.0.1", 0},
	{"http://128.0.0.1", 0},
	{"http://0.0.0.0", 0},
	{"http://[::2]", 0},
	{"http://[::1]evil.com", 0},
	{"http://127.0.0.1.evil.com", 0},
	{"http://127.0.0.1.evil.com:80", 0},
	{"http://localhost.evil.com", 0},
	{"http://localhostevil.com", 0},
	{"http://evil.localhost.com", 0},
	{"http://127.0.0.1@evil.com", 0},
	{"http://localhost@evil.com", 0},
	{"http://127.0.0.1:8080@evil.com", 0},
	{"http://localhost:80@evil.com", 0},
	{"http://[::1]:80@evil.com", 0},
	{"http://user@127.0.0.1", 0},
	{"HTTP://127.0.0.1", 0},
	{"ftp://127.0.0.1", 0},
	{"127.0.0.1:8080", 0},
	{" https://api.stripe.com", 0},
};

static void
test_base_ok(void)
{
	size_t i;

	for (i = 0; i < sizeof(bases) / sizeof(bases[0]); i++)
		is_int(pur_config_base_ok(bases[i].base), bases[i].ok, "base_ok(%s) = %d",
		    bases[i].base ? bases[i].base : "NULL", bases[i].ok);
}

int
main(void)
{
	test_defaults();
	test_full();
	test_errors();
	test_base_ok();
	return done_testing();
}
