/*
 * main.c -- purchase.fcgi: a FastCGI responder (libfcgi's FCGX API, never
 * fcgi_stdio.h) under lighttpd, Apache or nginx; started as plain CGI (on
 * shared hosting) it answers one request and exits.
 *
 * Threads: PURCHASE_THREADS (process environment; default 1, at most
 * 1024) threads each accept and serve one request at a time, so that a
 * process has that many requests in flight -- purchases waiting on slow
 * providers among them. Each thread has its own libpurchase context
 * (configuration, database connection, HTTP handle), opened on its first
 * request -- after any fork by the process manager -- and kept; nothing
 * mutable is shared but SQLite's own locking and the counters below. At
 * most PURCHASE_SLOTS of them (default: three quarters of the threads, all
 * when there is one) serve purchases; a purchase above that is answered
 * 503 with Retry-After at once, and the remaining threads stay free for
 * health, search, the number routes and webhooks. Plain CGI is one request
 * per process, as always.
 *
 * Signals: SIGTERM (mod_fcgid, lighttpd, systemd) and SIGUSR1 (mod_fcgid's
 * graceful stop) end the process at once when it is idle, or after the
 * requests in flight otherwise -- a purchase is never cut in half by a
 * process manager. SIGPIPE is ignored (a client gone away is not a crash).
 */
#include "autoconfig.h"

#include <fcgiapp.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "purchase.h"
#include "reply.h"
#include "request.h"
#include "router.h"

#define THREADS_MAX 1024

static int nthreads = 1;
static _Atomic int busy;                 /* requests in flight */
static _Atomic int stopping;               /* lock-free: safe in the handler */

static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
	if (busy == 0)
		_exit(0);
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

/* One request, read into r (4 KiB of body buffer: the caller's, not on the
 * stack), answered with the context *ctx. */
