/*
 * webhooks.c -- the sandbox's webhook endpoint and its deliveries, as
 * Stripe sends them (https://stripe.com/docs/webhooks): each delivery is a
 * POST of the event's exact stored JSON bytes with
 *   Content-Type: application/json; charset=utf-8
 *   User-Agent: Stripe/1.0 (+https://stripe.com/docs/webhooks)
 *   Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]
 * one v1 per configured secret, each HMAC-SHA256 (hmac.c) with that secret
 * over "<t>.<body>"; t is real time, not the sandbox clock (as with
 * Stripe's test clocks).  A 2xx answer delivers the event; anything else
 * (or no answer within 3 s) leaves it pending: at least once.
 *
 * Control endpoints (JSON; no auth):
 *   POST   /_sandbox/webhooks  {"url": "http://127.0.0.1:PORT/...",
 *          "secrets": ["whsec_new", "whsec_old"], "mode": "auto"|"manual"}
 *          one endpoint (replaces any); 200 {"ok", "url", "mode",
 *          "secrets": N}; 400 bad body.  Only events created while an
 *          endpoint is configured are pending for it (as in Stripe).
 *   GET    /_sandbox/webhooks          200 {"url", "mode", "secrets": N}
 *          or {"url": null} when none.
 *   DELETE /_sandbox/webhooks          removes it; pending events are
 *          dropped (nothing left to deliver them to).  200 {"ok": true}.
 *   GET    /_sandbox/webhooks/pending  200 {"data": [{"id", "type",
 *          "created", "payload": "<the exact JSON string>"}]}, oldest
 *          first, so a test can resend or tamper with one itself.
 *   POST   /_sandbox/webhooks/deliver  {"order": "created"|"reverse",
 *          "duplicates": N (1..10, each event sent N times in a row),
 *          "types": [...] | "ids": [...] (only these; not both)}
 *          delivers the pending events synchronously, in either mode, and
 *          answers 200 {"attempts": [{"event", "type", "status"}]} (status:
 *          the HTTP status, 0 when there was no answer); 400 bad body;
 *          409 no endpoint configured.
 *
 * mode "auto": after a reply whose request recorded events (main.c calls
 * sb_webhooks_auto after FCGX_Finish_r), that process delivers every
 * pending event, oldest first.  A lease (60 s, real time) on each event
 * keeps two processes from sending the same one at once.  mode "manual":
 * nothing is sent until /deliver.
 *
 * Every attempt is in the ledger ("deliveries": event, attempted_at in
 * real time, status).  No database lock is held while a POST is in flight:
 * the receiver is the service, which may call the sandbox back.  libcurl is
 * used here only (no redirects, no proxy, loopback URLs only).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <sqlite3.h>

#include "sandbox.h"

#define URL_MAX 1024
#define SECRETS_MAX 8
#define SECRET_MAX 255
#define BATCH_MAX 1000
#define DUPLICATES_MAX 10
#define LEASE_SECONDS 60
#define TIMEOUT_MS 3000L
#define CONNECT_TIMEOUT_MS 1000L
#define USER_AGENT "Stripe/1.0 (+https://stripe.com/docs/webhooks)"

struct endpoint {
	char url[URL_MAX + 1];
	char secrets[SECRETS_MAX * (SECRET_MAX + 1) + 1]; /* '\n'-separated */
	char mode[8];
};

struct pending {
	char id[SB_ID_MAX];
	char type[128];
	char *payload;
	size_t len;
	int delivered;
};

static CURL *curl;

void sb_webhooks_cleanup(void)
{
	if (curl != NULL) {
		curl_easy_cleanup(curl);
		curl_global_cleanup();
		curl = NULL;
	}
}

