/*
 * reply.c -- writing responses (RFC 3875 §6: a CGI response begins with its
 * Status header).
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "reply.h"

static const char INTERNAL[] = "{\"error\":\"Internal server error.\",\"message\":\"Internal server error.\",\"code\":\"internal_error\"}";

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 402: return "Payment Required";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 503: return "Service Unavailable";
	default: return status >= 500 ? "Internal Server Error" : "Error";
	}
}

int
reply_write(const struct sink *out, int status, const char *request_id,
    const struct reply_extra *extra, const char *body, size_t len)
{
	char head[512];
	int n, m;

	n = snprintf(head, sizeof(head),
	    "Status: %d %s\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: %zu\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "X-Request-Id: %s\r\n",
	    status, reason(status), len, request_id);
	if (n < 0 || (size_t)n >= sizeof(head))
		return -1;
	if (extra != NULL && extra->allow != NULL) {
		m = snprintf(head + n, sizeof(head) - (size_t)n, "Allow: %s\r\n", extra->allow);
		if (m < 0 || (size_t)m >= sizeof(head) - (size_t)n)
			return -1;
		n += m;
	}
	if (extra != NULL && extra->retry_after > 0) {
		m = snprintf(head + n, sizeof(head) - (size_t)n, "Retry-After: %d\r\n",
		    extra->retry_after);
		if (m < 0 || (size_t)m >= sizeof(head) - (size_t)n)
			return -1;
		n += m;
	}
	if ((size_t)n + 2 >= sizeof(head))
		return -1;
	head[n++] = '\r';
	head[n++] = '\n';
	if (out->write(out->arg, head, (size_t)n) != 0)
		return -1;
	return len > 0 ? out->write(out->arg, body, len) : 0;
}

int
reply_error(const struct sink *out, enum purchase_err err, const char *request_id,
    const struct reply_extra *more)
{
	struct purchase_reply r;
	struct reply_extra extra = {NULL, 0};
	int rc;

	if (more != NULL)
		extra = *more;
	if ((purchase_status_of(err)->http == 429 || purchase_status_of(err)->http == 503) &&
	    extra.retry_after <= 0)
		extra.retry_after = 1;
	if (purchase_render(err, NULL, &r) != PURCHASE_OK)
		return reply_write(out, 500, request_id, NULL, INTERNAL, sizeof(INTERNAL) - 1);
	rc = reply_write(out, r.status, request_id, &extra, r.body, r.len);
	purchase_reply_free(&r);
	return rc;
}
