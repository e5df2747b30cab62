/*
 * test-http.c -- unit tests of lib/http.c against a real HTTP server on
 * loopback (a thread of this program, 127.0.0.1, an ephemeral port), through
 * the real libcurl: what reaches the wire, and what the caller is told.
 *
 * The case that matters (issue 9, item 1): a kept-alive connection that
 * dies after a POST was sent and before its reply. libcurl on its own
 * resends the request on a fresh connection; for a request without an
 * idempotency key (Twilio's buy) the first may have been acted on, so the
 * resend may buy twice. The server here answers the first POST, reads the
 * second whole and hangs up: exactly two POSTs must arrive, and the second
 * call must be UNKNOWN, never a silent success.
 */
#define _GNU_SOURCE
#include "autoconfig.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http.h"
#include "tap.h"

enum script {
	ANSWER_ALL,        /* every request gets 200 */
	HANG_UP_ON_SECOND, /* request 2 on connection 1 is read, then closed */
};

struct server {
	int fd;
	int port;
	enum script script;
	int requests;          /* complete requests read */
	int heads;             /* request heads read (with or without a body) */
	int connections;
	char bodies[8][256];   /* the bodies received */
	pthread_t thread;
	int stop;
};

static const char OK_REPLY[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                               "Content-Length: 11\r\n\r\n{\"ok\":true}";

/* Reads one request (headers, then Content-Length bytes of body). 1 read,
 * 0 connection closed, -1 error. */
static int
read_request(int fd, struct server *s)
{
	char buf[8192];
	size_t got = 0, want = 0;
	char *end = NULL;
	ssize_t n;

	for (;;) {
		if (end == NULL) {
			buf[got] = '\0';
			if ((end = strstr(buf, "\r\n\r\n")) != NULL) {
				s->heads++;
				const char *cl = strcasestr(buf, "\r\nContent-Length:");
				want = (size_t)(end + 4 - buf) + (cl ? strtoul(cl + 17, NULL, 10) : 0);
			}
		}
		if (end != NULL && got >= want)
			break;
		if (got >= sizeof(buf) - 1)
			return -1;
		n = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (n <= 0)
			return got == 0 ? 0 : -1;
		got += (size_t)n;
	}
	if (s->requests < 8) {
		size_t blen = want - (size_t)(end + 4 - buf);
		if (blen >= sizeof(s->bodies[0]))
			blen = sizeof(s->bodies[0]) - 1;
		memcpy(s->bodies[s->requests], end + 4, blen);
		s->bodies[s->requests][blen] = '\0';
	}
	s->requests++;
	return 1;
}

static void *
serve(void *arg)
{
	struct server *s = arg;

	while (!s->stop) {
		struct pollfd pfd = {s->fd, POLLIN, 0};
		int c, r;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if ((c = accept(s->fd, NULL, NULL)) < 0)
			continue;
		s->connections++;
		while ((r = read_request(c, s)) == 1) {
			if (s->script == HANG_UP_ON_SECOND && s->connections == 1 && s->requests == 2)
				break; /* read whole, never answered */
			if (write(c, OK_REPLY, sizeof(OK_REPLY) - 1) < 0)
				break;
		}
		close(c);
	}
	return NULL;
}

static int
server_start(struct server *s, enum script script)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	memset(s, 0, sizeof(*s));
	s->script = script;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((s->fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    bind(s->fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(s->fd, 8) != 0 ||
	    getsockname(s->fd, (struct sockaddr *)&a, &len) != 0)
		return -1;
	s->port = ntohs(a.sin_port);
	return pthread_create(&s->thread, NULL, serve, s);
}

static void
server_stop(struct server *s)
{
	s->stop = 1;
	pthread_join(s->thread, NULL);
	close(s->fd);
}

static enum pur_http_outcome
post(struct pur_http *h, const char *url, const char *form, long *status)
{
	struct pur_http_req req;
	struct pur_http_reply r;
	enum pur_http_outcome out;

	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = url;
	req.form = form;
	pur_http_reply_init(&r);
	if (pur_http_do(h, &req, &r) != PURCHASE_OK) {
		pur_http_reply_free(&r);
		return (enum pur_http_outcome)-1;
	}
	out = r.outcome;
	*status = r.status;
	pur_http_reply_free(&r);
	return out;
}

static void
test_post_not_resent(void)
{
	struct server s;
	struct pur_http *h;
	char url[128];
	long status = 0;

	if (!ok(server_start(&s, HANG_UP_ON_SECOND) == 0, "server started"))
		return;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/2010-04-01/Accounts/AC1/IncomingPhoneNumbers.json",
	    s.port);
	h = pur_http_new(1000, 3000, 65536);
	is_int(post(h, url, "PhoneNumber=%2B14155550100", &status), PUR_HTTP_REPLY,
	    "first POST: a reply");
	is_int(status, 200, "first POST: 200");
	is_str(s.bodies[0], "PhoneNumber=%2B14155550100", "first POST: the body arrived whole");
	is_int(post(h, url, "PhoneNumber=%2B14155550101", &status), PUR_HTTP_UNKNOWN,
	    "second POST on the kept-alive connection that died: UNKNOWN");
	usleep(200000); /* a resend would have arrived by now */
	is_int(s.requests, 2, "exactly two POSTs reached the server (no silent resend)");
	is_int(s.heads, 2, "and no second copy of its head either");
	/* The handle still works afterwards, on a fresh connection. */
	is_int(post(h, url, "PhoneNumber=%2B14155550102", &status), PUR_HTTP_REPLY,
	    "a later POST on a fresh connection: a reply");
	is_int(s.requests, 3, "and it arrived once");
	is_int(s.heads, 3, "(its head too)");
	pur_http_free(h);
	server_stop(&s);
}

static void
test_keep_alive(void)
{
	struct server s;
	struct pur_http *h;
	char url[128];
	long status = 0;
	int i;

	if (!ok(server_start(&s, ANSWER_ALL) == 0, "server started"))
		return;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/invoices/in_1/pay", s.port);
	h = pur_http_new(1000, 3000, 65536);
	for (i = 0; i < 3; i++)
		is_int(post(h, url, i == 1 ? "" : "a=1&b=2", &status), PUR_HTTP_REPLY,
		    "POST %d (%s body): a reply", i + 1, i == 1 ? "empty" : "a");
	is_int(s.requests, 3, "three requests");
	is_int(s.connections, 1, "on one kept-alive connection");
	is_str(s.bodies[2], "a=1&b=2", "the body of the third");
	pur_http_free(h);
	server_stop(&s);
}

static void
test_not_sent(void)
{
	struct server s;
	struct pur_http *h;
	char url[128];
	long status = 0;

	/* A port nobody listens on: certainly not sent. */
	if (!ok(server_start(&s, ANSWER_ALL) == 0, "server started"))
		return;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", s.port);
	server_stop(&s);
	h = pur_http_new(1000, 3000, 65536);
	is_int(post(h, url, "a=1", &status), PUR_HTTP_NOT_SENT, "connection refused: NOT_SENT");
	pur_http_free(h);
}

int
main(void)
{
	test_keep_alive();
	test_post_not_resent();
	test_not_sent();
	return done_testing();
}