/* Loads the endpoint; 1 configured, 0 none, -1 error. */
static int endpoint_get(struct endpoint *ep)
{
	sqlite3_stmt *st = sb_db_stmt(SB_ST_WH_GET);
	int rc;

	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(ep->url, sizeof(ep->url), "%s", (const char *)sqlite3_column_text(st, 0));
		snprintf(ep->secrets, sizeof(ep->secrets), "%s",
			 (const char *)sqlite3_column_text(st, 1));
		snprintf(ep->mode, sizeof(ep->mode), "%s", (const char *)sqlite3_column_text(st, 2));
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static size_t count_secrets(const char *s)
{
	size_t n = s[0] != '\0';

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* http(s)://127.0.0.1, localhost or [::1] (a port and path may follow);
 * printable ASCII without blanks. */
static int url_ok(const char *u)
{
	static const char *const bases[] = { "http://127.0.0.1", "http://localhost",
					     "http://[::1]",	 "https://127.0.0.1",
					     "https://localhost", "https://[::1]" };
	size_t i, n = strlen(u);

	if (n == 0 || n > URL_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (u[i] <= 0x20 || u[i] >= 0x7f)
			return 0;
	for (i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		size_t b = strlen(bases[i]);

		if (strncmp(u, bases[i], b) == 0 && (u[b] == '\0' || u[b] == ':' || u[b] == '/'))
			return 1;
	}
	return 0;
}

static int secret_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > SECRET_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == ',')
			return 0;
	return 1;
}

/* POST /_sandbox/webhooks: 200; 400 bad body. */
int sb_control_webhooks_set(struct sb_ctx *c)
{
	static const char *const keys[] = { "url", "secrets", "mode" };
	json_object *o = sb_control_parse_body(c), *url, *secrets, *mode;
	char joined[sizeof(((struct endpoint *)0)->secrets)] = "";
	const char *m = "auto";
	sqlite3_stmt *st;
	size_t i, n;
	int res = 0;

	if (o == NULL)
		return c->json != NULL ? 0 : -1;
	if (sb_control_only_keys(c, o, keys, 3) != 0)
		goto out;
	if (!json_object_object_get_ex(o, "url", &url) ||
	    !json_object_is_type(url, json_type_string) || !url_ok(json_object_get_string(url))) {
		sb_control_bad_request(c, 400, "\"url\" must be an http(s) URL on loopback "
					       "(127.0.0.1, localhost, [::1])");
		goto out;
	}
	if (!json_object_object_get_ex(o, "secrets", &secrets) ||
	    !json_object_is_type(secrets, json_type_array) ||
	    (n = json_object_array_length(secrets)) == 0 || n > SECRETS_MAX)
		goto bad_secrets;
	for (i = 0; i < n; i++) {
		json_object *s = json_object_array_get_idx(secrets, i);

		if (!json_object_is_type(s, json_type_string) || !secret_ok(json_object_get_string(s)))
			goto bad_secrets;
		if (i > 0)
			strcat(joined, "\n");
		strcat(joined, json_object_get_string(s));
	}
	if (json_object_object_get_ex(o, "mode", &mode)) {
		if (!json_object_is_type(mode, json_type_string) ||
		    (strcmp(json_object_get_string(mode), "auto") != 0 &&
		     strcmp(json_object_get_string(mode), "manual") != 0)) {
			sb_control_bad_request(c, 400, "\"mode\" must be \"auto\" or \"manual\"");
			goto out;
		}
		m = json_object_get_string(mode);
	}
	st = sb_db_stmt(SB_ST_WH_PUT);
	if (st == NULL) {
		res = -1;
		goto out;
	}
	sqlite3_bind_text(st, 1, json_object_get_string(url), -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, joined, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, m, -1, SQLITE_TRANSIENT);
	if (sb_db_done(st) != 0 || sb_control_reply_ok(c) != 0) {
		res = -1;
		goto out;
	}
	json_object_object_add(c->json, "url", json_object_new_string(json_object_get_string(url)));
	json_object_object_add(c->json, "mode", json_object_new_string(m));
	json_object_object_add(c->json, "secrets", json_object_new_int((int)n));
	goto out;
bad_secrets:
	sb_control_bad_request(c, 400, "\"secrets\" must be 1 to 8 strings of printable "
				       "ASCII without blanks or commas, at most 255 each");
out:
	json_object_put(o);
	return res;
}

/* GET /_sandbox/webhooks: 200. */
int sb_control_webhooks_get(struct sb_ctx *c)
{
	struct endpoint ep;
	int rc = endpoint_get(&ep);

	if (rc < 0)
		return -1;
	c->json = json_object_new_object();
	if (c->json == NULL)
		return -1;
	json_object_object_add(c->json, "url", rc ? json_object_new_string(ep.url) : NULL);
	if (rc) {
		json_object_object_add(c->json, "mode", json_object_new_string(ep.mode));
		json_object_object_add(c->json, "secrets",
				       json_object_new_int((int)count_secrets(ep.secrets)));
	}
	c->status = 200;
	return 0;
}

/* DELETE /_sandbox/webhooks: 200. */
int sb_control_webhooks_delete(struct sb_ctx *c)
{
	if (sb_db_done(sb_db_stmt(SB_ST_WH_DEL)) != 0 ||
	    sb_db_done(sb_db_stmt(SB_ST_EVT_CLEAR_PENDING)) != 0)
		return -1;
	return sb_control_reply_ok(c);
}

/* GET /_sandbox/webhooks/pending: 200 {"data": [...]}, oldest first. */
int sb_control_webhooks_pending(struct sb_ctx *c)
{
	sqlite3_stmt *st = sb_db_stmt(SB_ST_EVT_PENDING);
	json_object *data = json_object_new_array();
	int rc;

	if (st == NULL || data == NULL) {
		json_object_put(data);
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_object *e = json_object_new_object();

		if (e == NULL)
			break;
		json_object_object_add(e, "id", json_object_new_string(
							(const char *)sqlite3_column_text(st, 1)));
		json_object_object_add(e, "type", json_object_new_string(
							  (const char *)sqlite3_column_text(st, 2)));
		json_object_object_add(e, "created",
				       json_object_new_int64(sqlite3_column_int64(st, 3)));
		json_object_object_add(e, "payload",
				       json_object_new_string_len(sqlite3_column_blob(st, 4),
								  sqlite3_column_bytes(st, 4)));
		json_object_array_add(data, e);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		json_object_put(data);
		return -1;
	}
	c->json = json_object_new_object();
	if (c->json == NULL) {
		json_object_put(data);
		return -1;
	}
	json_object_object_add(c->json, "data", data);
	c->status = 200;
	return 0;
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* Appends s to the header buffer h (size n); 0 or -1 if it does not fit. */
static int put(char *h, size_t n, size_t *used, const char *s)
{
	size_t l = strlen(s);

	if (*used + l + 1 > n)
		return -1;
	memcpy(h + *used, s, l + 1);
	*used += l;
	return 0;
}

/* Posts one event to ep; returns the HTTP status, 0 when there was no
 * answer (refused, timed out, curl failure). */
static long post(const struct endpoint *ep, const struct pending *ev)
{
	char sig[40 + SECRETS_MAX * (4 + 2 * SB_SHA256_LEN)], t[24];
	unsigned char mac[SB_SHA256_LEN];
	const char *s = ep->secrets;
	struct curl_slist *hdrs = NULL, *h;
	char *signed_payload;
	size_t used = 0, tl, i;
	long status = 0;

	if (curl == NULL) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
			return 0;
		curl = curl_easy_init();
		if (curl == NULL) {
			curl_global_cleanup();
			return 0;
		}
	}
	snprintf(t, sizeof(t), "%lld", (long long)time(NULL));
	tl = strlen(t);
	signed_payload = malloc(tl + 1 + ev->len);
	if (signed_payload == NULL)
		return 0;
	memcpy(signed_payload, t, tl);
	signed_payload[tl] = '.';
	memcpy(signed_payload + tl + 1, ev->payload, ev->len);
	sig[0] = '\0';
	put(sig, sizeof(sig), &used, "Stripe-Signature: t=");
	put(sig, sizeof(sig), &used, t);
	while (*s != '\0') {
		size_t kl = strcspn(s, "\n");
		char hex[2 * SB_SHA256_LEN + 1];

		sb_hmac_sha256(s, kl, signed_payload, tl + 1 + ev->len, mac);
		for (i = 0; i < SB_SHA256_LEN; i++)
			snprintf(hex + 2 * i, 3, "%02x", mac[i]);
		put(sig, sizeof(sig), &used, ",v1=");
		put(sig, sizeof(sig), &used, hex);
		s += kl;
		if (*s == '\n')
			s++;
	}
	free(signed_payload);

	h = curl_slist_append(NULL, "Content-Type: application/json; charset=utf-8");
	if (h != NULL)
		hdrs = h;
	h = h != NULL ? curl_slist_append(hdrs, sig) : NULL;
	h = h != NULL ? curl_slist_append(hdrs, "Expect:") : NULL;
	if (h == NULL) {
		curl_slist_free_all(hdrs);
		return 0;
	}
	curl_easy_reset(curl);
	curl_easy_setopt(curl, CURLOPT_URL, ep->url);
	curl_easy_setopt(curl, CURLOPT_POST, 1L);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, ev->payload);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)ev->len);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, USER_AGENT);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, TIMEOUT_MS);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_PROXY, ""); /* never a proxy from the environment */
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
	if (curl_easy_perform(curl) == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdrs);
	return status;
}

