/*
 * e164.c -- strict E.164 validation (ITU-T E.164, Annex: assigned country
 * calling codes) and a display format.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "e164.h"

/*
 * Assigned country calling codes (ITU-T E.164 list of assigned codes). One-
 * digit codes: 1 (NANP) and 7. Two- and three-digit codes are listed; any
 * number whose prefix matches none is not E.164.
 */
static const char *const cc2[] = {"20", "27", "30", "31", "32", "33", "34", "36", "39",
    "40", "41", "43", "44", "45", "46", "47", "48", "49", "51", "52", "53", "54", "55",
    "56", "57", "58", "60", "61", "62", "63", "64", "65", "66", "81", "82", "84", "86",
    "90", "91", "92", "93", "94", "95", "98"};

static const char *const cc3[] = {"211", "212", "213", "216", "218", "220", "221", "222",
    "223", "224", "225", "226", "227", "228", "229", "230", "231", "232", "233", "234",
    "235", "236", "237", "238", "239", "240", "241", "242", "243", "244", "245", "246",
    "247", "248", "249", "250", "251", "252", "253", "254", "255", "256", "257", "258",
    "260", "261", "262", "263", "264", "265", "266", "267", "268", "269", "290", "291",
    "297", "298", "299", "350", "351", "352", "353", "354", "355", "356", "357", "358",
    "359", "370", "371", "372", "373", "374", "375", "376", "377", "378", "379", "380",
    "381", "382", "383", "385", "386", "387", "389", "420", "421", "423", "500", "501",
    "502", "503", "504", "505", "506", "507", "508", "509", "590", "591", "592", "593",
    "594", "595", "596", "597", "598", "599", "670", "672", "673", "674", "675", "676",
    "677", "678", "679", "680", "681", "682", "683", "685", "686", "687", "688", "689",
    "690", "691", "692", "800", "808", "850", "852", "853", "855", "856", "870", "878",
    "880", "881", "882", "883", "886", "888", "960", "961", "962", "963", "964", "965",
    "966", "967", "968", "970", "971", "972", "973", "974", "975", "976", "977", "979",
    "992", "993", "994", "995", "996", "998"};

static int
in_list(const char *digits, size_t n, const char *const *list, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		if (strncmp(digits, list[i], n) == 0)
			return 1;
	return 0;
}

static int
cc_len(const char *digits)
{
	if (digits[0] == '1' || digits[0] == '7')
		return 1;
	if (in_list(digits, 2, cc2, sizeof(cc2) / sizeof(cc2[0])))
		return 2;
	if (in_list(digits, 3, cc3, sizeof(cc3) / sizeof(cc3[0])))
		return 3;
	return 0;
}

int
pur_e164_parse(const char *s, size_t len, char out[PUR_E164_MAX])
{
	size_t i, ndig;

	if (s == NULL || len < 9 || len > 16 || s[0] != '+')
		return -1;
	ndig = len - 1;
	for (i = 1; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return -1;
	if (s[1] == '0' || cc_len(s + 1) == 0)
		return -1;
	/* NANP (+1): NPA and exchange may not start with 0 or 1, ten digits. */
	if (s[1] == '1' && (ndig != 11 || s[2] < '2' || s[5] < '2'))
		return -1;
	memcpy(out, s, len);
	out[len] = '\0';
	return 0;
}

/* ISO 3166-1 alpha-2 -> country calling code (ITU-T E.164 assigned codes),
 * for the countries numbers are sold in (sql/prices.sql) and their
 * neighbours. NANP shares +1 among several countries: the carrier's
 * iso_country tells them apart. */
static const struct {
	char iso[3];
	const char *cc;
} countries[] = {
	{"AT", "43"}, {"AU", "61"}, {"BE", "32"}, {"BR", "55"}, {"CA", "1"}, {"CH", "41"},
	{"CZ", "420"}, {"DE", "49"}, {"DK", "45"}, {"EE", "372"}, {"ES", "34"}, {"FI", "358"},
	{"FR", "33"}, {"GB", "44"}, {"GR", "30"}, {"HU", "36"}, {"IE", "353"}, {"IL", "972"},
	{"IT", "39"}, {"JP", "81"}, {"LT", "370"}, {"LU", "352"}, {"LV", "371"}, {"MX", "52"},
	{"NL", "31"}, {"NO", "47"}, {"NZ", "64"}, {"PL", "48"}, {"PR", "1"}, {"PT", "351"},
	{"RO", "40"}, {"SE", "46"}, {"SG", "65"}, {"SK", "421"}, {"US", "1"}, {"ZA", "27"},
};

const char *
pur_e164_country_cc(const char *iso)
{
	size_t i;

	for (i = 0; iso != NULL && i < sizeof(countries) / sizeof(countries[0]); i++)
		if (strcmp(countries[i].iso, iso) == 0)
			return countries[i].cc;
	return NULL;
}

int
pur_e164_in_country(const char *e164, const char *iso)
{
	const char *cc = pur_e164_country_cc(iso);
	int n = pur_e164_cc_len(e164);

	if (cc == NULL)
		return -1;
	return n > 0 && (size_t)n == strlen(cc) && strncmp(e164 + 1, cc, (size_t)n) == 0;
}

int
pur_e164_cc_len(const char *e164)
{
	if (e164 == NULL || e164[0] != '+' || e164[1] == '\0')
		return 0;
	return cc_len(e164 + 1);
}

void
pur_e164_format(const char *e164, char *out, size_t outlen)
{
	const char *n;
	size_t len;
	int cc;

	if (outlen == 0)
		return;
	cc = pur_e164_cc_len(e164);
	len = strlen(e164);
	if (cc == 1 && e164[1] == '1' && len == 12) {
		snprintf(out, outlen, "(%.3s) %.3s-%.4s", e164 + 2, e164 + 5, e164 + 8);
		return;
	}
	if (cc == 0) {
		snprintf(out, outlen, "%s", e164);
		return;
	}
	/* +CC then the national number in groups of 4 from the end, with a
	 * leading group of what remains (at least 2). */
	n = e164 + 1 + cc;
	len = strlen(n);
	if (len <= 4) {
		snprintf(out, outlen, "+%.*s %s", cc, e164 + 1, n);
	} else if (len <= 8) {
		snprintf(out, outlen, "+%.*s %.*s %s", cc, e164 + 1, (int)(len - 4), n, n + len - 4);
	} else {
		size_t first = len - 8;
		snprintf(out, outlen, "+%.*s %.*s %.4s %s", cc, e164 + 1, (int)first, n, n + first,
		    n + first + 4);
	}
}
