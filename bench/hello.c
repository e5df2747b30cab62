/*
 * hello.c -- the benchmark's ceiling: the smallest FastCGI responder that
 * answers like purchase.fcgi (libfcgi's FCGX API, the same response headers)
 * with a fixed JSON body, whatever the request. bench/run.sh serves it
 * through the same lighttpd configuration as the service; what the service
 * does beyond this is what its own work costs.
 */
#include "autoconfig.h"

#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static const char BODY[] = "{\"status\":\"ok\"}";

int
main(void)
{
	FCGX_Request q;
	char head[512];
	int n;

	signal(SIGPIPE, SIG_IGN);
	if (FCGX_Init() != 0 || FCGX_InitRequest(&q, 0, 0) != 0) {
		fputs("hello.fcgi: cannot initialise FastCGI\n", stderr);
		return 1;
	}
	while (FCGX_Accept_r(&q) >= 0) {
		n = snprintf(head, sizeof(head),
		    "Status: 200 OK\r\n"
		    "Content-Type: application/json\r\n"
		    "Content-Length: %zu\r\n"
		    "Cache-Control: no-store\r\n"
		    "X-Content-Type-Options: nosniff\r\n"
		    "X-Request-Id: %s\r\n"
		    "\r\n",
		    sizeof(BODY) - 1, "0123456789abcdef");
		FCGX_PutStr(head, n, q.out);
		FCGX_PutStr(BODY, (int)sizeof(BODY) - 1, q.out);
		FCGX_Finish_r(&q);
	}
	return 0;
}
