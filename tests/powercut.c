/*
 * powercut.c -- LD_PRELOAD shim for tests/powercut.sh: after each
 * successful fsync or fdatasync of a file whose name ends in "-wal", appends
 * that file's size to $POWERCUT_LOG. What a power cut can leave of a WAL
 * that only grew is its prefix up to the last such size: the test cuts it
 * there. Compiled by the test itself (cc -shared), as tests/freeport.c is.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void
note(int fd)
{
	char link[64], path[4096], line[32];
	const char *log = getenv("POWERCUT_LOG");
	struct stat st;
	ssize_t n;
	int o, len;

	if (log == NULL)
		return;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((n = readlink(link, path, sizeof(path) - 1)) < 4)
		return;
	path[n] = '\0';
	if (strcmp(path + n - 4, "-wal") != 0 || fstat(fd, &st) != 0)
		return;
	len = snprintf(line, sizeof(line), "%lld\n", (long long)st.st_size);
	if ((o = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return;
	if (write(o, line, (size_t)len) != len)
		(void)0;
	close(o);
}

/* The real call's result, the size logged when it synced. */
static int
synced(int fd, int rc)
{
	if (rc == 0)
		note(fd);
	return rc;
}

int
fdatasync(int fd)
{
	static int (*real)(int);

	if (real == NULL)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
	return synced(fd, real(fd));
}

int
fsync(int fd)
{
	static int (*real)(int);

	if (real == NULL)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	return synced(fd, real(fd));
}
