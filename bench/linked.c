/*
 * linked.c -- the exec floor of plain CGI for bench/run.sh: a program
 * linked with the libraries purchase.fcgi loads at start (libpurchase's
 * SQLite and json-c, and libfcgi; not libcurl, which is loaded on first
 * use) that exits at once. Its cost is exec plus loading them -- what no
 * CGI request of the service can go below.
 *
 *   linked [DATABASE]   with DATABASE, also opens it and reads
 *                       PRAGMA user_version (SQLite's own start)
 */
#include "autoconfig.h"

#include <fcgiapp.h>
#include <json-c/json.h>
#include <sqlite3.h>

int
main(int argc, char **argv)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc = 0;

	/* Never true: references that keep each library linked. */
	if (argc > 1000)
		return sqlite3_libversion_number() + (json_c_version() != 0) + FCGX_IsCGI();
	/* With a database: also open it and run one statement, as health does
	 * (SQLite's start: its initialization, the schema, the WAL). */
	if (argc > 1) {
		if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
			return 1;
		sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
		if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK ||
		    sqlite3_step(st) != SQLITE_ROW)
			rc = 1;
		sqlite3_finalize(st);
		sqlite3_close(db);
	}
	return rc;
}
