/*
 * spawn.c -- the cost of one exec for bench/run.sh's plain-CGI part: runs a
 * program N times, one after the other (posix_spawn, then wait), stdin from
 * a file, stdout and stderr to /dev/null, and prints the wall time of one
 * run in milliseconds. The environment is this program's own (run it under
 * env -i with the CGI variables). A shell loop would add its own fork and
 * exec to every run; this adds one posix_spawn (vfork) call.
 *
 *   spawn N STDIN-FILE PROGRAM [ARG...]   prints "<ms per run> <last exit status>"
 */
#include "autoconfig.h"

#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

int
main(int argc, char **argv)
{
	posix_spawn_file_actions_t fa;
	struct timespec t0, t1;
	long n, i;
	pid_t pid;
	int st = 0;

	if (argc < 4 || (n = strtol(argv[1], NULL, 10)) <= 0) {
		fputs("usage: spawn N STDIN-FILE PROGRAM [ARG...]\n", stderr);
		return 2;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, argv[2], O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++) {
		if (posix_spawn(&pid, argv[3], &fa, NULL, argv + 3, environ) != 0) {
			perror(argv[3]);
			return 1;
		}
		if (waitpid(pid, &st, 0) < 0)
			return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%.2f %d\n",
	    ((double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6) /
	        (double)n,
	    WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	posix_spawn_file_actions_destroy(&fa);
	return 0;
}