static void free_batch(struct pending *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(p[i].payload);
	free(p);
}

/* Records one attempt (and the delivery on 2xx) in its own transaction. */
static int record(const struct pending *ev, long status)
{
	sqlite3_stmt *st;

	if (sb_db_begin() != 0)
		return -1;
	st = sb_db_stmt(SB_ST_DLV_INS);
	if (st == NULL)
		goto fail;
	sqlite3_bind_text(st, 1, ev->id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
	sqlite3_bind_int64(st, 3, status);
	if (sb_db_done(st) != 0)
		goto fail;
	st = sb_db_stmt(status >= 200 && status < 300 ? SB_ST_EVT_DELIVERED : SB_ST_EVT_UNLEASE);
	if (st == NULL)
		goto fail;
	sqlite3_bind_text(st, 1, ev->id, -1, SQLITE_TRANSIENT);
	if (sb_db_done(st) != 0)
		goto fail;
	return sb_db_commit();
fail:
	sb_db_rollback();
	return -1;
}

/* Releases the leases of n events not attempted; 0 or -1. */
static int unlease(const struct pending *p, size_t n)
{
	sqlite3_stmt *st;
	size_t i;

	if (sb_db_begin() != 0)
		return -1;
	for (i = 0; i < n; i++) {
		st = sb_db_stmt(SB_ST_EVT_UNLEASE);
		if (st == NULL)
			goto fail;
		sqlite3_bind_text(st, 1, p[i].id, -1, SQLITE_TRANSIENT);
		if (sb_db_done(st) != 0)
			goto fail;
	}
	return sb_db_commit();
fail:
	sb_db_rollback();
	return -1;
}

/* 1 if s is one of the strings of arr (NULL arr: everything matches). */
static int listed(json_object *arr, const char *s)
{
	size_t i, n;

	if (arr == NULL)
		return 1;
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(arr, i)), s) == 0)
			return 1;
	return 0;
}

