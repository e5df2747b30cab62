/*
 * buf.c -- bounded growable buffer.
 */
#include "autoconfig.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void
pur_buf_init(struct pur_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

int
pur_buf_add(struct pur_buf *b, const void *p, size_t n)
{
	size_t need, ncap;
	char *nd;

	if (n > b->max || b->len > b->max - n)
		return -1;
	need = b->len + n + 1;
	if (need > b->cap) {
		ncap = b->cap ? b->cap : 256;
		while (ncap < need) {
			if (ncap > SIZE_MAX / 2)
				return -1;
			ncap *= 2;
		}
		if (ncap > b->max + 1)
			ncap = b->max + 1;
		if ((nd = realloc(b->data, ncap)) == NULL)
			return -1;
		b->data = nd;
		b->cap = ncap;
	}
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
pur_buf_adds(struct pur_buf *b, const char *s)
{
	return pur_buf_add(b, s, strlen(s));
}

void
pur_buf_reset(struct pur_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

void
pur_buf_free(struct pur_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

/* A JSON string as json-c writes it (JSON_C_TO_STRING_NOSLASHESCAPE): '"'
 * and '\\' escaped, the control characters as \b \f \n \r \t or \u00xx,
 * every other byte as it is. Nonzero when an append failed. */
int
pur_buf_json_str(struct pur_buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;
	int bad = pur_buf_add(b, "\"", 1);

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		char u[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], '\0'};
		const char *esc = u;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		switch (c) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		}
		bad |= pur_buf_add(b, run, (size_t)(s - run));
		bad |= pur_buf_adds(b, esc);
		run = s + 1;
	}
	bad |= pur_buf_add(b, run, (size_t)(s - run));
	return bad | pur_buf_add(b, "\"", 1);
}
