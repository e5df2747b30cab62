/*
 * test-router.c -- the responder's request reader, router and writer
 * (cgi-bin/request.c, router.c, reply.c) as lighttpd tests its request
 * parser: a table of CGI variables and bodies, each to an exact status,
 * headers and body, through the real library on a real SQLite file, with
 * scripted providers (tests/fake.h). No web server: what only real servers
 * show is in the shell suites.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "fixture.h"
#include "router.h"

/* --- a request from a table row ---------------------------------------- */

struct vars {
	const char *names[16];
	const char *values[16];
	int n;
	const char *body;
	size_t len, off;
};

static const char *
v_param(void *arg, const char *name)
{
	struct vars *v = arg;
	int i;

	for (i = 0; i < v->n; i++)
		if (strcmp(v->names[i], name) == 0)
			return v->values[i];
	return NULL;
}

static int
v_read(void *arg, char *buf, size_t n)
{
	struct vars *v = arg;
	size_t k = v->len - v->off;

	if (k > n)
		k = n;
	memcpy(buf, v->body + v->off, k);
	v->off += k;
	return (int)k;
}

static void
set(struct vars *v, const char *name, const char *value)
{
	if (value == NULL || v->n == 16)
		return;
	v->names[v->n] = name;
	v->values[v->n++] = value;
}

static char out[16384];
static size_t outlen;

static int
o_write(void *arg, const char *p, size_t n)
{
	(void)arg;
	if (outlen + n >= sizeof(out))
		return -1;
	memcpy(out + outlen, p, n);
	outlen += n;
	out[outlen] = '\0';
	return 0;
}

static char key[128];

#define KEY "\x01" /* the row's Authorization: the account's valid key */

struct row {
	const char *why;
	const char *method, *uri, *auth, *ctype, *clen, *body, *idem, *rid;
	int status;
	const char *want_body;   /* exact, or NULL */
	const char *want_header; /* a header line that must be there, or NULL */
};

#define E(msg, code) "{\"error\":\"" msg "\",\"message\":\"" msg "\",\"code\":\"" code "\"}"
#define NOT_AVAIL E("This phone number is not available for purchase. Please search for " \
                    "available numbers first.", "number_not_available")
#define BAD_BODY E("Request body must be a JSON object with only the documented fields.", \
                   "invalid_body")
#define UNAUTH E("Unauthenticated.", "unauthenticated")

