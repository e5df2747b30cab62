/*
 * config.c -- loading and validating purchase.conf.
 */
#include "autoconfig.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "error.h"

#define CONFIG_MAX (64 * 1024)

enum kind { STR, NUM };

struct key {
	const char *name;
	enum kind kind;
	size_t off;
	long min, max;
};

#define S(f) STR, offsetof(struct pur_config, f), 0, 0
#define N(f, lo, hi) NUM, offsetof(struct pur_config, f), lo, hi

static const struct key keys[] = {
	{"database", S(database)},
	{"stripe_api_base", S(stripe_api_base)},
	{"stripe_secret_key", S(stripe_secret_key)},
	{"stripe_webhook_secret", S(stripe_webhook_secret)},
	{"twilio_api_base", S(twilio_api_base)},
	{"twilio_account_sid", S(twilio_account_sid)},
	{"twilio_auth_token", S(twilio_auth_token)},
	{"offer_ttl_seconds", N(offer_ttl_seconds, 1, 7 * 86400)},
	{"provider_timeout_ms", N(provider_timeout_ms, 100, 120000)},
	{"provider_connect_timeout_ms", N(provider_connect_timeout_ms, 50, 60000)},
	{"busy_timeout_ms", N(busy_timeout_ms, 0, 60000)},
	{"lease_seconds", N(lease_seconds, 5, 3600)},
	{"purchase_rate_per_minute", N(purchase_rate_per_minute, 0, 1000000)},
	{"search_rate_per_minute", N(search_rate_per_minute, 0, 1000000)},
	{"release_margin_seconds", N(release_margin_seconds, 0, 7 * 86400)},
};

void
pur_config_free(struct pur_config *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (keys[i].kind == STR)
			free(*(char **)((char *)c + keys[i].off));
	free(c->path);
	free(c);
}

int
pur_config_base_ok(const char *base)
{
	const char *h, *port;
	size_t n, auth;

	if (base == NULL)
		return 0;
	if (strncmp(base, "https://", 8) == 0) {
		h = base + 8;
		auth = strcspn(h, "/?#");
		/* No userinfo: credentials never ride in the base URL. */
		return auth > 0 && memchr(h, '@', auth) == NULL;
	}
	if (strncmp(base, "http://", 7) != 0)
		return 0;
	h = base + 7;
	auth = strcspn(h, "/?#");
	if (memchr(h, '@', auth) != NULL)
		return 0;
	if (strncmp(h, "[::1]", 5) == 0)
		n = 5;
	else
		n = strcspn(h, ":/?#");
	/* After the host: nothing, a path, or ":" and a port of digits only. */
	port = h + n;
	if (*port == ':') {
		size_t digits = strspn(port + 1, "0123456789");
		if (digits == 0 || digits > 5 || (port[1 + digits] != '\0' && port[1 + digits] != '/'))
			return 0;
	} else if (*port != '\0' && *port != '/') {
		return 0;
	}
	if (n == 9 && strncmp(h, "localhost", 9) == 0)
		return 1;
	if (n == 5 && h[0] == '[')
		return 1;
	if (n >= 7 && n <= 15 && strncmp(h, "127.", 4) == 0 && strspn(h, "0123456789.") >= n)
		return 1;
	return 0;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static int
parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (*s == '\0' || !(isdigit((unsigned char)*s) || *s == '-'))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static enum purchase_err
set_default(char **field, const char *value)
{
	if (*field == NULL && (*field = strdup(value)) == NULL)
		return PURCHASE_ENOMEM;
	return PURCHASE_OK;
}

enum purchase_err
pur_config_parse(const char *text, const char *path, struct pur_config **out,
    struct purchase_detail *d)
{
	struct pur_config *c;
	char *copy = NULL, *line, *next, *eq, *k, *v;
	enum purchase_err err = PURCHASE_ENOMEM;
	unsigned lineno = 0;
	size_t i;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return PURCHASE_ENOMEM;
	c->offer_ttl_seconds = 3600;
	c->provider_timeout_ms = 8000;
	c->provider_connect_timeout_ms = 3000;
	c->busy_timeout_ms = 2000;
	c->lease_seconds = 60;
	c->purchase_rate_per_minute = 30;
	c->search_rate_per_minute = 120;
	c->release_margin_seconds = 3600;
	if ((c->path = strdup(path)) == NULL || (copy = strdup(text)) == NULL)
		goto out;
	for (line = copy; line != NULL; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		line = trim(line);
		if (*line == '\0' || *line == '#')
			continue;
		if ((eq = strchr(line, '=')) == NULL) {
			err = pur_error_set(d, PURCHASE_ECONFIG, "%s:%u: expected key = value", path, lineno);
			goto out;
		}
		*eq = '\0';
		k = trim(line);
		v = trim(eq + 1);
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (strcmp(keys[i].name, k) == 0)
				break;
		if (i == sizeof(keys) / sizeof(keys[0])) {
			err = pur_error_set(d, PURCHASE_ECONFIG, "%s:%u: unknown key", path, lineno);
			goto out;
		}
		if (keys[i].kind == STR) {
			char **f = (char **)((char *)c + keys[i].off);
			free(*f);
			if ((*f = strdup(v)) == NULL)
				goto out;
		} else if (parse_long(v, keys[i].min, keys[i].max,
		               (long *)((char *)c + keys[i].off)) != 0) {
			err = pur_error_set(d, PURCHASE_ECONFIG, "%s:%u: %s must be a number from %ld to %ld",
			    path, lineno, keys[i].name, keys[i].min, keys[i].max);
			goto out;
		}
	}
	if (set_default(&c->stripe_api_base, "https://api.stripe.com") != PURCHASE_OK ||
	    set_default(&c->twilio_api_base, "https://api.twilio.com") != PURCHASE_OK)
		goto out;
	if (c->database == NULL || *c->database == '\0') {
		err = pur_error_set(d, PURCHASE_ECONFIG, "%s: database is not set", path);
		goto out;
	}
	if (!pur_config_base_ok(c->stripe_api_base) || !pur_config_base_ok(c->twilio_api_base)) {
		err = pur_error_set(d, PURCHASE_ECONFIG,
		    "%s: provider bases must be https:// (plain http:// only to loopback)", path);
		goto out;
	}
	*out = c;
	c = NULL;
	err = PURCHASE_OK;
out:
	free(copy);
	pur_config_free(c);
	return err;
}

enum purchase_err
pur_config_load(const char *path, struct pur_config **out, struct purchase_detail *d)
{
	struct pur_buf b;
	char chunk[4096];
	size_t n;
	FILE *f;
	enum purchase_err err;

	*out = NULL;
	if ((f = fopen(path, "re")) == NULL)
		return pur_error_set(d, PURCHASE_ECONFIG, "%s: cannot open: %s", path, strerror(errno));
	pur_buf_init(&b, CONFIG_MAX);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (pur_buf_add(&b, chunk, n) != 0) {
			fclose(f);
			pur_buf_free(&b);
			return pur_error_set(d, PURCHASE_ECONFIG, "%s: too large", path);
		}
	if (ferror(f)) {
		fclose(f);
		pur_buf_free(&b);
		return pur_error_set(d, PURCHASE_ECONFIG, "%s: read error", path);
	}
	fclose(f);
	if (memchr(b.data ? b.data : "", '\0', b.len) != NULL) {
		pur_buf_free(&b);
		return pur_error_set(d, PURCHASE_ECONFIG, "%s: contains a NUL byte", path);
	}
	err = pur_config_parse(b.data ? b.data : "", path, out, d);
	pur_buf_free(&b);
	return err;
}
