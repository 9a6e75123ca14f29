SHELL := /bin/bash
# mailwire — see README.md
CC ?= cc
PKGS := libpcap libcrypto glib-2.0 libxxhash libseccomp zlib libzstd liblz4 sqlite3 libpq json-glib-1.0
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS := $(shell pkg-config --libs $(PKGS))
# -D_DEFAULT_SOURCE: pcap/bpf.h and inet_ntop need it under -std=c11
CFLAGS ?= -O2 -g
# SAN=1: the ASan + UBSan build, in its own directory
ifeq ($(SAN),1)
CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
BUILD ?= build/san
endif
VERSION := $(shell cat VERSION)
# Include roots: "core/session.h", "engine/flow.h", "tls/tls.h", "dissector.h" (no ../ paths)
MW_INC := -Ianalyzer -Idissectors
MW_CFLAGS := -std=c11 -D_DEFAULT_SOURCE -DMW_VERSION='"$(VERSION)"' -Wall -Wextra -Wshadow -Wno-unused-parameter $(MW_INC) $(PKG_CFLAGS) $(CFLAGS)
LDLIBS += $(PKG_LIBS)

BUILD ?= build
# Every .c below analyzer/ and dissectors/ (sub-folders included), main.c apart
LIB_SRC := $(filter-out analyzer/main.c,$(sort $(shell find analyzer dissectors -name '*.c')))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
TEST_SRC := $(wildcard tests/unit/test_*.c)
# libssl for the tests only: test_tls_decrypt makes real TLS connections in memory
TEST_LIBS := $(shell pkg-config --libs libssl)
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.DEFAULT_GOAL := all
.PHONY: all check test-bins clean print-build
print-build:
	@echo $(BUILD)

all: mailwire

mailwire: $(BUILD)/mailwire
	cp $< $@