static const struct row rows[] = {
	{"health", "GET", "/api/health", NULL, NULL, NULL, NULL, NULL, NULL, 200,
	    "{\"status\":\"ok\",\"database\":\"ok\"}", "Cache-Control: no-store"},
	{"health in a sub-directory (shared hosting)", "GET", "/shop/x/api/health?x=1", NULL, NULL,
	    NULL, NULL, NULL, NULL, 200, "{\"status\":\"ok\",\"database\":\"ok\"}", NULL},
	{"HEAD health", "HEAD", "/api/health", NULL, NULL, NULL, NULL, NULL, NULL, 200, NULL, NULL},
	{"POST health", "POST", "/api/health", NULL, NULL, NULL, NULL, NULL, NULL, 405, NULL,
	    "Allow: GET, HEAD"},
	{"unknown path", "GET", "/api/nope", NULL, NULL, NULL, NULL, NULL, NULL, 404,
	    E("Not found.", "no_route"), NULL},
	{"not under /api", "GET", "/apix/health", NULL, NULL, NULL, NULL, NULL, NULL, 404, NULL,
	    NULL},
	{"search without a key", "GET", "/api/user/phone-numbers/search", NULL, NULL, NULL, NULL,
	    NULL, NULL, 401, UNAUTH, NULL},
	{"search, Basic auth", "GET", "/api/user/phone-numbers/search", "Basic eDp5", NULL, NULL,
	    NULL, NULL, NULL, 401, UNAUTH, NULL},
	{"search, contains of one digit", "GET", "/api/user/phone-numbers/search?contains=5", KEY,
	    NULL, NULL, NULL, NULL, NULL, 422,
	    E("Invalid search parameters.", "invalid_parameter"), NULL},
	{"search, area_code outside US/CA", "GET",
	    "/api/user/phone-numbers/search?country_code=GB&area_code=415", KEY, NULL, NULL, NULL,
	    NULL, NULL, 422, E("Invalid search parameters.", "invalid_parameter"), NULL},
	{"search, area_code of 4 digits", "GET", "/api/user/phone-numbers/search?area_code=4155",
	    KEY, NULL, NULL, NULL, NULL, NULL, 422, NULL, NULL},
	{"purchase: GET", "GET", "/api/user/phone-numbers/purchase", KEY, NULL, NULL, NULL, NULL,
	    NULL, 405, NULL, "Allow: POST"},
	{"purchase: no content type", "POST", "/api/user/phone-numbers/purchase", KEY, NULL, "2",
	    "{}", NULL, NULL, 415, NULL, NULL},
	{"purchase: text/plain", "POST", "/api/user/phone-numbers/purchase", KEY, "text/plain",
	    "2", "{}", NULL, NULL, 415, NULL, NULL},
	{"purchase: application/jsonx", "POST", "/api/user/phone-numbers/purchase", KEY,
	    "application/jsonx", "2", "{}", NULL, NULL, 415, NULL, NULL},
	{"purchase: no length", "POST", "/api/user/phone-numbers/purchase", KEY,
	    "application/json", NULL, "{}", NULL, NULL, 411, NULL, NULL},
	{"purchase: length 0", "POST", "/api/user/phone-numbers/purchase", KEY,
	    "application/json", "0", "", NULL, NULL, 411, NULL, NULL},
	{"purchase: length 00", "POST", "/api/user/phone-numbers/purchase", KEY,
	    "application/json", "00", "", NULL, NULL, 411, NULL, NULL},
	{"purchase: length -1", "POST", "/api/user/phone-numbers/purchase", KEY,
	    "application/json", "-1", "", NULL, NULL, 400, BAD_BODY, NULL},
	{"purchase: length 4097", "POST", "/api/user/phone-numbers/purchase", KEY,
	    "application/json", "4097", "", NULL, NULL, 413, NULL, NULL},
	{"purchase: a body shorter than its length", "POST", "/api/user/phone-numbers/purchase",
	    KEY, "application/json", "10", "{}", NULL, NULL, 400, BAD_BODY, NULL},
	{"purchase: an array", "POST", "/api/user/phone-numbers/purchase", KEY,
	    "application/json; charset=utf-8", "2", "[]", NULL, NULL, 400, BAD_BODY, NULL},
	{"purchase: a NUL in a member name", "POST", "/api/user/phone-numbers/purchase", KEY,
	    "application/json", "*", "{\"phone_number\\u0000x\":\"+14155550100\"}", NULL, NULL,
	    400, BAD_BODY, NULL},
	{"purchase: not offered", "POST", "/api/user/phone-numbers/purchase", KEY,
	    "application/json", "*", "{\"phone_number\":\"+14155550199\"}", NULL, NULL, 400,
	    NOT_AVAIL, NULL},
	{"purchase: an empty Idempotency-Key is no key (as lighttpd passes it)", "POST",
	    "/api/user/phone-numbers/purchase", KEY, "application/json", "*",
	    "{\"phone_number\":\"+14155550199\"}", "", NULL, 400, NOT_AVAIL, NULL},
	{"purchase: a key with a tab", "POST", "/api/user/phone-numbers/purchase", KEY,
	    "application/json", "*", "{\"phone_number\":\"+14155550199\"}", "k\tk", NULL, 400,
	    E("Idempotency-Key must be 1 to 255 printable ASCII characters.",
	        "invalid_idempotency_key"), NULL},
	{"request id taken from the client", "GET", "/api/health", NULL, NULL, NULL, NULL, NULL,
	    "abc-123.X_y", 200, NULL, "X-Request-Id: abc-123.X_y"},
	{"request id with a newline is replaced", "GET", "/api/health", NULL, NULL, NULL, NULL,
	    NULL, "a\r\nSet-Cookie: x", 200, NULL, "X-Content-Type-Options: nosniff"},
};

