/*
 * cpu.h -- the CPU time this process has used, in microseconds (user +
 * system), for the bench programs' per-operation figures.
 */
#ifndef BENCH_CPU_H
#define BENCH_CPU_H

#include <sys/resource.h>

static inline double
cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

#endif
