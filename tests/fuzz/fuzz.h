/*
 * fuzz.h -- what the libFuzzer targets of tests/fuzz/ share: copying the
 * input into a buffer of exactly its size (so that AddressSanitizer sees any
 * read past len: libFuzzer's own buffer may be followed by readable bytes),
 * or into a NUL-terminated one for the functions that take C strings, and a
 * check that aborts -- libFuzzer then saves the input as a crash.
 */
#ifndef PUR_FUZZ_H
#define PUR_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property that must hold: report it and abort (libFuzzer keeps the
 * input as crash-<sha1>). */
#define FUZZ_CHECK(cond)                                                              \
	do {                                                                          \
		if (!(cond)) {                                                        \
			fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, \
			    #cond);                                                   \
			abort();                                                      \
		}                                                                     \
	} while (0)

/* data[0..size) in a malloc'd block of exactly size bytes (not
 * NUL-terminated; one byte for an empty input so that the pointer is not
 * NULL). The caller frees it. */
static inline char *
fuzz_exact(const uint8_t *data, size_t size)
{
	char *p = malloc(size ? size : 1);

	if (p == NULL)
		abort();
	if (size)
		memcpy(p, data, size);
	return p;
}

/* data[0..size) NUL-terminated (a C string up to the first NUL byte). */
static inline char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char *p = malloc(size + 1);

	if (p == NULL)
		abort();
	if (size)
		memcpy(p, data, size);
	p[size] = '\0';
	return p;
}

/* 1 when s holds a NUL within its n bytes (a bounded C string). */
static inline int
fuzz_terminated(const char *s, size_t n)
{
	return memchr(s, '\0', n) != NULL;
}

#endif
