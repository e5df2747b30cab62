/*
 * floor.c -- what the platform costs before the service does anything, for
 * bench/run.sh to set the service's figures against:
 *
 *   floor rss          VmRSS (kB) of this small process, then after loading
 *                      libcurl (CURL_SONAME, as lib/http.c does) and
 *                      curl_global_init: "<before> <after>" -- the memory any
 *                      worker that calls a provider has, whatever it does
 *   floor http URL N   N keep-alive GETs of URL through one libcurl handle:
 *                      "<client CPU µs per request> <requests/s>" -- the CPU
 *                      one provider call costs the caller, at the least
 */
#include "autoconfig.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpu.h"

static long
vmrss_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	fclose(f);
	return kb;
}

static size_t
discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

int
main(int argc, char **argv)
{
	CURLcode (*global_init)(long);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	struct timespec t0, t1;
	double c0, c1, s;
	long before, n, i;
	void *lib;
	CURL *c;

	if (argc < 2 || (strcmp(argv[1], "rss") != 0 && (strcmp(argv[1], "http") != 0 || argc < 4))) {
		fputs("usage: floor rss | floor http URL N\n", stderr);
		return 2;
	}
	before = vmrss_kb();
	if ((lib = dlopen(CURL_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		fprintf(stderr, "floor: %s\n", dlerror());
		return 1;
	}
	*(void **)&global_init = dlsym(lib, "curl_global_init");
	*(void **)&easy_init = dlsym(lib, "curl_easy_init");
	*(void **)&easy_setopt = dlsym(lib, "curl_easy_setopt");
	*(void **)&easy_perform = dlsym(lib, "curl_easy_perform");
	if (global_init == NULL || easy_init == NULL || easy_setopt == NULL || easy_perform == NULL ||
	    global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || (c = easy_init()) == NULL)
		return 1;
	if (strcmp(argv[1], "rss") == 0) {
		printf("%ld %ld\n", before, vmrss_kb());
		return 0;
	}
	if ((n = strtol(argv[3], NULL, 10)) <= 0)
		return 2;
	easy_setopt(c, CURLOPT_URL, argv[2]);
	easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (easy_perform(c) != CURLE_OK) /* connects; not counted */
		return 1;
	c0 = cpu_us();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++)
		if (easy_perform(c) != CURLE_OK)
			return 1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	c1 = cpu_us();
	s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("%.0f %.0f\n", (c1 - c0) / (double)n, (double)n / s);
	return 0;
}
