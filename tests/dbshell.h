/*
 * dbshell.h -- the C tests' look behind the library's back: a temporary
 * directory dir with a database file db, and the sqlite3 shell to write
 * rows into it (sql) and read values out of it (val).
 */
#ifndef PUR_TESTS_DBSHELL_H
#define PUR_TESTS_DBSHELL_H

#include <stdio.h>
#include <stdlib.h>

#include "tap.h"

static char dir[256], db[300];

static TAP_UNUSED void
sql(const char *q)
{
	char cmd[4096];

	snprintf(cmd, sizeof(cmd), "sqlite3 '%s' \"%s\"", db, q);
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

	snprintf(cmd, sizeof(cmd), "sqlite3 '%s' \"%s\"", db, q);
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
