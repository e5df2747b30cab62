/*
 * fuzz-request.c -- libFuzzer target: the responder's request reader
 * (cgi-bin/request.c): request_init with CGI meta-variables taken from the
 * input, then request_read_json_body through a fake source reading the rest.
 *
 * Input: byte 0 shapes the fake reader -- its low 7 bits cap the bytes one
 * read returns (0: as many as asked), its high bit makes the end of the
 * input a read error (-1) instead of an end of file (0). Then "NAME=value"
 * lines (the first "=" splits; no "=": the name alone, an empty value) up to
 * an empty line; the rest, in a buffer of exactly its size, is the body the
 * source gives.
 *
 * Properties: the path is "" or starts with "/api", the request id is 1-36
 * characters of [A-Za-z0-9._-]; the reader never asks for more than the
 * body buffer has room for (with its terminating NUL); a body accepted is
 * exactly CONTENT_LENGTH bytes of the input, NUL-terminated.
 */
#include "autoconfig.h"

#include "fuzz.h"
#include "request.h"

#define NVARS 32

struct fake {
	const char *name[NVARS];
	const char *value[NVARS];
	size_t n;
	const char *body;  /* exact-size copy */
	size_t len, off;
	size_t chunk;      /* 0: unlimited */
	int error_at_end;
	struct request *r; /* to check where reads land */
	int reads;
};

static const char *
fake_param(void *arg, const char *name)
{
	struct fake *f = arg;
	size_t i;

	for (i = 0; i < f->n; i++)
		if (strcmp(f->name[i], name) == 0)
			return f->value[i];
	return NULL;
}

static int
fake_read(void *arg, char *buf, size_t n)
{
	struct fake *f = arg;
	char *end = f->r->body + BODY_MAX; /* the last byte is for the NUL */

	FUZZ_CHECK(buf >= f->r->body && buf < end && n > 0 && n <= (size_t)(end - buf));
	FUZZ_CHECK(++f->reads <= BODY_MAX + 1);
	if (f->off == f->len)
		return f->error_at_end ? -1 : 0;
	if (n > f->len - f->off)
		n = f->len - f->off;
	if (f->chunk != 0 && n > f->chunk)
		n = f->chunk;
	memcpy(buf, f->body + f->off, n);
	f->off += n;
	return (int)n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fake f;
	struct source src = {fake_param, fake_read, &f};
	struct request *r;
	char *vars = NULL, *line, *next, *eq, *body = NULL;
	const uint8_t *p, *blank;
	size_t vlen, i, want;
	enum purchase_err err;

	if (size == 0)
		return 0;
	memset(&f, 0, sizeof(f));
	f.chunk = data[0] & 0x7f;
	f.error_at_end = (data[0] & 0x80) != 0;
	p = data + 1;
	size--;
	/* The variables end at the first empty line. */
	blank = NULL;
	for (i = 0; i < size; i++)
		if (p[i] == '\n' && (i == 0 || p[i - 1] == '\n')) {
			blank = p + i;
			break;
		}
	vlen = blank ? (size_t)(blank - p) : size;
	vars = fuzz_cstr(p, vlen);
	for (line = vars; line != NULL && *line != '\0' && f.n < NVARS; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if ((eq = strchr(line, '=')) != NULL)
			*eq++ = '\0';
		f.name[f.n] = line;
		f.value[f.n] = eq ? eq : "";
		f.n++;
	}
	f.len = blank ? size - vlen - 1 : 0;
	f.body = body = fuzz_exact(blank ? blank + 1 : p, f.len);

	/* On the heap, exactly its size: AddressSanitizer guards its end. */
	if ((r = malloc(sizeof(*r))) == NULL)
		abort();
	f.r = r;
	request_init(r, &src);
	FUZZ_CHECK(r->method != NULL && r->query != NULL);
	FUZZ_CHECK(fuzz_terminated(r->path, sizeof(r->path)));
	FUZZ_CHECK(r->path[0] == '\0' || strncmp(r->path, "/api", 4) == 0);
	FUZZ_CHECK(strchr(r->path, '?') == NULL && strchr(r->path, '#') == NULL);
	FUZZ_CHECK(fuzz_terminated(r->request_id, sizeof(r->request_id)));
	FUZZ_CHECK(strlen(r->request_id) >= 1 && strlen(r->request_id) <= 36);
	FUZZ_CHECK(strspn(r->request_id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                                 "0123456789._-") == strlen(r->request_id));

	err = request_read_json_body(r);
	FUZZ_CHECK(err == PURCHASE_OK || err == PURCHASE_EMEDIA || err == PURCHASE_ELENGTH ||
	    err == PURCHASE_ETOO_LARGE || err == PURCHASE_EBODY);
	if (err == PURCHASE_OK) {
		FUZZ_CHECK(r->content_length != NULL);
		FUZZ_CHECK(strspn(r->content_length, "0123456789") == strlen(r->content_length));
		want = strtoul(r->content_length, NULL, 10);
		FUZZ_CHECK(want > 0 && want <= BODY_MAX && r->body_len == want);
		FUZZ_CHECK(want <= f.len && memcmp(r->body, body, want) == 0);
		FUZZ_CHECK(r->body[want] == '\0');
	}
	free(r);
	free(body);
	free(vars);
	return 0;
}
