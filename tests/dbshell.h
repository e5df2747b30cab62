/*
 * dbshell.h -- the C tests' look behind the library's back: a temporary
 * directory dir with a database file db, and the sqlite3 shell to write
 * rows into it (sql) and read values out of it (val). When db is a
 * PostgreSQL URI (test-store's PostgreSQL run), psql instead.
 */
#ifndef PUR_TESTS_DBSHELL_H
#define PUR_TESTS_DBSHELL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

static char dir[256], db[300];

static TAP_UNUSED void
shell_cmd(char *cmd, size_t n, const char *q)
{
	if (strncmp(db, "postgres", 8) == 0)
		snprintf(cmd, n, "psql -X -A -t -q '%s' -c \"%s\"", db, q);
	else
		snprintf(cmd, n, "sqlite3 '%s' \"%s\"", db, q);
}

static TAP_UNUSED void
sql(const char *q)
{
	char cmd[4096];

	shell_cmd(cmd, sizeof(cmd), q);
	if (system(cmd) != 0)
		diag("sqlite3 failed: %s", q);
}

/* One value (or rows, newline-separated) from the database as text. */
static TAP_UNUSED const char *
val(const char *q)
{
	static char out[4096];
	char cmd[2048];
	FILE *p;
	size_t n;

	shell_cmd(cmd, sizeof(cmd), q);
	out[0] = '\0';
	if ((p = popen(cmd, "r")) == NULL)
		return out;
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	while (n > 0 && out[n - 1] == '\n')
		out[--n] = '\0';
	pclose(p);
	return out;
}

#endif
