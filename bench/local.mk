# bench/ -- the benchmarks (bench/run.sh; bench/slow.sh, slow providers;
# not part of make check).
# hello.fcgi is the ceiling the service is measured against: the smallest
# libfcgi responder, served the same way. commits measures the machine's
# SQLite commit rate (the durability floor); floor what loading libcurl and
# one loopback HTTP call cost; spawn the cost of an exec (plain CGI), and
# linked the exec of a program linked like purchase.fcgi.
noinst_PROGRAMS += bench/hello.fcgi bench/commits bench/floor bench/spawn bench/linked
bench_hello_fcgi_SOURCES = bench/hello.c
bench_hello_fcgi_CFLAGS = $(AM_CFLAGS) $(FCGI_CFLAGS)
bench_hello_fcgi_LDADD = $(FCGI_LIBS)
bench_commits_SOURCES = bench/commits.c bench/cpu.h
bench_commits_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS)
bench_commits_LDADD = $(SQLITE_LIBS)
bench_floor_SOURCES = bench/floor.c bench/cpu.h
bench_floor_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS)
bench_spawn_SOURCES = bench/spawn.c
bench_linked_SOURCES = bench/linked.c
bench_linked_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS) $(JSONC_CFLAGS) $(FCGI_CFLAGS)
bench_linked_LDADD = $(SQLITE_LIBS) $(JSONC_LIBS) $(FCGI_LIBS)
EXTRA_DIST += bench/run.sh bench/slow.sh bench/purchase-retry.lua bench/bench.lua bench/peer-team/purchase-fcgi.sh bench/peer-team/seed.sh
