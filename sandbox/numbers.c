/*
 * numbers.c -- the sandbox's deterministic inventory of phone numbers
 * Twilio would offer (pure; no I/O).  Each row of the table below is an
 * "area" of one country and number type: a country calling code, an area
 * prefix, a run of exchanges and a number of subscriber digits.  A number
 * is (area, exchange index, subscriber index); a "block" is one area's
 * exchange (area index * 1000 + exchange index), enumerated from
 * subscriber 0 upwards, blocks in table order.  The US alone holds over
 * four million numbers, so a benchmark can buy a distinct one per request.
 *
 * Ranges are fictional/drama ranges where one exists (NANP 555, Ofcom
 * 020 7946 0xxx / 07700 900xxx, ACMA 02 5550 xxxx / 0491 570 xxx,
 * Bundesnetzagentur 030 23125 xxx ...), widened to neighbouring exchanges
 * for volume; elsewhere a 555 exchange in a real area code, so that every
 * number is valid E.164 for its country (length and leading digits).
 * Location fields are filled for the US and Canada only, as Twilio
 * documents; other local numbers carry their locality.
 */
#include <stdio.h>
#include <string.h>

#include "sandbox.h"

#define NOLOC NULL, NULL, NULL, NULL, NULL, 0, 0

static const struct sb_area areas[] = {
	/* iso  type  cc  area  xfirst xcount xd sd  locality region lata rate_center postal lat lon  nanp sms mms addr */
	{ "US", SB_NT_LOCAL, "1", "415", 555, 25, 3, 4, "San Francisco", "CA", "722", "SNFC CNTRL",
	  "94105", 37.7749, -122.4194, 1, 1, 1, "none" },
	{ "US", SB_NT_LOCAL, "1", "212", 555, 25, 3, 4, "New York", "NY", "132", "NWYRCYZN01",
	  "10001", 40.7506, -73.9972, 1, 1, 1, "none" },
	{ "US", SB_NT_LOCAL, "1", "312", 555, 25, 3, 4, "Chicago", "IL", "358", "CHICAGO",
	  "60601", 41.8858, -87.6181, 1, 1, 1, "none" },
	{ "US", SB_NT_LOCAL, "1", "213", 555, 25, 3, 4, "Los Angeles", "CA", "730", "LSAN DA 01",
	  "90012", 34.0614, -118.2385, 1, 1, 1, "none" },
	{ "US", SB_NT_LOCAL, "1", "617", 555, 25, 3, 4, "Boston", "MA", "128", "BOSTON",
	  "02108", 42.3576, -71.0634, 1, 1, 1, "none" },
	{ "US", SB_NT_LOCAL, "1", "206", 555, 25, 3, 4, "Seattle", "WA", "674", "SEATTLE",
	  "98101", 47.6101, -122.3343, 1, 1, 1, "none" },
	{ "US", SB_NT_LOCAL, "1", "512", 555, 25, 3, 4, "Austin", "TX", "558", "AUSTIN",
	  "78701", 30.2711, -97.7437, 1, 1, 1, "none" },
	{ "US", SB_NT_LOCAL, "1", "305", 555, 25, 3, 4, "Miami", "FL", "460", "MIAMI",
	  "33101", 25.7743, -80.1937, 1, 1, 1, "none" },
	{ "US", SB_NT_TOLLFREE, "1", "800", 555, 20, 3, 4, NOLOC, 1, 1, 0, "none" },
	{ "US", SB_NT_TOLLFREE, "1", "888", 555, 20, 3, 4, NOLOC, 1, 1, 0, "none" },
	{ "CA", SB_NT_LOCAL, "1", "416", 555, 20, 3, 4, "Toronto", "ON", NULL, "TORONTO",
	  "M5H 2N2", 43.6532, -79.3832, 1, 1, 1, "none" },
	{ "CA", SB_NT_LOCAL, "1", "604", 555, 20, 3, 4, "Vancouver", "BC", NULL, "VANCOUVER",
	  "V6B 1A1", 49.2827, -123.1207, 1, 1, 1, "none" },
	{ "GB", SB_NT_LOCAL, "44", "20", 7946, 20, 4, 4, "London", NULL, NULL, NULL, NULL, 0, 0,
	  0, 0, 0, "any" },
	{ "GB", SB_NT_LOCAL, "44", "161", 496, 1, 3, 4, "Manchester", NULL, NULL, NULL, NULL, 0,
	  0, 0, 0, 0, "any" },
	{ "GB", SB_NT_MOBILE, "44", "7700", 900, 100, 3, 3, NOLOC, 0, 1, 0, "any" },
	{ "GB", SB_NT_TOLLFREE, "44", "808", 157, 1, 3, 4, NOLOC, 0, 1, 0, "none" },
	{ "AU", SB_NT_LOCAL, "61", "2", 5550, 50, 4, 4, "Sydney", NULL, NULL, NULL, NULL, 0, 0,
	  0, 0, 0, "local" },
	{ "AU", SB_NT_LOCAL, "61", "3", 5550, 10, 4, 4, "Melbourne", NULL, NULL, NULL, NULL, 0,
	  0, 0, 0, 0, "local" },
	{ "AU", SB_NT_MOBILE, "61", "491", 570, 10, 3, 3, NOLOC, 0, 1, 1, "any" },
	{ "AU", SB_NT_TOLLFREE, "61", "1800", 160, 10, 3, 3, NOLOC, 0, 1, 0, "none" },
	/* Appended (block numbers are area indices: keep the order above).
	 * National significant numbers, E.164 with the country code:
	 *   CA toll-free  833/844 555 xxxx            (NANP, 10 digits)
	 *   DE  030 23125 xxx, 040 66969 xxx, 069 90009 xxx (Bundesnetzagentur
	 *       drama ranges, 10 digits); mobile 01521 555 xxxx (11);
	 *       toll-free 0800 555 xxxx (10)
	 *   IL  02/03 + 7 digits (8); mobile 050 555 xxxx (9); toll-free
	 *       1-800 xxx xxx (10)
	 *   PL  22/12 + 7 digits (9, closed numbering); mobile 51x xxx xxx (9);
	 *       toll-free 800 xxx xxx (9)
	 *   FI  09 xxxx xxx (8); mobile 040 xxx xxxx (9); toll-free
	 *       0800 xxx xxx (9)
	 *   NL  020/010 xxx xxxx (9); mobile 06 5xxx xxxx (9); toll-free
	 *       0800 xxx xxxx (10)
	 *   DK  3x xx xx xx (8, no area codes); mobile 2x xx xx xx (8);
	 *       toll-free 80 xx xx xx (8)
	 *   IT  02/06 xxxx xxxx (10, the 0 is kept in E.164); mobile
	 *       333 xxx xxxx (10); toll-free 800 xxx xxx (9) */
	{ "CA", SB_NT_TOLLFREE, "1", "833", 555, 10, 3, 4, NOLOC, 1, 1, 0, "none" },
	{ "CA", SB_NT_TOLLFREE, "1", "844", 555, 10, 3, 4, NOLOC, 1, 1, 0, "none" },
	{ "DE", SB_NT_LOCAL, "49", "30", 23125, 20, 5, 3, "Berlin", NULL, NULL, NULL, NULL, 0, 0,
	  0, 0, 0, "local" },
	{ "DE", SB_NT_LOCAL, "49", "40", 66969, 20, 5, 3, "Hamburg", NULL, NULL, NULL, NULL, 0, 0,
	  0, 0, 0, "local" },
	{ "DE", SB_NT_LOCAL, "49", "69", 90009, 20, 5, 3, "Frankfurt am Main", NULL, NULL, NULL,
	  NULL, 0, 0, 0, 0, 0, "local" },
	{ "DE", SB_NT_MOBILE, "49", "1521", 555, 20, 3, 4, NOLOC, 0, 1, 0, "any" },
	{ "DE", SB_NT_TOLLFREE, "49", "800", 555, 10, 3, 4, NOLOC, 0, 0, 0, "none" },
	{ "IL", SB_NT_LOCAL, "972", "2", 620, 20, 3, 4, "Jerusalem", NULL, NULL, NULL, NULL, 0,
	  0, 0, 0, 0, "local" },
	{ "IL", SB_NT_LOCAL, "972", "3", 720, 20, 3, 4, "Tel Aviv", NULL, NULL, NULL, NULL, 0, 0,
	  0, 0, 0, "local" },
	{ "IL", SB_NT_MOBILE, "972", "50", 555, 20, 3, 4, NOLOC, 0, 1, 0, "any" },
	{ "IL", SB_NT_TOLLFREE, "972", "1800", 555, 10, 3, 3, NOLOC, 0, 0, 0, "none" },
	{ "PL", SB_NT_LOCAL, "48", "22", 555, 20, 3, 4, "Warszawa", NULL, NULL, NULL, NULL, 0, 0,
	  0, 0, 0, "local" },
	{ "PL", SB_NT_LOCAL, "48", "12", 555, 20, 3, 4, "Krakow", NULL, NULL, NULL, NULL, 0, 0,
	  0, 0, 0, "local" },
	{ "PL", SB_NT_MOBILE, "48", "51", 555, 20, 3, 4, NOLOC, 0, 1, 0, "any" },
	{ "PL", SB_NT_TOLLFREE, "48", "800", 555, 10, 3, 3, NOLOC, 0, 0, 0, "none" },
	{ "FI", SB_NT_LOCAL, "358", "9", 5550, 20, 4, 3, "Helsinki", NULL, NULL, NULL, NULL, 0,
	  0, 0, 0, 0, "local" },
	{ "FI", SB_NT_MOBILE, "358", "40", 555, 20, 3, 4, NOLOC, 0, 1, 0, "any" },
	{ "FI", SB_NT_TOLLFREE, "358", "800", 555, 10, 3, 3, NOLOC, 0, 0, 0, "none" },
	{ "NL", SB_NT_LOCAL, "31", "20", 555, 20, 3, 4, "Amsterdam", NULL, NULL, NULL, NULL, 0, 0,
	  0, 0, 0, "local" },
	{ "NL", SB_NT_LOCAL, "31", "10", 555, 20, 3, 4, "Rotterdam", NULL, NULL, NULL, NULL, 0, 0,
	  0, 0, 0, "local" },
	{ "NL", SB_NT_MOBILE, "31", "6", 5550, 20, 4, 4, NOLOC, 0, 1, 0, "any" },
	{ "NL", SB_NT_TOLLFREE, "31", "800", 555, 10, 3, 4, NOLOC, 0, 0, 0, "none" },
	{ "DK", SB_NT_LOCAL, "45", "32", 55, 20, 2, 4, "Copenhagen", NULL, NULL, NULL, NULL, 0, 0,
	  0, 0, 0, "local" },
	{ "DK", SB_NT_MOBILE, "45", "2", 555, 20, 3, 4, NOLOC, 0, 1, 0, "any" },
	{ "DK", SB_NT_TOLLFREE, "45", "80", 55, 10, 2, 4, NOLOC, 0, 0, 0, "none" },
	{ "IT", SB_NT_LOCAL, "39", "02", 5550, 20, 4, 4, "Milano", NULL, NULL, NULL, NULL, 0, 0,
	  0, 0, 0, "local" },
	{ "IT", SB_NT_LOCAL, "39", "06", 5550, 20, 4, 4, "Roma", NULL, NULL, NULL, NULL, 0, 0, 0,
	  0, 0, "local" },
	{ "IT", SB_NT_MOBILE, "39", "333", 555, 20, 3, 4, NOLOC, 0, 1, 0, "any" },
	{ "IT", SB_NT_TOLLFREE, "39", "800", 555, 10, 3, 3, NOLOC, 0, 0, 0, "none" },
};

