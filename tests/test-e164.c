/*
 * test-e164.c -- unit tests of lib/e164.c: strict E.164 parsing (data-driven
 * from tests/data/e164-valid.txt and e164-invalid.txt), calling-code length
 * and the display format.
 */
#include "autoconfig.h"

#include <string.h>

#include "e164.h"
#include "tap.h"

/* Runs every line of a data file through pur_e164_parse; want 0 or -1.
 * Returns the number of cases read (a missing or empty file is a failure,
 * so the table cannot silently stop testing anything). */
static int
run_file(const char *rel, int want)
{
	char line[256], out[PUR_E164_MAX];
	size_t len;
	int n = 0, rc;
	FILE *f;

	if ((f = tap_open_data(rel)) == NULL) {
		ok(0, "open %s (srcdir=%s)", rel, getenv("srcdir") ? getenv("srcdir") : "unset");
		return 0;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		len = strcspn(line, "\n");
		line[len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		n++;
		memset(out, 'x', sizeof(out));
		rc = pur_e164_parse(line, len, out);
		if (want == 0) {
			ok(rc == 0 && strcmp(out, line) == 0, "valid: %s", line);
		} else {
			ok(rc == -1, "invalid: %s", line);
		}
	}
	fclose(f);
	ok(n >= 10, "%s has cases (%d)", rel, n);
	return n;
}

static int
parse_str(const char *s)
{
	char out[PUR_E164_MAX];

	return pur_e164_parse(s, strlen(s), out);
}

static void
test_special(void)
{
	char out[PUR_E164_MAX];
	static const char nul[] = "+1415\0" "5551234";

	is_int(pur_e164_parse("", 0, out), -1, "empty string refused");
	is_int(pur_e164_parse(NULL, 0, out), -1, "NULL refused");
	is_int(parse_str("+14155551234\n"), -1, "trailing newline refused");
	is_int(parse_str("+14155551234 "), -1, "trailing space refused");
	is_int(parse_str(" +14155551234"), -1, "leading space refused");
	is_int(parse_str("+14155551234\r"), -1, "trailing CR refused");
	is_int(parse_str("+44207946012\t"), -1, "trailing tab refused");
	is_int(pur_e164_parse(nul, sizeof(nul) - 1, out), -1, "embedded NUL (by length) refused");
	is_int(pur_e164_parse("+14155551234\0", 13, out), -1, "trailing NUL inside length refused");

	/* The length argument bounds the read: a valid prefix is taken. */
	memset(out, 'x', sizeof(out));
	is_int(pur_e164_parse("+14155551234xyz", 12, out), 0, "length bounds the input");
	is_str(out, "+14155551234", "copy is NUL-terminated at len");
	memset(out, 'x', sizeof(out));
	is_int(pur_e164_parse("+491234567890123", 16, out), 0, "15 digits fill the buffer");
	is_int(out[16], '\0', "15-digit number is NUL-terminated within PUR_E164_MAX");
	is_int(pur_e164_parse("+14155551234", 11, out), -1, "NANP one digit short by length");
}

static void
test_cc_len(void)
{
	is_int(pur_e164_cc_len("+14155551234"), 1, "cc_len NANP is 1");
	is_int(pur_e164_cc_len("+74951234567"), 1, "cc_len +7 is 1");
	is_int(pur_e164_cc_len("+442079460123"), 2, "cc_len +44 is 2");
	is_int(pur_e164_cc_len("+61291234567"), 2, "cc_len +61 is 2");
	is_int(pur_e164_cc_len("+35312345678"), 3, "cc_len +353 is 3");
	is_int(pur_e164_cc_len("+8801712345678"), 3, "cc_len +880 is 3");
	is_int(pur_e164_cc_len("+999123456789"), 0, "cc_len unassigned is 0");
	is_int(pur_e164_cc_len("14155551234"), 0, "cc_len without plus is 0");
	is_int(pur_e164_cc_len("+"), 0, "cc_len of \"+\" is 0");
	is_int(pur_e164_cc_len(""), 0, "cc_len of empty is 0");
	is_int(pur_e164_cc_len(NULL), 0, "cc_len of NULL is 0");
}

static void
fmt_is(const char *e164, const char *want)
{
	char out[64];

	memset(out, 'x', sizeof(out));
	pur_e164_format(e164, out, sizeof(out));
	is_str(out, want, "format %s", e164);
}

static void
test_format(void)
{
	char small[8];

	fmt_is("+14155550123", "(415) 555-0123");
	fmt_is("+16045551234", "(604) 555-1234");
	/* Elsewhere: +CC, then the national number in groups of 4 from the
	 * end, the remainder first. */
	fmt_is("+442079460123", "+44 20 7946 0123");
	fmt_is("+61291234567", "+61 2 9123 4567");
	fmt_is("+4915112345678", "+49 151 1234 5678");
	fmt_is("+35312345678", "+353 1234 5678");
	fmt_is("+68212345", "+682 1 2345");
	/* Not a known calling code: shown as given. */
	fmt_is("+999123456789", "+999123456789");

	/* Stable: the same input formats to the same bytes. */
	{
		char a[64], b[64];
		pur_e164_format("+442079460123", a, sizeof(a));
		pur_e164_format("+442079460123", b, sizeof(b));
		is_str(a, b, "format is deterministic");
	}

	/* A short buffer truncates and stays NUL-terminated. */
	memset(small, 'x', sizeof(small));
	pur_e164_format("+14155550123", small, sizeof(small));
	is_str(small, "(415) 5", "format truncates to the buffer");
	memset(small, 'x', sizeof(small));
	pur_e164_format("+442079460123", small, sizeof(small));
	is_int(small[sizeof(small) - 1], '\0', "format NUL-terminates a short buffer");
	small[0] = 'x';
	pur_e164_format("+14155550123", small, 0);
	is_int(small[0], 'x', "outlen 0 writes nothing");
}

int
main(void)
{
	run_file("tests/data/e164-valid.txt", 0);
	run_file("tests/data/e164-invalid.txt", -1);
	test_special();
	test_cc_len();
	test_format();
	return done_testing();
}