static int
run(const struct row *w, struct vars *v)
{
	struct source src = {v_param, v_read, v};
	struct sink sk = {o_write, NULL};
	struct request *r;
	int status;

	static struct request req;
	r = &req;
	memset(v, 0, sizeof(*v));
	set(v, "REQUEST_METHOD", w->method);
	set(v, "REQUEST_URI", w->uri);
	if (strchr(w->uri, '?') != NULL)
		set(v, "QUERY_STRING", strchr(w->uri, '?') + 1);
	set(v, "HTTP_AUTHORIZATION", w->auth != NULL && strcmp(w->auth, KEY) == 0 ? key : w->auth);
	set(v, "CONTENT_TYPE", w->ctype);
	if (w->clen != NULL && strcmp(w->clen, "*") == 0) {
		static char len[24];
		snprintf(len, sizeof(len), "%zu", strlen(w->body));
		set(v, "CONTENT_LENGTH", len);
	} else {
		set(v, "CONTENT_LENGTH", w->clen);
	}
	set(v, "HTTP_IDEMPOTENCY_KEY", w->idem);
	set(v, "HTTP_X_REQUEST_ID", w->rid);
	v->body = w->body ? w->body : "";
	v->len = strlen(v->body);
	outlen = 0;
	out[0] = '\0';
	request_init(r, &src);
	purchase_ctx_set_request_id(ctx, r->request_id);
	status = route(ctx, r, &sk);
	return status;
}

static void
check(const struct row *w)
{
	struct vars v;
	char st[32];
	const char *body;
	int status = run(w, &v);

	snprintf(st, sizeof(st), "Status: %d ", w->status);
	is_int(status, w->status, "%s: %d", w->why, w->status);
	ok(strncmp(out, st, strlen(st)) == 0, "%s: the Status header comes first", w->why);
	ok(strstr(out, "\r\nContent-Type: application/json\r\n") != NULL &&
	        strstr(out, "\r\nX-Content-Type-Options: nosniff\r\n") != NULL &&
	        strstr(out, "\r\nX-Request-Id: ") != NULL,
	    "%s: the fixed headers", w->why);
	ok(strstr(out, "\nSet-Cookie") == NULL, "%s: no header injected", w->why);
	body = strstr(out, "\r\n\r\n");
	body = body ? body + 4 : "";
	if (w->want_body != NULL)
		is_str(body, w->want_body, "%s: exact body", w->why);
	if (w->want_header != NULL) {
		char h[256];
		snprintf(h, sizeof(h), "\r\n%s\r\n", w->want_header);
		ok(strstr(out, h) != NULL, "%s: %s", w->why, w->want_header);
	}
	{
		char cl[64];
		snprintf(cl, sizeof(cl), "\r\nContent-Length: %zu\r\n", strlen(body));
		ok(strstr(out, cl) != NULL, "%s: Content-Length matches the body", w->why);
	}
}

/* A full purchase window: 429 says when it reopens, not "1". */
static void
test_rate_window(void)
{
	struct row w = {"rate limit", "POST", "/api/user/phone-numbers/purchase", KEY,
	    "application/json", "*", "{\"phone_number\":\"+14155550199\"}", NULL, NULL, 429, NULL,
	    NULL};
	struct vars v;
	const char *ra;
	int secs;

	sql("insert into purchases (account_id, phone_number, country_code, type, price_cents, "
	    "stripe_price_id, sms_capable, stripe_customer, payment_method, state, open, live, "
	    "created_at, updated_at) values (1, '+14155550150', 'US', 'local', 115, 'p', 1, "
	    "'cus_1', 'pm', 'failed', 0, 0, strftime('%s','now') - 20, 0)");
	is_int(run(&w, &v), 429, "rate limit: 429");
	ra = strstr(out, "\r\nRetry-After: ");
	secs = ra ? atoi(ra + 15) : 0;
	ok(secs >= 38 && secs <= 41, "rate limit: Retry-After %d s (the window reopens in ~40 s)",
	    secs);
}

int
main(void)
{
	struct purchase_detail d = {""};
	char *k = NULL;
	size_t i;

	if (fixture_setup_with("test-router", "purchase_rate_per_minute = 1\n") != 0 ||
	    purchase_key_create(ctx, account, &k, &d) != PURCHASE_OK) {
		printf("Bail out! cannot set up\n");
		return 1;
	}
	pur_http_set_hook(ctx->http, fake_hook, &f);
	snprintf(key, sizeof(key), "Bearer %s", k);
	free(k);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		check(&rows[i]);
	is_int(f.nlog, 0, "no row made a provider call");
	test_rate_window();
	fixture_teardown();
	return done_testing();
}
