/*
 * form.c -- form encoding and decoding (WHATWG URL Standard §5, RFC 3986).
 */
#include "autoconfig.h"

#include <string.h>

#include "form.h"

static int
unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '.' || c == '_' || c == '~';
}

int
pur_form_escape(struct pur_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	char e[3];

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (unreserved(*p)) {
			if (pur_buf_add(b, p, 1) != 0)
				return -1;
			continue;
		}
		e[0] = '%';
		e[1] = hex[*p >> 4];
		e[2] = hex[*p & 15];
		if (pur_buf_add(b, e, 3) != 0)
			return -1;
	}
	return 0;
}

int
pur_form_add(struct pur_buf *b, const char *key, const char *value)
{
	if ((b->len > 0 && pur_buf_add(b, "&", 1) != 0) || pur_form_escape(b, key) != 0 ||
	    pur_buf_add(b, "=", 1) != 0 || pur_form_escape(b, value) != 0)
		return -1;
	return 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes s[0..n) into out (size outlen). -1 on bad escape, NUL, overflow. */
static int
decode(const char *s, size_t n, char *out, size_t outlen)
{
	size_t i, o = 0;
	int hi, lo;
	char c;

	for (i = 0; i < n; i++) {
		c = s[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			if (i + 2 >= n)
				return -1;
			if ((hi = hexval(s[i + 1])) < 0 || (lo = hexval(s[i + 2])) < 0)
				return -1;
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if (c == '\0' || o + 1 >= outlen)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

int
pur_form_next(const char **pos, char *key, size_t keylen, char *val, size_t vallen)
{
	const char *p = *pos, *amp, *eq;
	size_t n;

	while (*p == '&')
		p++;
	if (*p == '\0') {
		*pos = p;
		return 0;
	}
	n = strcspn(p, "&");
	amp = p + n;
	eq = memchr(p, '=', n);
	if (eq == NULL) {
		if (decode(p, n, key, keylen) != 0)
			return -1;
		val[0] = '\0';
	} else if (decode(p, (size_t)(eq - p), key, keylen) != 0 ||
	           decode(eq + 1, (size_t)(amp - eq - 1), val, vallen) != 0) {
		return -1;
	}
	*pos = amp;
	return 1;
}
