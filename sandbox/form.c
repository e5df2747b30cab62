/*
 * form.c -- decodes application/x-www-form-urlencoded bodies and query
 * strings (HTML 5 "application/x-www-form-urlencoded parsing": '&'
 * separated, '+' is a space, %XX escapes) into key/value pairs.
 *
 * Stripe's nested parameters (items[0][price], metadata[purchase_id],
 * expand[]) are kept as their literal key strings; helpers below pick them
 * apart.  Limits: SB_FORM_MAX_PAIRS pairs, keys up to SB_FORM_MAX_KEY bytes.
 * Decoded values must not contain NUL.
 */
#include <stdlib.h>
#include <string.h>

#include "sandbox.h"

#define SB_FORM_MAX_PAIRS 256u
#define SB_FORM_MAX_KEY 512u

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Decodes s[0..len) into a new NUL-terminated string; NULL on a bad
 * escape, an embedded NUL or allocation failure. */
static char *decode(const char *s, size_t len)
{
	char *out = malloc(len + 1);
	size_t i, o = 0;

	if (out == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		int ch = (unsigned char)s[i];

		if (ch == '+') {
			ch = ' ';
		} else if (ch == '%') {
			int hi, lo;

			if (i + 2 >= len)
				goto bad;
			hi = hexval((unsigned char)s[i + 1]);
			lo = hexval((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0)
				goto bad;
			ch = hi * 16 + lo;
			i += 2;
		}
		if (ch == 0)
			goto bad;
		out[o++] = (char)ch;
	}
	out[o] = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

int sb_form_parse(struct sb_form *f, const char *s, size_t len)
{
	size_t pos = 0;

	f->n = 0;
	f->pairs = NULL;
	if (s == NULL || len == 0)
		return 0;
	f->pairs = calloc(SB_FORM_MAX_PAIRS, sizeof(*f->pairs));
	if (f->pairs == NULL)
		return -1;
	while (pos < len) {
		const char *part = s + pos;
		const char *amp = memchr(part, '&', len - pos);
		size_t plen = amp ? (size_t)(amp - part) : len - pos;
		const char *eq = memchr(part, '=', plen);
		size_t klen = eq ? (size_t)(eq - part) : plen;

		pos += plen + 1;
		if (plen == 0)
			continue;
		if (f->n >= SB_FORM_MAX_PAIRS || klen > SB_FORM_MAX_KEY)
			goto fail;
		f->pairs[f->n].key = decode(part, klen);
		if (f->pairs[f->n].key == NULL)
			goto fail;
		f->pairs[f->n].val = eq ? decode(eq + 1, plen - klen - 1) : decode("", 0);
		if (f->pairs[f->n].val == NULL) {
			free(f->pairs[f->n].key);
			goto fail;
		}
		f->n++;
	}
	return 0;
fail:
	sb_form_free(f);
	return -1;
}

void sb_form_free(struct sb_form *f)
{
	size_t i;

	if (f == NULL || f->pairs == NULL)
		return;
	for (i = 0; i < f->n; i++) {
		free(f->pairs[i].key);
		free(f->pairs[i].val);
	}
	free(f->pairs);
	f->pairs = NULL;
	f->n = 0;
}

const char *sb_form_get(const struct sb_form *f, const char *key)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (strcmp(f->pairs[i].key, key) == 0)
			return f->pairs[i].val;
	return NULL;
}

int sb_form_is_array_key(const char *key, const char *name)
{
	size_t n = strlen(name);
	const char *p;

	if (strncmp(key, name, n) != 0 || key[n] != '[')
		return 0;
	for (p = key + n + 1; *p >= '0' && *p <= '9'; p++)
		;
	return p[0] == ']' && p[1] == '\0';
}

const char *sb_form_bracket(const char *key, const char *prefix, size_t *len)
{
	size_t n = strlen(prefix), k = strlen(key);

	if (k < n + 3 || strncmp(key, prefix, n) != 0 || key[n] != '[' ||
	    key[k - 1] != ']')
		return NULL;
	*len = k - n - 2;
	if (memchr(key + n + 1, '[', *len) != NULL || memchr(key + n + 1, ']', *len) != NULL)
		return NULL;
	return key + n + 1;
}
