/*
 * http.c -- provider HTTP calls through libcurl.
 *
 * libcurl is loaded (dlopen) by the first call that needs it, not linked:
 * on Debian it brings some 30 shared objects (TLS, Kerberos, LDAP, SSH...)
 * whose loading costs ~12 ms of every exec and ~8 MiB of every process --
 * the whole budget of a plain-CGI request, and most of the memory of a
 * worker that never calls a provider (health, refusals, replays). The
 * headers are the build's; CURL_SONAME is the library they belong to.
 */
#include "autoconfig.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

/* The libcurl functions used, resolved once. */
static struct {
	void *lib;
	CURLcode (*global_init)(long);
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	CURLcode (*easy_perform)(CURL *);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
} cu;
static char load_error[256];

#define RESOLVE(field, name) \
	((*(void **)&cu.field = dlsym(cu.lib, name)) != NULL)

/* Loads libcurl and initializes it; 0 on success. Run once per process
 * (pthread_once: curl_global_init is not for threads racing each other). */
static int
curl_load_once(void)
{
	if ((cu.lib = dlopen(CURL_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		snprintf(load_error, sizeof(load_error), "%s", dlerror());
		return -1;
	}
	if (!(RESOLVE(global_init, "curl_global_init") && RESOLVE(easy_cleanup, "curl_easy_cleanup") &&
	        RESOLVE(easy_setopt, "curl_easy_setopt") &&
	        RESOLVE(easy_getinfo, "curl_easy_getinfo") &&
	        RESOLVE(easy_perform, "curl_easy_perform") &&
	        RESOLVE(slist_append, "curl_slist_append") &&
	        RESOLVE(slist_free_all, "curl_slist_free_all"))) {
		snprintf(load_error, sizeof(load_error), "%s: %s", CURL_SONAME, dlerror());
		return -1;
	}
	if (cu.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(load_error, sizeof(load_error), "%s: curl_global_init failed", CURL_SONAME);
		return -1;
	}
	/* Last: it is what says "loaded". */
	if (!RESOLVE(easy_init, "curl_easy_init")) {
		snprintf(load_error, sizeof(load_error), "%s: %s", CURL_SONAME, dlerror());
		return -1;
	}
	return 0;
}

static int curl_loaded = -1;

static void
curl_load_init(void)
{
	if ((curl_loaded = curl_load_once()) != 0)
		/* Said once per process, where the operator looks (the
		 * server's error log); every call then fails as "not sent". */
		fprintf(stderr, "purchase: cannot use libcurl (%s); provider calls fail\n",
		    load_error);
}

static int
curl_load(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, curl_load_init);
	return curl_loaded;
}

struct pur_http {
	CURL *curl;
	long connect_timeout_ms;
	long timeout_ms;
	size_t max_reply;
	pur_http_hook_fn hook;
	void *hook_arg;
	void (*before)(void *);
	void *before_arg;
};

struct pur_http *
pur_http_new(long connect_timeout_ms, long timeout_ms, size_t max_reply)
{
	struct pur_http *h;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->connect_timeout_ms = connect_timeout_ms;
	h->timeout_ms = timeout_ms;
	h->max_reply = max_reply;
	return h;
}

void
pur_http_free(struct pur_http *h)
{
	if (h == NULL)
		return;
	if (h->curl != NULL)
		cu.easy_cleanup(h->curl);
	free(h);
}

void
pur_http_set_before(struct pur_http *h, void (*fn)(void *), void *arg)
{
	h->before = fn;
	h->before_arg = arg;
}

void
pur_http_set_hook(struct pur_http *h, pur_http_hook_fn fn, void *arg)
{
	h->hook = fn;
	h->hook_arg = arg;
}

void
pur_http_reply_init(struct pur_http_reply *r)
{
	memset(r, 0, sizeof(*r));
	pur_buf_init(&r->body, 0);
}

void
pur_http_reply_free(struct pur_http_reply *r)
{
	pur_buf_free(&r->body);
}

static size_t
on_data(char *p, size_t size, size_t n, void *arg)
{
	struct pur_buf *b = arg;

	/* Returning less than asked aborts the transfer (CURLE_WRITE_ERROR):
	 * the reply is over its ceiling and will not be trusted. */
	if (pur_buf_add(b, p, size * n) != 0)
		return 0;
	return size * n;
}

/*
 * The body of a POST, handed to libcurl through a read callback rather than
 * CURLOPT_POSTFIELDS, for one reason: libcurl resends a request by itself,
 * on a fresh connection, when a kept-alive connection dies before the
 * reply ("Connection died, retrying a fresh connect"). For a request with
 * no idempotency key -- Twilio's buy -- the first one may have been acted
 * on: a silent second one buys twice, or turns our own buy into a "number
 * taken" refusal. With a body it must rewind, and the seek callback
 * refuses: the transfer then fails (CURLE_SEND_FAIL_REWIND) and the call is
 * UNKNOWN, which the flow resolves by looking the number up. Before any of
 * the body was sent libcurl resends without rewinding, which is safe:
 * nothing complete reached the server. (libcurl 8.16 has
 * CURLOPT_FORBID_RETRY_ON_REUSE; Debian 12 has 7.88.)
 */
struct upload {
	const char *data;
	size_t len, off;
	int rewound;  /* libcurl wanted to send it again */
};

static size_t
on_read(char *p, size_t size, size_t n, void *arg)
{
	struct upload *u = arg;
	size_t want = size * n, left = u->len - u->off;

	if (want > left)
		want = left;
	memcpy(p, u->data + u->off, want);
	u->off += want;
	return want;
}

static int
on_seek(void *arg, curl_off_t offset, int origin)
{
	struct upload *u = arg;

	(void)offset;
	(void)origin;
	u->rewound = 1;
	return CURL_SEEKFUNC_CANTSEEK;
}

static int
is_loopback_http(const char *url)
{
	return strncmp(url, "http://", 7) == 0;
}

/* The handle, made once per process (its connections are kept alive
 * between calls), with every option that is the same for every call. */
static CURL *
setup(const struct pur_http *h)
{
	CURL *c = cu.easy_init();

	if (c == NULL)
		return NULL;
	cu.easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	cu.easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	cu.easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	cu.easy_setopt(c, CURLOPT_PROXY, "");
	cu.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	/* (the read callback's buffer: 64 KiB by default, for bodies of a few
	 * hundred bytes; 16 KiB is libcurl's least. A handle per thread.) */
	cu.easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, 16384L);
	cu.easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, h->connect_timeout_ms);
	cu.easy_setopt(c, CURLOPT_TIMEOUT_MS, h->timeout_ms);
	cu.easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)h->max_reply);
	cu.easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	cu.easy_setopt(c, CURLOPT_USERAGENT, "purchase/" PACKAGE_VERSION);
	cu.easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
	cu.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	cu.easy_setopt(c, CURLOPT_READFUNCTION, on_read);
	cu.easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
	return c;
}