/* Reads the pending events (filtered by type or id through want_types /
 * want_ids, NULL = all) into a new array, in seq order; with lease set,
 * only those not leased by another process, and leases them.  Inside the
 * caller's transaction.  *n items; returns the array (NULL with *n 0 when
 * there is none), or sets *err on failure. */
static struct pending *load_pending(json_object *want_types, json_object *want_ids, int lease,
				    size_t *n, int *err)
{
	sqlite3_stmt *st = sb_db_stmt(SB_ST_EVT_PENDING);
	struct pending *p = NULL;
	long long now = (long long)time(NULL);
	size_t i;
	int rc;

	*n = 0;
	*err = 0;
	if (st == NULL) {
		*err = 1;
		return NULL;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < BATCH_MAX) {
		const char *id = (const char *)sqlite3_column_text(st, 1);
		const char *type = (const char *)sqlite3_column_text(st, 2);
		struct pending *e;
		int len = sqlite3_column_bytes(st, 4);

		if (!listed(want_types, type) || !listed(want_ids, id))
			continue;
		if (lease && sqlite3_column_type(st, 5) != SQLITE_NULL &&
		    sqlite3_column_int64(st, 5) >= now)
			continue;
		if (p == NULL) {
			p = calloc(BATCH_MAX, sizeof(*p));
			if (p == NULL)
				break;
		}
		e = &p[*n];
		snprintf(e->id, sizeof(e->id), "%s", id);
		snprintf(e->type, sizeof(e->type), "%s", type);
		e->payload = malloc((size_t)len + 1);
		if (e->payload == NULL)
			break;
		memcpy(e->payload, sqlite3_column_blob(st, 4), (size_t)len);
		e->payload[len] = '\0';
		e->len = (size_t)len;
		++*n;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		goto fail;
	if (rc == SQLITE_ROW && *n < BATCH_MAX)
		goto fail; /* allocation failure */
	for (i = 0; lease && i < *n; i++) {
		st = sb_db_stmt(SB_ST_EVT_CLAIM);
		if (st == NULL)
			goto fail;
		sqlite3_bind_text(st, 1, p[i].id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, now + LEASE_SECONDS);
		sqlite3_bind_int64(st, 3, now);
		if (sb_db_done(st) != 0)
			goto fail;
	}
	return p;
fail:
	free_batch(p, *n);
	*n = 0;
	*err = 1;
	return NULL;
}

void sb_webhooks_auto(void)
{
	struct endpoint ep;
	struct pending *p;
	size_t n, i;
	int rc, err;

	if (sb_db_begin() != 0)
		return;
	rc = endpoint_get(&ep);
	if (rc <= 0 || strcmp(ep.mode, "auto") != 0) {
		sb_db_rollback();
		return;
	}
	p = load_pending(NULL, NULL, 1, &n, &err);
	if (err || sb_db_commit() != 0) {
		sb_db_rollback();
		free_batch(p, n);
		fprintf(stderr, "sandbox: cannot read pending webhook events\n");
		return;
	}
	for (i = 0; i < n && !sb_stopping; i++)
		if (record(&p[i], post(&ep, &p[i])) != 0)
			fprintf(stderr, "sandbox: cannot record a webhook delivery of %s\n", p[i].id);
	if (i < n && unlease(p + i, n - i) != 0) /* stopping: others may send the rest */
		fprintf(stderr, "sandbox: cannot release webhook leases\n");
	free_batch(p, n);
}

/* An optional array of strings: 0 ok (*out NULL when absent), -1 bad. */
static int string_array(json_object *o, const char *key, json_object **out)
{
	json_object *v;
	size_t i, n;

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_array))
		return -1;
	n = json_object_array_length(v);
	for (i = 0; i < n; i++)
		if (!json_object_is_type(json_object_array_get_idx(v, i), json_type_string))
			return -1;
	*out = v;
	return 0;
}

