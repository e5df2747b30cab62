/*
 * auth.c -- credential checks for the two vendors: Stripe's
 * "Authorization: Bearer <secret key>" and Twilio's HTTP Basic
 * (RFC 7617) "AccountSid:AuthToken".  Comparisons are constant-time in the
 * length of the expected secret, for form's sake.
 */
#include <string.h>
#include <strings.h>

#include "sandbox.h"

#define SB_AUTH_MAX 512u

static int same(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b), i;
	unsigned diff = alen != blen;

	for (i = 0; i < blen; i++)
		diff |= (unsigned char)(i < alen ? a[i] : 0) ^ (unsigned char)b[i];
	return diff == 0;
}

/* Returns the credentials after "<scheme> " or NULL. */
static const char *after_scheme(const char *header, const char *scheme)
{
	size_t n = strlen(scheme);

	if (header == NULL || strncasecmp(header, scheme, n) != 0 || header[n] != ' ')
		return NULL;
	header += n;
	while (*header == ' ')
		header++;
	return header;
}

int sb_auth_bearer(const char *header, const char *key)
{
	const char *cred = after_scheme(header, "Bearer");

	return cred != NULL && same(cred, strlen(cred), key);
}

void sb_auth_mask_bearer(const char *header, char *out, size_t n)
{
	const char *cred = after_scheme(header, "Bearer");
	size_t len, i, o = 0;

	if (n == 0)
		return;
	if (cred == NULL)
		cred = "";
	len = strlen(cred);
	/* Stripe shows the first 8 characters, stars, and the last 4. */
	for (i = 0; i < len && o + 1 < n && o < 40; i++) {
		int show = i < 8 || (len > 12 && i >= len - 4);
		char ch = cred[i];

		if (ch < 0x21 || ch > 0x7e)
			ch = '?';
		out[o++] = show ? ch : '*';
	}
	out[o] = '\0';
}

static int b64val(int ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

/* Decodes base64 into out (size n); returns the length or -1. */
static long b64decode(const char *s, char *out, size_t n)
{
	unsigned acc = 0;
	int bits = 0;
	size_t o = 0;

	for (; *s && *s != '='; s++) {
		int v = b64val((unsigned char)*s);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o + 1 >= n)
				return -1;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	out[o] = '\0';
	return (long)o;
}

int sb_auth_basic(const char *header, const char *user, const char *pass)
{
	const char *cred = after_scheme(header, "Basic");
	char buf[SB_AUTH_MAX];
	const char *colon;
	long len;

	if (cred == NULL || strlen(cred) > SB_AUTH_MAX)
		return 0;
	len = b64decode(cred, buf, sizeof(buf));
	if (len < 0)
		return 0;
	colon = memchr(buf, ':', (size_t)len);
	if (colon == NULL)
		return 0;
	return same(buf, (size_t)(colon - buf), user) &
	       same(colon + 1, (size_t)len - (size_t)(colon - buf) - 1, pass);
}
