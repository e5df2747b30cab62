/*
 * request.c -- reading the request: meta-variables (RFC 3875 §4.1) and the
 * body, bounded.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "request.h"

static const char *
param(const struct request *r, const char *name)
{
	return r->src->param(r->src->arg, name);
}

/* An X-Request-Id we accept from a proxy: 1-36 of [A-Za-z0-9._-]. */
static int
good_request_id(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 36)
		return 0;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static void
new_request_id(char out[40])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[8] = {0};
	size_t i;

	if (getrandom(r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
		static _Atomic unsigned long counter;
		snprintf(out, 40, "req%lu", ++counter);
		return;
	}
	for (i = 0; i < sizeof(r); i++) {
		out[2 * i] = hex[r[i] >> 4];
		out[2 * i + 1] = hex[r[i] & 15];
	}
	out[16] = '\0';
}

/*
 * The API path. REQUEST_URI is what the client asked for whatever the
 * server did with SCRIPT_NAME and PATH_INFO (an .htaccess rewrite, a
 * sub-directory on shared hosting): the route starts at its first "/api/".
 * Plain CGI without REQUEST_URI (a test harness) falls back to PATH_INFO.
 */
static void
set_path(struct request *r)
{
	const char *uri = param(r, "REQUEST_URI"), *p;
	size_t n;

	r->path[0] = '\0';
	if (uri == NULL || *uri == '\0')
		uri = param(r, "PATH_INFO");
	if (uri == NULL)
		return;
	n = strcspn(uri, "?#");
	for (p = uri; p + 4 <= uri + n; p++)
		if (strncmp(p, "/api/", 5) == 0 || (strncmp(p, "/api", 4) == 0 && p + 4 == uri + n))
			break;
	if (p + 4 > uri + n)
		return;
	n -= (size_t)(p - uri);
	if (n >= sizeof(r->path))
		return;
	memcpy(r->path, p, n);
	r->path[n] = '\0';
}

void
request_init(struct request *r, const struct source *src)
{
	const char *rid;

	memset(r, 0, sizeof(*r));
	r->src = src;
	r->method = param(r, "REQUEST_METHOD");
	if (r->method == NULL)
		r->method = "GET";
	r->query = param(r, "QUERY_STRING");
	if (r->query == NULL)
		r->query = "";
	r->authorization = param(r, "HTTP_AUTHORIZATION");
	r->idem_key = param(r, "HTTP_IDEMPOTENCY_KEY");
	r->stripe_signature = param(r, "HTTP_STRIPE_SIGNATURE");
	r->content_type = param(r, "CONTENT_TYPE");
	r->content_length = param(r, "CONTENT_LENGTH");
	r->config = param(r, "PURCHASE_CONFIG");
	rid = param(r, "HTTP_X_REQUEST_ID");
	if (good_request_id(rid))
		snprintf(r->request_id, sizeof(r->request_id), "%s", rid);
	else
		new_request_id(r->request_id);
	set_path(r);
}

/* "application/json", optionally with parameters ("; charset=utf-8"). */
static int
is_json(const char *ct)
{
	size_t n;

	if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0)
		return 0;
	ct += 16;
	n = strspn(ct, " \t");
	return ct[0] == '\0' || ct[n] == ';';
}

/* Content-Type and Content-Length of a JSON body: *want its length. */
static enum purchase_err
check_length(const struct request *r, size_t max, size_t *want)
{
	const char *cl = r->content_length;

	*want = 0;
	if (!is_json(r->content_type))
		return PURCHASE_EMEDIA;
	/* No length, or a length of zero: mod_fcgid reads the body itself and
	 * passes CONTENT_LENGTH=0 when the client sent no Content-Length, so
	 * the two cannot be told apart -- and an empty body is never a valid
	 * request here. Both are 411, on every server. */
	if (cl == NULL || *cl == '\0')
		return PURCHASE_ELENGTH;
	/* Whole-string, bounded: digits only, and stop before overflow. */
	for (; *cl != '\0'; cl++) {
		if (*cl < '0' || *cl > '9')
			return PURCHASE_EBODY;
		*want = *want * 10 + (size_t)(*cl - '0');
		if (*want > max)
			return PURCHASE_ETOO_LARGE;
	}
	/* A zero spelled with more digits ("00", found by tests/fuzz/fuzz-request)
	 * is the same empty body as "0": 411 too, not an empty body read. */
	return *want == 0 ? PURCHASE_ELENGTH : PURCHASE_OK;
}

/* Reads exactly want bytes into buf. */
static enum purchase_err
read_exactly(struct request *r, char *buf, size_t want)
{
	size_t got = 0;
	int n;

	while (got < want) {
		n = r->src->read(r->src->arg, buf + got, want - got);
		if (n <= 0)
			return PURCHASE_EBODY;
		got += (size_t)n;
	}
	buf[got] = '\0';
	return PURCHASE_OK;
}

enum purchase_err
request_read_json_body(struct request *r)
{
	enum purchase_err err;
	size_t want;

	if ((err = check_length(r, BODY_MAX, &want)) != PURCHASE_OK ||
	    (err = read_exactly(r, r->body, want)) != PURCHASE_OK)
		return err;
	r->body_len = want;
	return PURCHASE_OK;
}

enum purchase_err
request_read_raw(struct request *r, size_t max)
{
	enum purchase_err err;
	size_t want;

	if ((err = check_length(r, max, &want)) != PURCHASE_OK)
		return err;
	free(r->raw);
	if ((r->raw = malloc(want + 1)) == NULL)
		return PURCHASE_ENOMEM;
	if ((err = read_exactly(r, r->raw, want)) != PURCHASE_OK)
		return err;
	r->raw_len = want;
	return PURCHASE_OK;
}

void
request_free(struct request *r)
{
	free(r->raw);
	r->raw = NULL;
	r->raw_len = 0;
}
