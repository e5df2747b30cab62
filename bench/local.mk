# bench/ -- the benchmark (bench/run.sh; not part of make check).
# hello.fcgi is the ceiling the service is measured against: the smallest
# libfcgi responder, served the same way. commits measures the machine's
# SQLite commit rate (the durability floor).
noinst_PROGRAMS += bench/hello.fcgi bench/commits
bench_hello_fcgi_SOURCES = bench/hello.c
bench_hello_fcgi_CFLAGS = $(AM_CFLAGS) $(FCGI_CFLAGS)
bench_hello_fcgi_LDADD = $(FCGI_LIBS)
bench_commits_SOURCES = bench/commits.c
bench_commits_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS)
bench_commits_LDADD = $(SQLITE_LIBS)
EXTRA_DIST += bench/run.sh bench/bench.lua
