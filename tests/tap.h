/*
 * tap.h -- a minimal Test Anything Protocol producer for the unit tests.
 *
 * Header-only so each test program stays one file: every function is
 * static (and marked unused so a test need not call all of them). The plan
 * ("1..N") is printed at the end by done_testing(), which also gives the
 * exit status: 0 when every point passed.
 *
 *	ok(cond, "desc %d", i);
 *	is_str(got, "want", "desc");
 *	is_int(got, 42, "desc");
 *	return done_testing();
 */
#ifndef PUR_TESTS_TAP_H
#define PUR_TESTS_TAP_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TAP_UNUSED __attribute__((unused))
#define TAP_PRINTF(f, a) __attribute__((format(printf, f, a)))

static int tap_run;
static int tap_failed;

static void
tap_vreport(int pass, const char *fmt, va_list ap)
{
	tap_run++;
	if (!pass)
		tap_failed++;
	printf("%s %d - ", pass ? "ok" : "not ok", tap_run);
	vprintf(fmt, ap);
	putchar('\n');
	fflush(stdout);
}

/* One test point; returns pass so a caller can add diagnostics. */
static TAP_UNUSED TAP_PRINTF(2, 3) int
ok(int pass, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vreport(pass, fmt, ap);
	va_end(ap);
	return pass;
}

/* A diagnostic line ("# ..."), ignored by the TAP driver. */
static TAP_UNUSED TAP_PRINTF(1, 2) void
diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("# ", stdout);
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
}

/* Strings compared with strcmp; NULL equals only NULL. */
static TAP_UNUSED TAP_PRINTF(3, 4) int
is_str(const char *got, const char *want, const char *fmt, ...)
{
	va_list ap;
	int pass;

	if (got == NULL || want == NULL)
		pass = got == want;
	else
		pass = strcmp(got, want) == 0;
	va_start(ap, fmt);
	tap_vreport(pass, fmt, ap);
	va_end(ap);
	if (!pass) {
		diag("     got: %s%s%s", got ? "\"" : "", got ? got : "NULL", got ? "\"" : "");
		diag("expected: %s%s%s", want ? "\"" : "", want ? want : "NULL", want ? "\"" : "");
	}
	return pass;
}

static TAP_UNUSED TAP_PRINTF(3, 4) int
is_int(intmax_t got, intmax_t want, const char *fmt, ...)
{
	va_list ap;
	int pass = got == want;

	va_start(ap, fmt);
	tap_vreport(pass, fmt, ap);
	va_end(ap);
	if (!pass) {
		diag("     got: %jd", got);
		diag("expected: %jd", want);
	}
	return pass;
}

/* Prints the plan; the program's exit status. */
static TAP_UNUSED int
done_testing(void)
{
	printf("1..%d\n", tap_run);
	if (tap_failed > 0)
		diag("%d of %d tests failed", tap_failed, tap_run);
	return tap_failed > 0 ? 1 : 0;
}

/* Opens $srcdir/rel (srcdir from the environment, "." when unset). */
static TAP_UNUSED FILE *
tap_open_data(const char *rel)
{
	const char *srcdir = getenv("srcdir");
	char path[4096];
	int n;

	if (srcdir == NULL || *srcdir == '\0')
		srcdir = ".";
	n = snprintf(path, sizeof(path), "%s/%s", srcdir, rel);
	if (n < 0 || (size_t)n >= sizeof(path))
		return NULL;
	return fopen(path, "r");
}

#endif