$(BUILD)/mailwire: $(BUILD)/analyzer/main.o $(BUILD)/libmailwire.a
	$(CC) $(MW_CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

$(BUILD)/libmailwire.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

# -MMD -MP: each object depends on exactly the headers it includes (build/**/*.d)
$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(MW_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libmailwire.a
	@mkdir -p $(dir $@)
	$(CC) $(MW_CFLAGS) -MMD -MP -o $@ $< $(BUILD)/libmailwire.a $(LDFLAGS) $(LDLIBS) $(TEST_LIBS)

test-bins: $(TEST_BIN) $(BUILD)/mailwire

# The whole suite: unit and end-to-end tests, then again under ASan + UBSan.
check:
	@bash tests/run.sh

clean:
	rm -rf build mailwire

# ---- install (PREFIX, DESTDIR as usual): the binary, the man page, bash completion
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
.PHONY: install uninstall
install: mailwire
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(COMPLETIONDIR)
	install -m 0755 mailwire $(DESTDIR)$(BINDIR)/mailwire
	install -m 0644 doc/mailwire.1 $(DESTDIR)$(MANDIR)/man1/mailwire.1
	install -m 0644 contrib/mailwire.bash-completion $(DESTDIR)$(COMPLETIONDIR)/mailwire
	install -D -m 0644 contrib/mailwire.service $(DESTDIR)$(PREFIX)/lib/systemd/system/mailwire.service

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/mailwire $(DESTDIR)$(MANDIR)/man1/mailwire.1 \
		$(DESTDIR)$(COMPLETIONDIR)/mailwire $(DESTDIR)$(PREFIX)/lib/systemd/system/mailwire.service

-include $(LIB_OBJ:.o=.d) $(BUILD)/analyzer/main.d $(TEST_BIN:=.d)

# ---------------------------------------------------------------------------------------
# Fuzzing (libFuzzer; clang and Debian's libclang-rt). Kept apart from the rules above.
#   make fuzz-build    harnesses in build/fuzz/, on a library built with the fuzzer's
#                      instrumentation in build/fuzz-lib/, and seeds from pcaps/
#   make fuzz          each harness in turn for FUZZ_SECONDS (one core at a time; inputs
#                      up to one TLS record plus framing, whole small captures for engine);
#                      new inputs in build/fuzz/corpus/NAME, crashes in build/fuzz/artifacts/
#   make fuzz-regress  tests/fuzz_regress.sh: regressions + committed corpus, short runs
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 600
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_LIB_CFLAGS := -O1 -g -fsanitize=fuzzer-no-link $(FUZZ_SAN)
FUZZ_LIB := build/fuzz-lib/libmailwire.a
FUZZ_NAMES := smtp imap pop3 tls engine keylog tls_decrypt
FUZZ_BINS := $(FUZZ_NAMES:%=build/fuzz/fuzz_%)
.PHONY: fuzz-build fuzz-lib fuzz-seeds fuzz fuzz-regress

fuzz-lib:
	$(MAKE) --no-print-directory BUILD=build/fuzz-lib CC=$(FUZZ_CC) SAN= \
		CFLAGS="$(FUZZ_LIB_CFLAGS)" $(FUZZ_LIB)

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_stream.h $(FUZZ_LIB)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Wno-unused-parameter $(MW_INC) $(PKG_CFLAGS) \
		-O1 -g -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $< $(FUZZ_LIB) $(PKG_LIBS)

fuzz-seeds:
	python3 tests/fuzz/make_seeds.py pcaps build/fuzz/seeds

# The library first (its own make, its own flags), then the harnesses against it.
fuzz-build: fuzz-lib
	@$(MAKE) --no-print-directory $(FUZZ_BINS) fuzz-seeds

# FUZZ_RUNS=N runs each harness for N executions instead of FUZZ_SECONDS;
# FUZZ_ONLY="tls imap" picks harnesses. Each run's log: build/fuzz/logs/NAME.log.
FUZZ_RUNS ?=
FUZZ_ONLY ?= $(FUZZ_NAMES)
FUZZ_LIMIT = $(if $(FUZZ_RUNS),-runs=$(FUZZ_RUNS),-max_total_time=$(FUZZ_SECONDS))
fuzz: fuzz-build
	@for n in $(FUZZ_ONLY); do \
		mkdir -p build/fuzz/corpus/$$n build/fuzz/artifacts/$$n build/fuzz/logs; \
		echo "== fuzz_$$n: $(FUZZ_LIMIT)"; \
		dict=; [ -f tests/fuzz/$$n.dict ] && dict=-dict=tests/fuzz/$$n.dict; \
		maxlen=16896; [ $$n = engine ] && maxlen=65536; [ $$n = keylog ] && maxlen=2048; \
		build/fuzz/fuzz_$$n $(FUZZ_LIMIT) -max_len=$$maxlen -timeout=10 \
			-rss_limit_mb=2048 -print_final_stats=1 $$dict \
			-artifact_prefix=build/fuzz/artifacts/$$n/ build/fuzz/corpus/$$n \
			build/fuzz/seeds/$$n tests/fuzz/corpus/$$n 2>&1 | tee build/fuzz/logs/$$n.log \
			| grep -E '^(stat::|==|SUMMARY)'; \
		[ $${PIPESTATUS[0]} -eq 0 ] || exit 1; \
	done

fuzz-regress: fuzz-build
	bash tests/fuzz_regress.sh

# ---- benchmark (issue 7): builds build/bench/{sessions,bulk}.pcap from pcaps/ when missing,
# then times mailwire beside tcpdump, tshark and ndpiReader. Knobs: see bench/run.sh.
.PHONY: bench
bench:
	@bash bench/run.sh

# The session store's cost: records/s into SQLite and PostgreSQL, time with --db beside without.
.PHONY: bench-store
bench-store: mailwire
	@bash bench/store.sh

# Live capture (root), each in a network namespace of its own: a bench capture replayed
# with tcpreplay onto a veth pair at rising rates, mailwire --workers 1 and 2
# (bench/live_veth.sh); then postfix's smtp-source/smtp-sink on lo (bench/live_load.sh).
# BENCH_LIVE=veth or BENCH_LIVE=lo: only that one.
.PHONY: bench-live
bench-live:
	@if [ "$(BENCH_LIVE)" != lo ]; then bash bench/live_veth.sh || exit 1; fi
	@if [ "$(BENCH_LIVE)" != veth ]; then bash bench/live_load.sh; fi
