/*
 * main.c -- purchase.fcgi: a FastCGI responder (libfcgi's FCGX API, never
 * fcgi_stdio.h) under lighttpd, Apache or nginx; started as plain CGI (on
 * shared hosting) it answers one request and exits.
 *
 * Process-wide state: the libpurchase context (configuration, database,
 * HTTP handle), opened on the first request -- after any fork by the process
 * manager -- and kept. Everything else belongs to one request and is gone
 * when FCGX_Finish_r returns.
 *
 * Signals: SIGTERM (mod_fcgid, lighttpd, systemd) and SIGUSR1 (mod_fcgid's
 * graceful stop) end the process at once when it is idle, or after the
 * request in flight otherwise -- a purchase is never cut in half by a
 * process manager. SIGPIPE is ignored (a client gone away is not a crash).
 */
#include "autoconfig.h"

#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "purchase.h"
#include "reply.h"
#include "request.h"
#include "router.h"

static volatile sig_atomic_t busy, stopping;

static void
on_stop(int sig)
{
	(void)sig;
	if (!busy)
		_exit(0);
	stopping = 1;
}

static void
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/* The context for the configuration this request names (a per-request
 * PURCHASE_CONFIG parameter, as Apache's SetEnv gives, else the process
 * environment, else the default), opened once and kept while it is the
 * same path. */
static struct purchase_ctx *
context(struct purchase_ctx **ctx, const char *path)
{
	struct purchase_detail d = {""};
	enum purchase_err err;

	if (*ctx != NULL) {
		if (path == NULL || strcmp(path, purchase_ctx_config_path(*ctx)) == 0)
			return *ctx;
		purchase_ctx_free(*ctx);
		*ctx = NULL;
	}
	if ((err = purchase_ctx_open(path, ctx, &d)) != PURCHASE_OK) {
		purchase_log(NULL, "cannot open context: %s: %s", purchase_strerror(err), d.text);
		*ctx = NULL;
	}
	return *ctx;
}

static double
ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

static void
serve(struct purchase_ctx **ctx, const struct source *src, const struct sink *out)
{
	struct request *r;
	struct purchase_ctx *c;
	struct timespec t0;
	int status;

	static struct request req; /* 4 KiB body buffer: not on the stack */
	r = &req;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	request_init(r, src);
	c = context(ctx, r->config);
	if (c != NULL)
		purchase_ctx_set_request_id(c, r->request_id);
	status = route(c, r, out);
	request_free(r);
	purchase_log(c, "%s %s %d %.1fms", r->method, r->path[0] ? r->path : "-", status,
	    ms_since(&t0));
	if (c != NULL)
		purchase_ctx_set_request_id(c, NULL);
}

/*
 * Opportunistic recovery (DESIGN §3): once a minute per process, after the
 * client has its answer, finish purchases whose worker died or lost a
 * provider reply. One indexed query when there are none. The timer
 * (purchasectl recover) remains the guarantee; this only shortens the wait.
 */
static void
recover_now_and_then(struct purchase_ctx *ctx)
{
	static struct timespec last;
	struct purchase_detail d = {""};
	struct timespec now;
	int done = 0, left = 0;

	if (ctx == NULL)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (last.tv_sec != 0 && now.tv_sec - last.tv_sec < 60)
		return;
	last = now;
	purchase_ctx_set_request_id(ctx, "recover");
	if (purchase_recover(ctx, &done, &left, &d) != PURCHASE_OK)
		purchase_log(ctx, "recover: %s", d.text);
	else if (done + left > 0)
		purchase_log(ctx, "recover: %d finished, %d left", done, left);
	purchase_ctx_set_request_id(ctx, NULL);
}

/* --- FastCGI ------------------------------------------------------------ */

static const char *
fcgi_param(void *arg, const char *name)
{
	FCGX_Request *q = arg;
	const char *v = FCGX_GetParam(name, q->envp);

	/* The config path may also come from the process environment
	 * (lighttpd bin-environment, FcgidInitialEnv); never from HTTP_*. */
	if (v == NULL && strcmp(name, "PURCHASE_CONFIG") == 0)
		v = getenv(name);
	return v;
}

static int
fcgi_read(void *arg, char *buf, size_t n)
{
	FCGX_Request *q = arg;

	return FCGX_GetStr(buf, (int)n, q->in);
}

static int
fcgi_write(void *arg, const char *p, size_t n)
{
	FCGX_Request *q = arg;

	return FCGX_PutStr(p, (int)n, q->out) == (int)n ? 0 : -1;
}

/* --- CGI ---------------------------------------------------------------- */

static const char *
cgi_param(void *arg, const char *name)
{
	(void)arg;
	return getenv(name);
}

static int
cgi_read(void *arg, char *buf, size_t n)
{
	(void)arg;
	return (int)fread(buf, 1, n, stdin);
}

static int
cgi_write(void *arg, const char *p, size_t n)
{
	(void)arg;
	return fwrite(p, 1, n, stdout) == n ? 0 : -1;
}

int
main(void)
{
	struct purchase_ctx *ctx = NULL;
	FCGX_Request q;

	install_signals();
	if (FCGX_IsCGI()) {
		struct source src = {cgi_param, cgi_read, NULL};
		struct sink out = {cgi_write, NULL};
		serve(&ctx, &src, &out);
		/* The web server has the whole answer at EOF on stdout. */
		fclose(stdout);
		purchase_idle(ctx, 1);
		purchase_ctx_free(ctx);
		return 0;
	}
	if (FCGX_Init() != 0 || FCGX_InitRequest(&q, 0, 0) != 0) {
		fputs("purchase.fcgi: cannot initialise FastCGI\n", stderr);
		return 1;
	}
	for (;;) {
		struct source src = {fcgi_param, fcgi_read, &q};
		struct sink out = {fcgi_write, &q};

		if (FCGX_Accept_r(&q) < 0)
			break;
		busy = 1;
		serve(&ctx, &src, &out);
		FCGX_Finish_r(&q);
		purchase_idle(ctx, 0);
		if (!stopping)
			recover_now_and_then(ctx);
		busy = 0;
		if (stopping)
			break;
	}
	purchase_ctx_free(ctx);
	return 0;
}
