/*
 * linked.c -- the exec floor of plain CGI for bench/run.sh: a program
 * linked with the libraries purchase.fcgi loads at start (libpurchase's
 * SQLite and json-c, and libfcgi; not libcurl, which is loaded on first
 * use) that exits at once. Its cost is exec plus loading them -- what no
 * CGI request of the service can go below.
 */
#include "autoconfig.h"

#include <fcgiapp.h>
#include <json-c/json.h>
#include <sqlite3.h>

int
main(int argc, char **argv)
{
	(void)argv;
	/* Never true: references that keep each library linked. */
	if (argc > 1000)
		return sqlite3_libversion_number() + (json_c_version() != 0) + FCGX_IsCGI();
	return 0;
}