/* POST /_sandbox/webhooks/deliver: 200 {"attempts"}; 400; 409.  Runs
 * without the router's transaction: reads (and commits) first, then posts,
 * then records each event's attempts in a transaction of its own. */
int sb_control_webhooks_deliver(struct sb_ctx *c)
{
	static const char *const keys[] = { "order", "duplicates", "types", "ids" };
	json_object *o = sb_control_parse_body(c), *v, *types = NULL, *ids = NULL, *att = NULL;
	struct endpoint ep;
	struct pending *p = NULL;
	size_t n = 0, i;
	int64_t dup = 1;
	int reverse = 0, rc, err, res = -1;

	if (o == NULL)
		return c->json != NULL ? 0 : -1;
	if (sb_control_only_keys(c, o, keys, 4) != 0) {
		res = 0;
		goto out;
	}
	if (json_object_object_get_ex(o, "order", &v)) {
		if (!json_object_is_type(v, json_type_string) ||
		    (strcmp(json_object_get_string(v), "created") != 0 &&
		     strcmp(json_object_get_string(v), "reverse") != 0)) {
			sb_control_bad_request(c, 400, "\"order\" must be \"created\" or \"reverse\"");
			res = 0;
			goto out;
		}
		reverse = strcmp(json_object_get_string(v), "reverse") == 0;
	}
	if (json_object_object_get_ex(o, "duplicates", &v) &&
	    (!json_object_is_type(v, json_type_int) || (dup = json_object_get_int64(v)) < 1 ||
	     dup > DUPLICATES_MAX)) {
		sb_control_bad_request(c, 400, "\"duplicates\" must be an integer from 1 to 10");
		res = 0;
		goto out;
	}
	if (string_array(o, "types", &types) != 0 || string_array(o, "ids", &ids) != 0 ||
	    (types != NULL && ids != NULL)) {
		sb_control_bad_request(c, 400, "\"types\" or \"ids\" (not both): arrays of strings");
		res = 0;
		goto out;
	}

	if (sb_db_begin() != 0)
		goto out;
	rc = endpoint_get(&ep);
	if (rc <= 0) {
		sb_db_rollback();
		if (rc == 0) {
			sb_control_bad_request(c, 409, "no webhook endpoint is configured");
			res = 0;
		}
		goto out;
	}
	p = load_pending(types, ids, 0, &n, &err);
	if (err || sb_db_commit() != 0) {
		sb_db_rollback();
		goto out;
	}
	att = json_object_new_array();
	if (att == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		struct pending *ev = &p[reverse ? n - 1 - i : i];
		int64_t k;

		for (k = 0; k < dup; k++) {
			long status = post(&ep, ev);
			json_object *a = json_object_new_object();

			if (a == NULL)
				goto out;
			json_object_object_add(a, "event", json_object_new_string(ev->id));
			json_object_object_add(a, "type", json_object_new_string(ev->type));
			json_object_object_add(a, "status", json_object_new_int((int)status));
			json_object_array_add(att, a);
			if (record(ev, status) != 0)
				goto out;
		}
	}
	c->json = json_object_new_object();
	if (c->json == NULL)
		goto out;
	json_object_object_add(c->json, "attempts", att);
	att = NULL;
	c->status = 200;
	res = 0;
out:
	free_batch(p, n);
	json_object_put(att);
	json_object_put(o);
	return res;
}
