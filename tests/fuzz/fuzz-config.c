/*
 * fuzz-config.c -- libFuzzer target: pur_config_parse over arbitrary text
 * (a C string: the input up to its first NUL, as pur_config_load refuses a
 * file with a NUL in it).
 *
 * Properties: a refusal leaves *out NULL with a terminated detail; an
 * accepted configuration has a database, provider bases that pass
 * pur_config_base_ok and numbers in their ranges, and written back as
 * "key = value" lines it parses to the same configuration.
 */
#include "autoconfig.h"

#include "buf.h"
#include "config.h"
#include "fuzz.h"

#define STRS(X)                                                                        \
	X(database) X(stripe_api_base) X(stripe_secret_key) X(stripe_webhook_secret)     \
	X(twilio_api_base) X(twilio_account_sid) X(twilio_auth_token)
#define NUMS(X)                                                                        \
	X(offer_ttl_seconds, 1, 7 * 86400) X(provider_timeout_ms, 100, 120000)           \
	X(provider_connect_timeout_ms, 50, 60000) X(busy_timeout_ms, 0, 60000)           \
	X(lease_seconds, 5, 3600) X(purchase_rate_per_minute, 0, 1000000)              \
	X(search_rate_per_minute, 0, 1000000)

static void
write_back(struct pur_buf *b, const struct pur_config *c)
{
	char num[32];

#define W_STR(f)                                                                       \
	if (c->f != NULL)                                                              \
		FUZZ_CHECK(pur_buf_adds(b, #f " = ") == 0 && pur_buf_adds(b, c->f) == 0 &&   \
		    pur_buf_adds(b, "\n") == 0);
#define W_NUM(f, lo, hi)                                                               \
	snprintf(num, sizeof(num), "%ld", c->f);                                       \
	FUZZ_CHECK(pur_buf_adds(b, #f " = ") == 0 && pur_buf_adds(b, num) == 0 &&            \
	    pur_buf_adds(b, "\n") == 0);
	STRS(W_STR)
	NUMS(W_NUM)
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	struct pur_config *c = NULL, *c2 = NULL;
	struct purchase_detail d;
	struct pur_buf b;
	enum purchase_err err;

	memset(&d, 'x', sizeof(d));
	d.text[0] = '\0';
	err = pur_config_parse(text, "fuzz.conf", &c, &d);
	if (err != PURCHASE_OK) {
		FUZZ_CHECK(c == NULL && (err == PURCHASE_ECONFIG || err == PURCHASE_ENOMEM));
		FUZZ_CHECK(fuzz_terminated(d.text, sizeof(d.text)));
		goto done;
	}
	FUZZ_CHECK(c != NULL && c->database != NULL && c->database[0] != '\0');
	FUZZ_CHECK(strcmp(c->path, "fuzz.conf") == 0);
	FUZZ_CHECK(pur_config_base_ok(c->stripe_api_base) && pur_config_base_ok(c->twilio_api_base));
#define C_NUM(f, lo, hi) FUZZ_CHECK(c->f >= (lo) && c->f <= (hi));
	NUMS(C_NUM)

	pur_buf_init(&b, 1024 * 1024);
	write_back(&b, c);
	FUZZ_CHECK(pur_config_parse(b.data, "fuzz.conf", &c2, &d) == PURCHASE_OK);
#define E_STR(f) FUZZ_CHECK((c->f == NULL) == (c2->f == NULL) && (c->f == NULL || strcmp(c->f, c2->f) == 0));
#define E_NUM(f, lo, hi) FUZZ_CHECK(c->f == c2->f);
	STRS(E_STR)
	NUMS(E_NUM)
	pur_buf_free(&b);
done:
	pur_config_free(c2);
	pur_config_free(c);
	free(text);
	return 0;
}
