/*
 * main.c -- the FastCGI responder loop of sandbox.fcgi (libfcgi's FCGX
 * API; fcgi_stdio.h is never used): reads configuration from the
 * environment, opens the database once per process, then for each request
 * reads the CGI variables (RFC 3875) and the body, hands them to route.c
 * and writes the response.  Run without a FastCGI listener (FCGX_IsCGI) it
 * serves exactly one request as plain CGI on stdin/stdout, for debugging.
 *
 * Webhooks in mode "auto" (webhooks.c) are delivered after the reply is
 * complete: once FCGX_Finish_r has handed it to the server (or stdout is
 * closed in CGI mode), a request that recorded events has this process
 * deliver every pending event before it accepts the next request.
 *
 * SIGTERM (what lighttpd sends its FastCGI children at shutdown) makes the
 * accept loop end and main() return normally -- after the request in
 * flight, whose fault sleeps are cut short, and without further webhook
 * deliveries -- so that a sanitizer build's leak check runs.
 *
 * Environment: SANDBOX_DB (required), SANDBOX_STRIPE_KEY
 * (sk_test_sandbox), SANDBOX_TWILIO_SID (AC000...0), SANDBOX_TWILIO_TOKEN
 * (sandbox_token).
 */
#define _DEFAULT_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcgiapp.h>

#include "sandbox.h"

extern char **environ;

/* Where a request comes from and its response goes: an FCGX request, or
 * stdin/stdout in CGI mode. */
struct io {
	FCGX_Stream *in, *out;
	char **envp;
};

/* SIGTERM: libfcgi's accept loop stops (FCGX_ShutdownPending only sets a
 * flag; with FCGI_FAIL_ACCEPT_ON_INTR the interrupted accept returns). */
volatile sig_atomic_t sb_stopping;

static void on_term(int sig)
{
	(void)sig;
	sb_stopping = 1;
	FCGX_ShutdownPending();
}

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : def;
}

static const char *param(const struct io *io, const char *name)
{
	return FCGX_GetParam(name, io->envp);
}

static size_t io_read(struct io *io, char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		int chunk = n - got > 65536 ? 65536 : (int)(n - got);
		size_t r;

		if (io->in != NULL) {
			int k = FCGX_GetStr(buf + got, chunk, io->in);

			r = k > 0 ? (size_t)k : 0;
		} else {
			r = fread(buf + got, 1, (size_t)chunk, stdin);
		}
		if (r == 0)
			break;
		got += r;
	}
	return got;
}

static void io_write(struct io *io, const char *s, size_t n)
{
	while (n > 0) {
		int chunk = n > 1048576 ? 1048576 : (int)n;

		if (io->out != NULL) {
			if (FCGX_PutStr(s, chunk, io->out) != chunk)
				return; /* client gone; nothing to do */
		} else if (fwrite(s, 1, (size_t)chunk, stdout) != (size_t)chunk) {
			return;
		}
		s += chunk;
		n -= (size_t)chunk;
	}
}

static void io_puts(struct io *io, const char *s)
{
	io_write(io, s, strlen(s));
}

static void header(struct io *io, const char *name, const char *value)
{
	io_puts(io, name);
	io_puts(io, ": ");
	io_puts(io, value);
	io_puts(io, "\r\n");
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 402: return "Payment Required";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Payload Too Large";
	case 414: return "URI Too Long";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 504: return "Gateway Timeout";
	default: return "Unknown";
	}
}

static void write_response(struct io *io, const struct sb_response *resp)
{
	char num[32];

	snprintf(num, sizeof(num), "%d ", resp->status);
	io_puts(io, "Status: ");
	io_puts(io, num);
	io_puts(io, reason(resp->status));
	io_puts(io, "\r\n");
	if (resp->status != 204) {
		header(io, "Content-Type",
		       resp->vendor == SB_VENDOR_TWILIO ? "application/json" :
							  "application/json; charset=utf-8");
		snprintf(num, sizeof(num), "%zu", resp->body_len);
		header(io, "Content-Length", num);
	}
	header(io, "Cache-Control", "no-store");
	if (resp->vendor == SB_VENDOR_TWILIO)
		header(io, "Twilio-Request-Id", resp->request_id);
	else
		header(io, "Request-Id", resp->request_id);
	if (resp->idem_key[0] != '\0')
		header(io, "Idempotency-Key", resp->idem_key);
	if (resp->replayed)
		header(io, "Idempotent-Replayed", "true");
	if (resp->retry_after > 0) {
		snprintf(num, sizeof(num), "%d", resp->retry_after);
		header(io, "Retry-After", num);
	}
	if (resp->www_auth)
		header(io, "WWW-Authenticate", "Basic realm=\"Twilio API\"");
	io_puts(io, "\r\n");
	if (resp->status != 204 && resp->body_len > 0)
		io_write(io, resp->body, resp->body_len);
}

