/*
 * commits.c -- the machine's durability floor for bench/run.sh: how many
 * single-row write transactions per second SQLite commits in WAL mode with
 * a given synchronous setting (FULL: one fsync of the WAL per commit), on a
 * file in a given directory -- the same file system as the service's
 * database.
 *
 *   commits FILE N [FULL|NORMAL]   prints "<commits/s> <µs/commit> <CPU µs/commit>"
 *
 * The CPU time (user+system of this process) is what one commit costs the
 * committing process: at FULL, mostly the kernel's fsync work.
 */
#include "autoconfig.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cpu.h"

static int
exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "commits: %s: %s\n", sql, msg ? msg : "?");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *ins = NULL;
	struct timespec t0, t1;
	char pragma[64];
	const char *mode = argc > 3 ? argv[3] : "FULL";
	long n, i;
	double s, c0, c1;

	if (argc < 3 || (n = strtol(argv[2], NULL, 10)) <= 0) {
		fputs("usage: commits FILE N [FULL|NORMAL]\n", stderr);
		return 2;
	}
	unlink(argv[1]);
	if (sqlite3_open(argv[1], &db) != SQLITE_OK)
		return 1;
	snprintf(pragma, sizeof(pragma), "PRAGMA synchronous=%s", mode);
	if (exec(db, "PRAGMA journal_mode=WAL") || exec(db, pragma) ||
	    exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)") ||
	    sqlite3_prepare_v2(db, "INSERT INTO t (v) VALUES ('+14155550100')", -1, &ins, NULL) !=
	        SQLITE_OK)
		return 1;
	c0 = cpu_us();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++) {
		if (exec(db, "BEGIN IMMEDIATE") || sqlite3_step(ins) != SQLITE_DONE ||
		    exec(db, "COMMIT"))
			return 1;
		sqlite3_reset(ins);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	c1 = cpu_us();
	s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("%.0f %.1f %.0f\n", (double)n / s, s * 1e6 / (double)n, (c1 - c0) / (double)n);
	sqlite3_finalize(ins);
	sqlite3_close(db);
	unlink(argv[1]);
	return 0;
}
