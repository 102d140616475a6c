# fetchbench — see README.md.  `make` builds, `make test` tests, `make run`
# runs the experiment; SANITIZE=address,undefined builds an instrumented copy
# in its own directory.

VERSION   := 0.1.0
CC        ?= cc
PKGS      := libevent libcurl libcjson hiredis
CFLAGS    ?= -O2 -g
WARNINGS  := -Wall -Wextra -Wstrict-prototypes -Wwrite-strings -Wshadow \
             -Wpointer-arith -Wmissing-prototypes -Wno-unused-parameter
CPPFLAGS  += -D_GNU_SOURCE -DFB_VERSION='"$(VERSION)"' -Isrc
LDLIBS    += $(shell pkg-config --libs $(PKGS)) -lpthread -ldl -lm
CPPFLAGS  += $(shell pkg-config --cflags $(PKGS))
# threads.c replaces pthread_create for the libraries; the symbol must be
# visible to them, which -rdynamic guarantees.
LDFLAGS   += -rdynamic

comma := ,
ifdef SANITIZE
BUILD     := build/$(subst $(comma),-,$(SANITIZE))
CFLAGS    += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS   += -fsanitize=$(SANITIZE)
else
BUILD     := build/release
endif

SRC       := $(sort $(wildcard src/*.c))
LIBOBJ    := $(patsubst src/%.c,$(BUILD)/%.o,$(filter-out src/main.c,$(SRC)))
UNIT_SRC  := $(sort $(wildcard tests/unit/*.c))
UNIT_OBJ  := $(patsubst tests/unit/%.c,$(BUILD)/unit/%.o,$(UNIT_SRC))
BIN       := $(BUILD)/fetchbench
# The same program with the strategies that exist only for tests (a new
# strategy is one file: tests/strategies/ proves it).
TEST_STRATEGY_SRC := $(sort $(wildcard tests/strategies/*.c))
TEST_BIN  := $(BUILD)/fetchbench-test

.PHONY: all setup run test unit e2e test-sanitize test-valgrind results proxies bench fuzz fuzz-smoke clean \
        man install uninstall

all: $(BIN) fetchbench

fetchbench: $(BIN)
	ln -sf $(BIN) $@

$(BIN): $(BUILD)/main.o $(LIBOBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(TEST_BIN): $(BUILD)/main.o $(LIBOBJ) $(patsubst tests/strategies/%.c,$(BUILD)/strategies/%.o,$(TEST_STRATEGY_SRC))
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/strategies/%.o: tests/strategies/%.c | $(BUILD)/strategies
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARNINGS) -MMD -MP -c -o $@ $<

$(BUILD)/%.o: src/%.c | $(BUILD)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARNINGS) -MMD -MP -c -o $@ $<

$(BUILD)/unit/%.o: tests/unit/%.c | $(BUILD)/unit
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARNINGS) -Wno-missing-prototypes -MMD -MP -c -o $@ $<

$(BUILD)/unit-tests: $(UNIT_OBJ) $(LIBOBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcriterion

$(BUILD) $(BUILD)/unit $(BUILD)/strategies:
	mkdir -p $@

setup:
	sh scripts/setup

run: setup
	$(MAKE) all
	./$(BIN) --tasks 20 --mode lock

unit: $(BUILD)/unit-tests
	$(BUILD)/unit-tests --jobs 2

e2e: $(BIN) $(TEST_BIN)
	FETCHBENCH=$(BIN) FETCHBENCH_TEST=$(TEST_BIN) FB_SANITIZED=$(SANITIZE) sh tests/e2e/run.sh

# What CI runs: the tests, then the same tests under ASan+UBSan.
test: setup
	$(MAKE) unit e2e
	$(MAKE) SANITIZE=address,undefined unit e2e
	$(MAKE) fuzz-smoke

# The same tests, instrumented: any report fails the run.
test-sanitize: setup
	$(MAKE) SANITIZE=address,undefined unit e2e

VALGRIND := valgrind -q --error-exitcode=99 --leak-check=full \
	  --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
	  --suppressions=tests/valgrind.supp

test-valgrind: setup
	$(MAKE) all $(BUILD)/unit-tests $(TEST_BIN)
	$(VALGRIND) $(BUILD)/unit-tests --jobs 1
	FETCHBENCH=$(BIN) FETCHBENCH_TEST=$(TEST_BIN) TEST_PREFIX="$(VALGRIND)" sh tests/e2e/run.sh

# The experiment's scenarios as JSON, PNG and a table in results/.
results: setup
	$(MAKE) all
	scripts/make-results

# nginx, Varnish and Squid in front of the backend (results/proxies/).
proxies: setup
	$(MAKE) all
	scripts/make-proxies

# Benchmarks against peers (results/bench/); takes a while.
bench:
	sh scripts/setup bench
	$(MAKE) all
	/usr/bin/python3 bench/run.py

# libFuzzer targets (clang): the server's path parser, the number parsers and
# --expect, the report reader behind compare. fuzz-smoke runs each for
# FUZZ_SECONDS over its committed corpus (tests/fuzz/corpus/NAME); new inputs
# it finds go to build/fuzz/new/NAME, never into the committed corpus.
FUZZERS      := delaypath numbers jsonread
FUZZ_SECONDS ?= 10
FUZZ_CC      ?= clang
FUZZ_LIBSRC  := src/delaypath.c src/parse.c src/expect.c src/summary.c src/jsonread.c src/vocab.c

build/fuzz/%: tests/fuzz/fuzz_%.c $(FUZZ_LIBSRC)
	mkdir -p build/fuzz
	$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	  $(CPPFLAGS) -o $@ $^ $(shell pkg-config --libs libcjson) -lm

fuzz: $(addprefix build/fuzz/,$(FUZZERS))

fuzz-smoke: fuzz
	@for f in $(FUZZERS); do \
	  mkdir -p build/fuzz/new/$$f; \
	  echo "fuzz $$f: $(FUZZ_SECONDS) s"; \
	  if ! build/fuzz/$$f -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -print_final_stats=0 \
	      -artifact_prefix=build/fuzz/ build/fuzz/new/$$f tests/fuzz/corpus/$$f \
	      > build/fuzz/$$f.log 2>&1; then \
	    tail -40 build/fuzz/$$f.log; echo "fuzz $$f: FAILED (input in build/fuzz/)"; exit 1; \
	  fi; \
	  grep -E '^Done' build/fuzz/$$f.log; \
	done

# Installation.  `make install PREFIX=/usr/local DESTDIR=` puts in place the
# binary; the plot scripts with the modules they import from their own
# directory, together under share/fetchbench and linked from bin/ as
# fetchbench-NAME; the man page; the bash completion.  `make uninstall`
# removes exactly those (the scripts write no bytecode beside them).
# The man page and the completion are written from the binary's own --help
# (scripts/make-man, scripts/make-completion) into GENDIR, so they cannot
# drift from it; INSTALL_BIN installs another build of the binary.
PREFIX       ?= /usr/local
DESTDIR      ?=
INSTALL_BIN  ?= $(BIN)
GENDIR       ?= build
bindir       := $(PREFIX)/bin
pkgdatadir   := $(PREFIX)/share/fetchbench
man1dir      := $(PREFIX)/share/man/man1
completiondir := $(PREFIX)/share/bash-completion/completions
PLOT_TOOLS   := plot-timeline plot-compare plot-strategies strategy-table
PLOT_MODULES := fbplot.py fbhtml.py fbhtml.js fbhtml.css

man: $(GENDIR)/fetchbench.1 $(GENDIR)/fetchbench.bash

$(GENDIR)/fetchbench.1: $(INSTALL_BIN) scripts/make-man scripts/fbhelp.py
	mkdir -p $(GENDIR)
	/usr/bin/python3 scripts/make-man $(INSTALL_BIN) > $@.tmp && mv $@.tmp $@

$(GENDIR)/fetchbench.bash: $(INSTALL_BIN) scripts/make-completion scripts/fbhelp.py
	mkdir -p $(GENDIR)
	/usr/bin/python3 scripts/make-completion $(INSTALL_BIN) > $@.tmp && mv $@.tmp $@

install: $(INSTALL_BIN) $(GENDIR)/fetchbench.1 $(GENDIR)/fetchbench.bash
	install -d $(DESTDIR)$(bindir) $(DESTDIR)$(pkgdatadir) $(DESTDIR)$(man1dir) $(DESTDIR)$(completiondir)
	install -m 755 $(INSTALL_BIN) $(DESTDIR)$(bindir)/fetchbench
	install -m 755 $(addprefix scripts/,$(PLOT_TOOLS)) $(DESTDIR)$(pkgdatadir)/
	install -m 644 $(addprefix scripts/,$(PLOT_MODULES)) $(DESTDIR)$(pkgdatadir)/
	for t in $(PLOT_TOOLS); do ln -sfr $(DESTDIR)$(pkgdatadir)/$$t $(DESTDIR)$(bindir)/fetchbench-$$t || exit 1; done
	install -m 644 $(GENDIR)/fetchbench.1 $(DESTDIR)$(man1dir)/fetchbench.1
	install -m 644 $(GENDIR)/fetchbench.bash $(DESTDIR)$(completiondir)/fetchbench

uninstall:
	rm -f $(DESTDIR)$(bindir)/fetchbench $(addprefix $(DESTDIR)$(bindir)/fetchbench-,$(PLOT_TOOLS)) \
	      $(addprefix $(DESTDIR)$(pkgdatadir)/,$(PLOT_TOOLS) $(PLOT_MODULES)) \
	      $(DESTDIR)$(man1dir)/fetchbench.1 $(DESTDIR)$(completiondir)/fetchbench
	if [ -d $(DESTDIR)$(pkgdatadir) ]; then rmdir $(DESTDIR)$(pkgdatadir); fi

clean:
	rm -rf build fetchbench

-include $(wildcard $(BUILD)/*.d $(BUILD)/unit/*.d $(BUILD)/strategies/*.d)
