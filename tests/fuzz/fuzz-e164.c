/*
 * fuzz-e164.c -- libFuzzer target: pur_e164_parse over arbitrary bytes (not
 * NUL-terminated), and pur_e164_format on what parses.
 *
 * Properties: a number that parses is a copy of the input, "+" and 8 to 15
 * digits with a calling code of 1 to 3 digits, and re-parses to itself; its
 * display form is NUL-terminated in any buffer size, a prefix of the full
 * form when truncated, and shows the same digits (NANP: without the "1").
 */
#include "autoconfig.h"

#include "e164.h"
#include "fuzz.h"

/* The digits of s, in order. */
static size_t
digits(const char *s, char *out, size_t outlen)
{
	size_t n = 0;

	for (; *s != '\0' && n + 1 < outlen; s++)
		if (*s >= '0' && *s <= '9')
			out[n++] = *s;
	out[n] = '\0';
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_exact(data, size);
	char out[PUR_E164_MAX], again[PUR_E164_MAX], full[64], small[64], d1[64], d2[64];
	size_t outlen;
	int cc;

	memset(out, 'x', sizeof(out));
	if (pur_e164_parse(s, size, out) != 0)
		goto done;
	FUZZ_CHECK(size >= 9 && size <= 16);
	FUZZ_CHECK(memcmp(out, s, size) == 0 && out[size] == '\0');
	FUZZ_CHECK(out[0] == '+' && out[1] >= '1' && out[1] <= '9');
	FUZZ_CHECK(strspn(out + 1, "0123456789") == size - 1);
	FUZZ_CHECK(pur_e164_parse(out, strlen(out), again) == 0 && strcmp(again, out) == 0);
	cc = pur_e164_cc_len(out);
	FUZZ_CHECK(cc >= 1 && cc <= 3);

	memset(full, 'x', sizeof(full));
	pur_e164_format(out, full, sizeof(full));
	FUZZ_CHECK(fuzz_terminated(full, sizeof(full)));
	digits(full, d1, sizeof(d1));
	digits(out[1] == '1' ? out + 2 : out + 1, d2, sizeof(d2));
	FUZZ_CHECK(strcmp(d1, d2) == 0);

	/* Every smaller buffer: terminated, and the same text cut short. */
	for (outlen = 1; outlen <= strlen(full) + 1; outlen++) {
		memset(small, 'x', sizeof(small));
		pur_e164_format(out, small, outlen);
		FUZZ_CHECK(fuzz_terminated(small, outlen));
		FUZZ_CHECK(strlen(small) == outlen - 1 || strlen(small) == strlen(full));
		FUZZ_CHECK(strncmp(small, full, strlen(small)) == 0);
		FUZZ_CHECK(outlen == sizeof(small) || small[outlen] == 'x'); /* nothing past outlen */
	}
done:
	free(s);
	return 0;
}
