/*
 * buf.h -- a growable byte buffer with a ceiling (after curl's dynbuf):
 * growth is overflow-checked and never exceeds the limit given at init.
 * The content is always NUL-terminated.
 */
#ifndef PUR_BUF_H
#define PUR_BUF_H

#include <stddef.h>

struct pur_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max; /* ceiling on len */
};

void pur_buf_init(struct pur_buf *b, size_t max);
/* Appends n bytes. Returns 0, or -1 on allocation failure or when the
 * ceiling would be passed (nothing appended then). */
int pur_buf_add(struct pur_buf *b, const void *p, size_t n);
int pur_buf_adds(struct pur_buf *b, const char *s);
/* s as a JSON string, quoted, as json-c writes it (no slash escaped); 0,
 * or -1 when an append failed. */
int pur_buf_json_str(struct pur_buf *b, const char *s);
void pur_buf_reset(struct pur_buf *b);
void pur_buf_free(struct pur_buf *b);
#endif