#define NAREAS (sizeof(areas) / sizeof(areas[0]))

static const unsigned pow10_tab[] = { 1, 10, 100, 1000, 10000, 100000, 1000000 };

size_t sb_numbers_area_count(void)
{
	return NAREAS;
}

const struct sb_area *sb_numbers_area(size_t i)
{
	return i < NAREAS ? &areas[i] : NULL;
}

int sb_numbers_country_known(const char *iso)
{
	size_t i;

	for (i = 0; i < NAREAS; i++)
		if (strcmp(areas[i].iso, iso) == 0)
			return 1;
	return 0;
}

int sb_numbers_type_parse(const char *seg)
{
	static const char *const empty[] = { "National.json", "Voip.json", "SharedCost.json",
					     "MachineToMachine.json" };
	size_t i;

	if (strcmp(seg, "Local.json") == 0)
		return SB_NT_LOCAL;
	if (strcmp(seg, "TollFree.json") == 0)
		return SB_NT_TOLLFREE;
	if (strcmp(seg, "Mobile.json") == 0)
		return SB_NT_MOBILE;
	for (i = 0; i < sizeof(empty) / sizeof(empty[0]); i++)
		if (strcmp(seg, empty[i]) == 0)
			return SB_NT__MAX;
	return -1;
}

const char *sb_numbers_type_name(enum sb_ntype t)
{
	switch (t) {
	case SB_NT_LOCAL: return "local";
	case SB_NT_TOLLFREE: return "toll-free";
	case SB_NT_MOBILE: return "mobile";
	default: return "local";
	}
}

