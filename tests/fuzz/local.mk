# tests/fuzz/ -- libFuzzer targets, one per parser of untrusted bytes.
#
#   make fuzz-build    builds them (clang, whatever CC configured the tree)
#   make fuzz          builds them and runs each for FUZZ_TIME seconds (30)
#                      on a copy of its seed corpus, tests/fuzz/corpus/NAME/;
#                      fails on any crash, leak or sanitizer report
#   make fuzz FUZZ_TARGETS='e164 json' FUZZ_TIME=300
#   tests/fuzz/fuzz-NAME tests/fuzz/work/NAME/crash-...   replays a crash
#
# The targets and the library sources they exercise are compiled here, in
# the build directory, with $(FUZZ_CC) and -fsanitize=fuzzer,address,undefined
# (Debian: clang and libclang-rt-14-dev, see scripts/deps.sh); json-c and
# libc are the system's, uninstrumented. Nothing here is built by `all` or
# `check`.
FUZZ_TARGETS = e164 json form config request stripe twilio
FUZZ_TIME = 30
FUZZ_CC = clang
FUZZ_SANITIZE = -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS = -g -O1 -fno-omit-frame-pointer $(FUZZ_SANITIZE) -Wall -Wextra -Wno-unused-parameter
FUZZ_CPPFLAGS = $(DEFS) $(AM_CPPFLAGS) -I$(top_srcdir)/cgi-bin -I$(top_srcdir)/tests/fuzz \
	$(JSONC_CFLAGS) $(CURL_CFLAGS)

# What the targets link: the pure modules, the JSON reader, the provider
# clients (their reply parsers; http.c only for the symbols they name -- no
# call is made) and the responder's request reader.
FUZZ_LIBSRC = lib/buf.c lib/error.c lib/e164.c lib/form.c lib/json.c lib/config.c lib/sha256.c \
	lib/http.c lib/stripe.c lib/twilio.c cgi-bin/request.c
FUZZ_HDR = lib/buf.h lib/config.h lib/e164.h lib/error.h lib/form.h lib/http.h lib/sha256.h \
	lib/json.h lib/purchase.h lib/stripe.h lib/twilio.h cgi-bin/request.h tests/fuzz/fuzz.h
FUZZ_SRC = $(FUZZ_TARGETS:%=tests/fuzz/fuzz-%.c)
FUZZ_LIBOBJ = $(FUZZ_LIBSRC:%.c=tests/fuzz/obj/%.o)
FUZZ_OBJ = $(FUZZ_SRC:%.c=tests/fuzz/obj/%.o)
FUZZ_BIN = $(FUZZ_TARGETS:%=tests/fuzz/fuzz-%)

$(FUZZ_LIBOBJ) $(FUZZ_OBJ): tests/fuzz/obj/%.o: $(top_srcdir)/%.c \
	$(FUZZ_HDR:%=$(top_srcdir)/%) autoconfig.h
	@$(MKDIR_P) $(@D)
	$(AM_V_CC)$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_BIN): tests/fuzz/fuzz-%: tests/fuzz/obj/tests/fuzz/fuzz-%.o $(FUZZ_LIBOBJ)
	$(AM_V_CCLD)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $^ $(JSONC_LIBS) $(LIBS)

fuzz-build: $(FUZZ_BIN)

fuzz: fuzz-build
	FUZZ_TIME='$(FUZZ_TIME)' $(SHELL) $(top_srcdir)/tests/fuzz/run.sh \
	  '$(top_srcdir)/tests/fuzz/corpus' tests/fuzz $(FUZZ_TARGETS)

fuzz-clean:
	-rm -rf tests/fuzz/obj tests/fuzz/work tests/fuzz/results $(FUZZ_BIN)

.PHONY: fuzz fuzz-build fuzz-clean
clean-local: fuzz-clean
CLEANFILES += $(FUZZ_BIN) $(FUZZ_LIBOBJ) $(FUZZ_OBJ) tests/fuzz/results
EXTRA_DIST += $(FUZZ_SRC) tests/fuzz/fuzz.h tests/fuzz/run.sh tests/fuzz/README.md \
	tests/fuzz/corpus