static enum purchase_err
add_header2(struct curl_slist **l, const char *name, const char *prefix, const char *value)
{
	struct pur_buf b;
	struct curl_slist *n;

	pur_buf_init(&b, 4096);
	if (pur_buf_adds(&b, name) != 0 || pur_buf_adds(&b, ": ") != 0 ||
	    pur_buf_adds(&b, prefix) != 0 || pur_buf_adds(&b, value) != 0) {
		pur_buf_free(&b);
		return PURCHASE_ENOMEM;
	}
	n = cu.slist_append(*l, b.data);
	pur_buf_free(&b);
	if (n == NULL)
		return PURCHASE_ENOMEM;
	*l = n;
	return PURCHASE_OK;
}

static enum purchase_err
add_header(struct curl_slist **l, const char *name, const char *value)
{
	return add_header2(l, name, "", value);
}

enum purchase_err
pur_http_do(struct pur_http *h, const struct pur_http_req *req, struct pur_http_reply *r)
{
	struct curl_slist *hdr = NULL, *tmp;
	struct upload up = {NULL, 0, 0, 0};
	enum purchase_err err = PURCHASE_ENOMEM;
	CURLcode rc;
	CURL *c;
	long reqsize = 0;
	double total = 0;

	pur_buf_free(&r->body);
	pur_buf_init(&r->body, h->max_reply);
	r->status = 0;
	r->outcome = PUR_HTTP_UNKNOWN;
	if (req->url == NULL || req->method == NULL)
		return PURCHASE_EINVAL;
	if (h->before != NULL)
		h->before(h->before_arg);
	if (h->hook != NULL)
		return h->hook(h->hook_arg, req, r);
	/* Without libcurl nothing can be sent: a transport failure. */
	if (curl_load() != 0 || (h->curl == NULL && (h->curl = setup(h)) == NULL)) {
		r->outcome = PUR_HTTP_NOT_SENT;
		return PURCHASE_OK;
	}
	c = h->curl;

	/* Headers are not trusted to any value containing a line break. */
	if ((req->idem_key && strpbrk(req->idem_key, "\r\n")) ||
	    (req->bearer && strpbrk(req->bearer, "\r\n")))
		return PURCHASE_EINVAL;
	/* "Expect:" with no value removes curl's 100-continue round trip. */
	if (add_header(&hdr, "Accept", "application/json") != PURCHASE_OK ||
	    (tmp = cu.slist_append(hdr, "Expect:")) == NULL)
		goto out;
	hdr = tmp;
	if (req->bearer && add_header2(&hdr, "Authorization", "Bearer ", req->bearer) != PURCHASE_OK)
		goto out;
	if (req->idem_key && add_header(&hdr, "Idempotency-Key", req->idem_key) != PURCHASE_OK)
		goto out;
	if (req->version && add_header(&hdr, "Stripe-Version", req->version) != PURCHASE_OK)
		goto out;
	if (req->form && add_header(&hdr, "Content-Type", "application/x-www-form-urlencoded") !=
	    PURCHASE_OK)
		goto out;

	/* Per call only what differs between calls: the options that never
	 * change were set once, when the handle was made (setup). */
	cu.easy_setopt(c, CURLOPT_URL, req->url);
#if LIBCURL_VERSION_NUM >= 0x075500
	cu.easy_setopt(c, CURLOPT_PROTOCOLS_STR, is_loopback_http(req->url) ? "http" : "https");
#else
	cu.easy_setopt(c, CURLOPT_PROTOCOLS,
	    is_loopback_http(req->url) ? CURLPROTO_HTTP : CURLPROTO_HTTPS);
#endif
	cu.easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	cu.easy_setopt(c, CURLOPT_WRITEDATA, &r->body);
	if (req->user != NULL) {
		cu.easy_setopt(c, CURLOPT_USERNAME, req->user);
		cu.easy_setopt(c, CURLOPT_PASSWORD, req->pass ? req->pass : "");
	}
	if (strcmp(req->method, "POST") == 0) {
		up.data = req->form ? req->form : "";
		up.len = strlen(up.data);
		cu.easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
		cu.easy_setopt(c, CURLOPT_POST, 1L);
		cu.easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)up.len);
		cu.easy_setopt(c, CURLOPT_READDATA, &up);
		cu.easy_setopt(c, CURLOPT_SEEKDATA, &up);
	} else {
		/* GET, or DELETE as a GET without a body by another name. */
		cu.easy_setopt(c, CURLOPT_HTTPGET, 1L);
		cu.easy_setopt(c, CURLOPT_CUSTOMREQUEST,
		    strcmp(req->method, "GET") != 0 ? req->method : NULL);
	}

	rc = cu.easy_perform(c);
	cu.easy_getinfo(c, CURLINFO_REQUEST_SIZE, &reqsize);
	cu.easy_getinfo(c, CURLINFO_TOTAL_TIME, &total);
	r->elapsed_ms = (long)(total * 1000);
	if (rc == CURLE_OK && !up.rewound) {
		cu.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
		r->outcome = PUR_HTTP_REPLY;
	} else if (up.rewound || rc == CURLE_SEND_FAIL_REWIND) {
		/* The request went out and its connection died: it may have
		 * been acted on (see struct upload). */
		r->outcome = PUR_HTTP_UNKNOWN;
	} else if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
	           rc == CURLE_COULDNT_RESOLVE_PROXY || rc == CURLE_SSL_CONNECT_ERROR ||
	           rc == CURLE_PEER_FAILED_VERIFICATION || reqsize == 0) {
		/* Nothing of the request left this machine. */
		r->outcome = PUR_HTTP_NOT_SENT;
	} else {
		r->outcome = PUR_HTTP_UNKNOWN;
	}
	err = PURCHASE_OK;