unsigned sb_numbers_block_size(const struct sb_area *a)
{
	return pow10_tab[a->sdigits];
}

void sb_numbers_make(size_t ai, unsigned xi, unsigned s, struct sb_number *out)
{
	const struct sb_area *a = &areas[ai];
	unsigned x = a->xfirst + xi;

	memset(out, 0, sizeof(*out));
	out->area = a;
	out->block = (unsigned)ai * 1000u + xi;
	out->idx = s;
	snprintf(out->national, sizeof(out->national), "%s%0*u%0*u", a->area, (int)a->xdigits, x,
		 (int)a->sdigits, s);
	snprintf(out->e164, sizeof(out->e164), "+%s%s", a->cc, out->national);
	if (a->nanp)
		snprintf(out->friendly, sizeof(out->friendly), "(%s) %0*u-%0*u", a->area,
			 (int)a->xdigits, x, (int)a->sdigits, s);
	else
		snprintf(out->friendly, sizeof(out->friendly), "+%s %s %0*u %0*u", a->cc, a->area,
			 (int)a->xdigits, x, (int)a->sdigits, s);
}

int sb_numbers_from_block(unsigned block, unsigned idx, struct sb_number *out)
{
	size_t ai = block / 1000u;
	unsigned xi = block % 1000u;

	if (ai >= NAREAS || xi >= areas[ai].xcount || idx >= sb_numbers_block_size(&areas[ai]))
		return -1;
	sb_numbers_make(ai, xi, idx, out);
	return 0;
}

/* Parses exactly n decimal digits; -1 if not. */
static long digits(const char *s, unsigned n)
{
	long v = 0;
	unsigned i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int sb_numbers_lookup(const char *e164, struct sb_number *out)
{
	size_t i, len = strlen(e164);

	if (len < 2 || e164[0] != '+')
		return -1;
	for (i = 0; i < NAREAS; i++) {
		const struct sb_area *a = &areas[i];
		size_t cl = strlen(a->cc), al = strlen(a->area);
		const char *p = e164 + 1;
		long x, s;

		if (strncmp(p, a->cc, cl) != 0 || strncmp(p + cl, a->area, al) != 0)
			continue;
		p += cl + al;
		if (strlen(p) != a->xdigits + a->sdigits)
			continue;
		x = digits(p, a->xdigits);
		s = digits(p + a->xdigits, a->sdigits);
		if (x < (long)a->xfirst || x >= (long)(a->xfirst + a->xcount) || s < 0)
			continue;
		sb_numbers_make(i, (unsigned)(x - (long)a->xfirst), (unsigned)s, out);
		return 0;
	}
	return -1;
}
