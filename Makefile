# mailwire — see README.md
CC ?= cc
PKGS := libpcap libcrypto glib-2.0
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS := $(shell pkg-config --libs $(PKGS))
# -D_DEFAULT_SOURCE: pcap/bpf.h and inet_ntop need it under -std=c11
CFLAGS ?= -O2 -g
# SAN=1: the ASan + UBSan build, in its own directory
ifeq ($(SAN),1)
CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
BUILD ?= build/san
endif
MW_CFLAGS := -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Wshadow -Wno-unused-parameter $(PKG_CFLAGS) $(CFLAGS)
LDLIBS += $(PKG_LIBS)

BUILD ?= build
ANALYZER := $(filter-out analyzer/main.c,$(wildcard analyzer/*.c))
DISSECTORS := $(wildcard dissectors/*.c)
LIB_SRC := $(ANALYZER) $(DISSECTORS)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
TEST_SRC := $(wildcard tests/unit/test_*.c)
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

$(BUILD)/%.o: %.c $(wildcard analyzer/*.h dissectors/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(MW_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c tests/unit/testutil.h $(BUILD)/libmailwire.a
	@mkdir -p $(dir $@)
	$(CC) $(MW_CFLAGS) -o $@ $< $(BUILD)/libmailwire.a $(LDFLAGS) $(LDLIBS)

test-bins: $(TEST_BIN) $(BUILD)/mailwire

# The whole suite: unit and end-to-end tests, then again under ASan + UBSan.
check:
	@bash tests/run.sh

clean:
	rm -rf build mailwire
