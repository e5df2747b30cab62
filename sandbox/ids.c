#define _DEFAULT_SOURCE /* getentropy */
/*
 * ids.c -- random-looking, unique object ids ("cus_" + 14 alphanumerics,
 * "PN" + 32 hex digits).  A per-process xorshift generator seeded from the
 * kernel (getentropy) with the pid mixed in, so sandbox processes sharing
 * one database never produce the same sequence.  Uniqueness is also
 * enforced by the PRIMARY KEYs; 62^14 makes a clash practically impossible.
 */
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__) || defined(__APPLE__)
#include <sys/random.h>
#endif

#include "sandbox.h"

static uint64_t state;

static uint64_t next(void)
{
	if (state == 0) {
		uint64_t seed = 0;

		if (getentropy(&seed, sizeof(seed)) != 0)
			seed = (uint64_t)time(NULL) * 6364136223846793005ULL;
		seed ^= (uint64_t)getpid() << 32;
		state = seed ? seed : 0x9e3779b97f4a7c15ULL;
	}
	/* xorshift64* */
	state ^= state >> 12;
	state ^= state << 25;
	state ^= state >> 27;
	return state * 2685821657736338717ULL;
}

static void fill(char *out, size_t size, const char *prefix, size_t n,
		 const char *alphabet, unsigned radix)
{
	size_t p = strlen(prefix), i;

	if (size == 0)
		return;
	if (p + n + 1 > size)
		n = size > p + 1 ? size - p - 1 : 0;
	if (p >= size)
		p = size - 1;
	memcpy(out, prefix, p);
	for (i = 0; i < n; i++)
		out[p + i] = alphabet[next() % radix];
	out[p + n] = '\0';
}

void sb_id_new(char *out, size_t size, const char *prefix, size_t n)
{
	static const char an[] =
		"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

	fill(out, size, prefix, n, an, 62);
}

void sb_id_new_hex(char *out, size_t size, const char *prefix, size_t n)
{
	fill(out, size, prefix, n, "0123456789abcdef", 16);
}