out:
	cu.slist_free_all(hdr);
	/* Credentials must not linger in the reused handle, nor pointers
	 * to this call's buffers. */
	cu.easy_setopt(c, CURLOPT_USERNAME, NULL);
	cu.easy_setopt(c, CURLOPT_PASSWORD, NULL);
	cu.easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	cu.easy_setopt(c, CURLOPT_WRITEDATA, NULL);
	cu.easy_setopt(c, CURLOPT_READDATA, NULL);
	cu.easy_setopt(c, CURLOPT_SEEKDATA, NULL);
	return err;
}

const char *
pur_call_name(enum pur_call c)
{
	switch (c) {
	case PUR_CALL_OK: return "ok";
	case PUR_CALL_DECLINED: return "declined";
	case PUR_CALL_GONE: return "gone";
	case PUR_CALL_REJECTED: return "rejected";
	case PUR_CALL_RETRY: return "retry";
	case PUR_CALL_UNKNOWN: return "unknown";
	}
	return "?";
}

enum pur_call
pur_http_call(struct pur_http *h, const struct pur_http_req *req, struct pur_http_reply *r,
    struct pur_call_info *info)
{
	if (info != NULL)
		memset(info, 0, sizeof(*info));
	if (pur_http_do(h, req, r) != PURCHASE_OK)
		return PUR_CALL_RETRY; /* nothing was sent */
	if (info != NULL) {
		info->status = r->status;
		info->elapsed_ms = r->elapsed_ms;
		if (load_error[0] != '\0')
			snprintf(info->code, sizeof(info->code), "libcurl_not_loaded");
	}
	if (r->outcome == PUR_HTTP_NOT_SENT)
		return PUR_CALL_RETRY;
	if (r->outcome != PUR_HTTP_REPLY)
		return PUR_CALL_UNKNOWN;
	if (r->status >= 200 && r->status < 300)
		return PUR_CALL_OK;
	if (r->status == 429)
		return PUR_CALL_RETRY;
	if (r->status >= 500 || r->status < 200)
		return PUR_CALL_UNKNOWN;
	return PUR_CALL_REJECTED;
}