/* A reply for requests rejected before routing (bad framing). */
static void early_error(struct io *io, int status, const char *message)
{
	struct sb_response resp;
	json_object *o = json_object_new_object();
	const char *s = NULL;

	memset(&resp, 0, sizeof(resp));
	resp.status = status;
	snprintf(resp.request_id, sizeof(resp.request_id), "req_sandbox");
	if (o != NULL) {
		json_object_object_add(o, "error", json_object_new_string(message));
		s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	}
	resp.body = (char *)(s != NULL ? s : "");
	resp.body_len = strlen(resp.body);
	write_response(io, &resp);
	json_object_put(o);
}

/* Parses a CONTENT_LENGTH: digits only, no sign, at most max. */
static int parse_length(const char *s, size_t max, size_t *out)
{
	size_t v = 0;

	if (s == NULL || *s == '\0') {
		*out = 0;
		return 0;
	}
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (size_t)(*s - '0');
		if (v > max)
			return -1;
	}
	*out = v;
	return 0;
}

/* Fills req->path from REQUEST_URI (without the query), else from
 * SCRIPT_NAME + PATH_INFO.  Returns 0 or -1 if too long. */
static int request_path(const struct io *io, struct sb_request *req)
{
	const char *uri = param(io, "REQUEST_URI");
	size_t n;

	if (uri != NULL && uri[0] != '\0') {
		n = strcspn(uri, "?#");
		if (n >= sizeof(req->path))
			return -1;
		memcpy(req->path, uri, n);
		req->path[n] = '\0';
	} else {
		const char *sn = param(io, "SCRIPT_NAME"), *pi = param(io, "PATH_INFO");
		size_t a = sn ? strlen(sn) : 0, b = pi ? strlen(pi) : 0;

		if (a + b >= sizeof(req->path))
			return -1;
		if (a)
			memcpy(req->path, sn, a);
		if (b)
			memcpy(req->path + a, pi, b);
		req->path[a + b] = '\0';
	}
	return 0;
}

static void handle(const struct sb_config *cfg, struct io *io)
{
	struct sb_request req;
	struct sb_response resp;
	size_t len;

	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	req.method = param(io, "REQUEST_METHOD");
	if (req.method == NULL)
		req.method = "GET";
	req.query = param(io, "QUERY_STRING");
	if (req.query == NULL)
		req.query = "";
	req.content_type = param(io, "CONTENT_TYPE");
	req.authorization = param(io, "HTTP_AUTHORIZATION");
	req.idem_key = param(io, "HTTP_IDEMPOTENCY_KEY");
	if (request_path(io, &req) != 0) {
		early_error(io, 414, "request path too long");
		return;
	}
	if (parse_length(param(io, "CONTENT_LENGTH"), SB_MAX_BODY, &len) != 0) {
		early_error(io, 413, "bad or oversized Content-Length");
		return;
	}
	req.body = malloc(len + 1);
	if (req.body == NULL) {
		early_error(io, 500, "out of memory");
		return;
	}
	if (io_read(io, req.body, len) != len) {
		early_error(io, 400, "short request body");
		goto out;
	}
	req.body[len] = '\0';
	req.body_len = len;

	sb_route_handle(cfg, &req, &resp);
	write_response(io, &resp);
out:
	free(resp.body);
	free(req.body);
}

int main(void)
{
	struct sb_config cfg;
	struct io io;

	cfg.db_path = env_or("SANDBOX_DB", NULL);
	cfg.stripe_key = env_or("SANDBOX_STRIPE_KEY", "sk_test_sandbox");
	cfg.twilio_sid = env_or("SANDBOX_TWILIO_SID", "AC00000000000000000000000000000000");
	cfg.twilio_token = env_or("SANDBOX_TWILIO_TOKEN", "sandbox_token");
	if (cfg.db_path == NULL) {
		fprintf(stderr, "sandbox: SANDBOX_DB is not set\n");
		return 1;
	}
	/* A client that hangs up must not kill the process mid-loop. */
	signal(SIGPIPE, SIG_IGN);
	if (sb_db_open(cfg.db_path) != 0)
		return 1;

	if (FCGX_IsCGI()) {
		memset(&io, 0, sizeof(io));
		io.envp = environ;
		handle(&cfg, &io);
		fclose(stdout); /* the reply is complete before any delivery */
		if (sb_events_take_emitted())
			sb_webhooks_auto();
	} else {
		FCGX_Request rq;
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_term; /* no SA_RESTART: accept() must see EINTR */
		sigemptyset(&sa.sa_mask);
		sigaction(SIGTERM, &sa, NULL);
		if (FCGX_Init() != 0 || FCGX_InitRequest(&rq, 0, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
			fprintf(stderr, "sandbox: FastCGI initialisation failed\n");
			sb_db_close();
			return 1;
		}
		while (FCGX_Accept_r(&rq) >= 0) {
			io.in = rq.in;
			io.out = rq.out;
			io.envp = rq.envp;
			handle(&cfg, &io);
			FCGX_Finish_r(&rq);
			/* io's pointers into rq are stale now; deliveries use
			 * none of them. */
			if (sb_events_take_emitted() && !sb_stopping)
				sb_webhooks_auto();
		}
		FCGX_Free(&rq, 1);
	}
	sb_webhooks_cleanup();
	sb_db_close();
	return 0;
}
