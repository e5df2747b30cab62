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