static void
serve(struct purchase_ctx **ctx, struct request *r, const struct source *src,
    const struct sink *out)
{
	struct purchase_ctx *c;
	struct timespec t0;
	int status;

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
 * provider reply -- by whichever thread comes first, never two at once.
 * One indexed query when there are none. The timer (purchasectl recover)
 * remains the guarantee; this only shortens the wait.
 */
static void
recover_now_and_then(struct purchase_ctx *ctx)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static struct timespec last;
	struct purchase_detail d = {""};
	struct timespec now;
	int done = 0, left = 0;

	if (ctx == NULL || pthread_mutex_trylock(&lock) != 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (last.tv_sec != 0 && now.tv_sec - last.tv_sec < 60) {
		pthread_mutex_unlock(&lock);
		return;
	}
	last = now;
	purchase_ctx_set_request_id(ctx, "recover");
	if (purchase_recover(ctx, &done, &left, &d) != PURCHASE_OK)
		purchase_log(ctx, "recover: %s", d.text);
	else if (done + left > 0)
		purchase_log(ctx, "recover: %d finished, %d left", done, left);
	purchase_ctx_set_request_id(ctx, NULL);
	pthread_mutex_unlock(&lock);
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

/* --- the FastCGI threads --------------------------------------------------- */

struct worker {
	FCGX_Request q;
	struct purchase_ctx *ctx;
	struct request req;
};

/* libfcgi's FCGX_Accept_r is for one thread at a time on a socket. */
static pthread_mutex_t accept_lock = PTHREAD_MUTEX_INITIALIZER;

static void *
work(void *arg)
{
	struct worker *w = arg;
	struct source src = {fcgi_param, fcgi_read, &w->q};
	struct sink out = {fcgi_write, &w->q};
	int rc;

	for (;;) {
		pthread_mutex_lock(&accept_lock);
		rc = stopping ? -1 : FCGX_Accept_r(&w->q);
		pthread_mutex_unlock(&accept_lock);
		if (rc < 0)
			break;
		busy++;
		serve(&w->ctx, &w->req, &src, &out);
		FCGX_Finish_r(&w->q);
		purchase_idle(w->ctx, 0);
		if (!stopping)
			recover_now_and_then(w->ctx);
		/* The last request in flight of a stopping process ends it
		 * (the other threads wait in accept, or for its lock). */
		if (--busy == 0 && stopping && nthreads > 1)
			_exit(0);
		if (stopping)
			break;
	}
	return NULL;
}

/* A count from the process environment, within [lo, hi]; def when unset
 * or not a number. */
static int
env_count(const char *name, int def, int lo, int hi)
{
	const char *v = getenv(name);
	char *end;
	long n;

	if (v == NULL || *v == '\0')
		return def;
	n = strtol(v, &end, 10);
	if (*end != '\0' || n < lo || n > hi) {
		fprintf(stderr, "purchase.fcgi: %s=%s is not a number from %d to %d; using %d\n",
		    name, v, lo, hi, def);
		return def;
	}
	return (int)n;
}

static int
fcgi_main(void)
{
	struct worker *w;
	pthread_attr_t attr;
	pthread_t t;
	int n, i;

	nthreads = n = env_count("PURCHASE_THREADS", 1, 1, THREADS_MAX);
	if (n > 1)
		route_set_purchase_slots(env_count("PURCHASE_SLOTS", n - (n + 3) / 4, 0, n));
	/* Threads that mostly wait on providers gain nothing from a malloc
	 * arena each (glibc makes up to 8 per core), and each arena keeps its
	 * own free memory: measured with bench/slow.sh, 2 arenas use a fifth
	 * less memory than the default at 100 threads. */
	if (n > 1) {
		struct rlimit rl;
		rlim_t want = (rlim_t)n * 8 + 64;

		mallopt(M_ARENA_MAX, 2);
		/* Large blocks (a long list's JSON, a big reply) mapped and
		 * unmapped on their own rather than carved from an arena whose
		 * freed middle is never given back (glibc's own threshold
		 * rises to the largest block freed). */
		mallopt(M_MMAP_THRESHOLD, 64 * 1024);
		/* Each thread holds a few descriptors (its FastCGI connection,
		 * its provider connection, the database's files): a soft limit
		 * of 1024 would not do for hundreds; the hard one is ours. */
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < want) {
			rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
			(void)setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	if (FCGX_Init() != 0 || (w = calloc((size_t)n, sizeof(*w))) == NULL) {
		fputs("purchase.fcgi: cannot initialise FastCGI\n", stderr);
		return 1;
	}
	for (i = 0; i < n; i++)
		if (FCGX_InitRequest(&w[i].q, 0, 0) != 0) {
			fputs("purchase.fcgi: cannot initialise FastCGI\n", stderr);
			return 1;
		}
	/* The main thread is worker 0; the others have small stacks (a
	 * request's deepest path, libcurl's and SQLite's included, uses a few tens
	 * of KiB; only what is touched is memory). */
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 512 * 1024);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (i = 1; i < n; i++)
		if (pthread_create(&t, &attr, work, &w[i]) != 0) {
			fprintf(stderr, "purchase.fcgi: %d threads started of %d\n", i, n);
			break;
		}
	pthread_attr_destroy(&attr);
	work(&w[0]);
	/* Accept failed (the socket closed) or a stop: the others may still
	 * be serving; the last of them ends the process (work). */
	if (n > 1 && busy > 0)
		for (;;)
			pause();
	purchase_ctx_free(w[0].ctx);
	return 0;
}

int
main(void)
{
	install_signals();
	if (FCGX_IsCGI()) {
		static struct request req;
		struct purchase_ctx *ctx = NULL;
		struct source src = {cgi_param, cgi_read, NULL};
		struct sink out = {cgi_write, NULL};

		serve(&ctx, &req, &src, &out);
		/* The web server has the whole answer at EOF on stdout. */
		fclose(stdout);
		purchase_idle(ctx, 1);
		purchase_ctx_free(ctx);
		return 0;
	}
	return fcgi_main();
}
