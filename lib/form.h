/*
 * form.h -- application/x-www-form-urlencoded: building provider request
 * bodies and query strings (every byte outside RFC 3986 "unreserved"
 * percent-encoded, so no value can smuggle "&" or "="), and reading the
 * client's query string.
 */
#ifndef PUR_FORM_H
#define PUR_FORM_H

#include <stddef.h>

#include "buf.h"

/* Appends "key=value" (with a leading "&" when b is not empty), both
 * percent-encoded. Returns 0, or -1 on overflow or allocation failure. */
int pur_form_add(struct pur_buf *b, const char *key, const char *value);

/* Appends s percent-encoded. */
int pur_form_escape(struct pur_buf *b, const char *s);

/* Iterates over "k=v&k=v": decodes the next pair from *pos into key and val
 * (NUL-terminated, "+" is a space). Returns 1 when a pair was read, 0 at the
 * end, -1 when malformed (bad escape, NUL byte, key or value too long). */
int pur_form_next(const char **pos, char *key, size_t keylen, char *val, size_t vallen);

#endif
