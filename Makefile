# Makefile for mergelang. Generated C (re2c lexer, Lemon parser) goes to
# build/ and is never committed. `make help` lists the targets.

CC      ?= cc
PREFIX  ?= /usr/local
BUILD   ?= build
LEMPAR  ?= /usr/share/lemon/lempar.c
OPT     ?= -O3
WARN     = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter
CFLAGS  += -std=c11 $(OPT) -g -ffp-contract=off $(WARN) -D_GNU_SOURCE -I. -I$(BUILD)
LDLIBS  += -lcjson -lyaml -ledit -lutil -lm -lpthread
VERSION := 0.1.0

RUNTIME_SRC := $(wildcard runtime/*/*.c)
INTERP_SRC  := $(wildcard interp/*/*.c)
GEN_SRC     := $(BUILD)/lexer.c $(BUILD)/parser.c
LIB_OBJ     := $(patsubst %.c,$(BUILD)/obj/%.o,$(RUNTIME_SRC) $(INTERP_SRC)) \
               $(BUILD)/obj/gen/lexer.o $(BUILD)/obj/gen/parser.o
UNIT_SRC    := $(wildcard tests/unit/test_*.c)
UNIT_BIN    := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
TOOL_SRC    := $(wildcard tools/*.c)
TOOL_BIN    := $(patsubst tools/%.c,$(BUILD)/%,$(TOOL_SRC))
# Test oracles: linked into the tools and unit tests that judge outputs,
# never into the library or the binary.
ORACLE_OBJ  := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tests/oracle/*.c))
# Header dependencies come from the compiler (-MMD -MP: one .d file beside
# each object); only the generated parser.h must exist before compiling.
DEPFLAGS     = -MMD -MP

.PHONY: all help deps ensure-deps check-tools test unit demo bench install clean asan valgrind fuzz
all: check-tools $(BUILD)/mergelang $(TOOL_BIN)

help:
	@echo "make            build $(BUILD)/mergelang and the tools"
	@echo "make demo       install missing build dependencies, build, run an example merge"
	@echo "make test       unit, golden and conformance tests; ends with 'N passed, M failed'"
	@echo "make asan       the test suite under AddressSanitizer + UndefinedBehaviorSanitizer"
	@echo "make valgrind   the golden recipes under valgrind memcheck"
	@echo "make bench      time merges of generated 1B-parameter models against the I/O floor"
	@echo "make fuzz       run each libFuzzer target for FUZZ_SECONDS (default 60) under ASan+UBSan"
	@echo "make deps       apt-get install the build and test dependencies"
	@echo "make install    install binary and stdlib under PREFIX=$(PREFIX)"

# ---- dependencies ----------------------------------------------------------
DEB_PACKAGES := re2c lemon libcjson-dev libyaml-dev libedit-dev
# What the test suites use beyond the build: jq (JSON output checks),
# GNU time (peak-memory checks) and python3 (independent reference scripts,
# standard library only); without them those cases would be skipped.
TEST_PACKAGES := jq time python3

deps:
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $(DEB_PACKAGES) $(TEST_PACKAGES) build-essential

check-tools:
	@command -v re2c >/dev/null || { echo "error: re2c not found: install the Debian package 're2c' (or run 'make deps')"; exit 1; }
	@command -v lemon >/dev/null || { echo "error: lemon not found: install the Debian package 'lemon' (or run 'make deps')"; exit 1; }
	@[ -f $(LEMPAR) ] || { echo "error: $(LEMPAR) not found: install the Debian package 'lemon' (or run 'make deps')"; exit 1; }
	@[ -f /usr/include/cjson/cJSON.h ] || { echo "error: cJSON headers not found: install the Debian package 'libcjson-dev' (or run 'make deps')"; exit 1; }
	@[ -f /usr/include/yaml.h ] || { echo "error: libyaml headers not found: install the Debian package 'libyaml-dev' (or run 'make deps')"; exit 1; }
	@[ -f /usr/include/histedit.h ] || { echo "error: libedit headers not found: install the Debian package 'libedit-dev' (or run 'make deps')"; exit 1; }

# ---- generated lexer and parser ---------------------------------------------
$(BUILD)/parser.c $(BUILD)/parser.h: grammar/parser.y $(LEMPAR)
	@mkdir -p $(BUILD)
	lemon -q -T$(LEMPAR) -d$(BUILD) grammar/parser.y

$(BUILD)/lexer.c: grammar/lexer.re $(BUILD)/parser.h
	@mkdir -p $(BUILD)
	re2c -W --no-generation-date -o $@ $<

# ---- objects ------------------------------------------------------------------
$(BUILD)/obj/%.o: %.c | $(BUILD)/parser.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(BUILD)/obj/gen/%.o: $(BUILD)/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEPFLAGS) -Wno-unused-variable -Wno-unused-function -c -o $@ $<

$(BUILD)/libmergelang.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/mergelang: $(BUILD)/obj/interp/main.o $(BUILD)/libmergelang.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libmergelang.a $(ORACLE_OBJ) | $(BUILD)/parser.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -MF $@.d -o $@ $< $(ORACLE_OBJ) $(BUILD)/libmergelang.a $(LDLIBS)

$(BUILD)/%: tools/%.c $(BUILD)/libmergelang.a $(ORACLE_OBJ) | $(BUILD)/parser.h
	$(CC) $(CFLAGS) -MMD -MP -MF $@.d -o $@ $< $(ORACLE_OBJ) $(BUILD)/libmergelang.a $(LDLIBS)

# ---- tests ----------------------------------------------------------------------
# test and demo install missing build dependencies first (they are the two
# commands the README promises work on a fresh Debian machine).
ensure-deps:
	@command -v re2c >/dev/null && command -v lemon >/dev/null && [ -f $(LEMPAR) ] && \
	 [ -f /usr/include/cjson/cJSON.h ] && [ -f /usr/include/yaml.h ] && [ -f /usr/include/histedit.h ] && \
	 command -v jq >/dev/null && [ -x /usr/bin/time ] && command -v python3 >/dev/null || \
	 $(MAKE) --no-print-directory deps

test: ensure-deps
	@$(MAKE) --no-print-directory all $(UNIT_BIN)
	@BUILD=$(BUILD) sh tests/run.sh

unit: all $(UNIT_BIN)
	@BUILD=$(BUILD) ONLY=unit sh tests/run.sh

asan:
	$(MAKE) BUILD=build-asan OPT="-O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	        LDLIBS="-lcjson -lyaml -ledit -lutil -lm -lpthread -fsanitize=address,undefined" test

# The golden recipes under valgrind (memcheck): any error or definite leak
# changes a recipe's output or exit status, which fails its test.
valgrind: all
	@command -v valgrind >/dev/null || { echo "error: valgrind not found: install the Debian package 'valgrind'"; exit 1; }
	@VALGRIND="valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99" \
	 BUILD=$(BUILD) ONLY=golden sh tests/run.sh

# ---- fuzzing -------------------------------------------------------------------------
# Each tests/fuzz/fuzz_NAME.c is a libFuzzer target, built with clang and
# ASan+UBSan, run for FUZZ_SECONDS on its corpus tests/fuzz/corpus/NAME
# (seeds and every crash found are committed there; `make test` replays
# them through the unit test tests/unit/test_fuzz_replay.c).
FUZZ_SECONDS ?= 60
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BUILD := build-fuzz
FUZZ_FLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

fuzz:
	$(MAKE) --no-print-directory CC=clang BUILD=$(FUZZ_BUILD) OPT="$(FUZZ_FLAGS) -fsanitize=fuzzer-no-link" \
	        $(FUZZ_BUILD)/libmergelang.a
	@set -e; for src in $(FUZZ_SRC); do \
	    name=$$(basename $$src .c | sed 's/^fuzz_//'); \
	    clang -std=c11 $(FUZZ_FLAGS) -fsanitize=fuzzer -D_GNU_SOURCE -I. -I$(FUZZ_BUILD) -o $(FUZZ_BUILD)/fuzz_$$name \
	          $$src $(FUZZ_BUILD)/libmergelang.a -lcjson -lyaml -ledit -lm -lpthread; \
	    mkdir -p tests/fuzz/corpus/$$name $(FUZZ_BUILD)/corpus-$$name; \
	    echo "== fuzz $$name for $(FUZZ_SECONDS)s"; \
	    $(FUZZ_BUILD)/fuzz_$$name -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	        -artifact_prefix=tests/fuzz/corpus/$$name/ $$([ -f tests/fuzz/$$name.dict ] && echo -dict=tests/fuzz/$$name.dict) \
	        $(FUZZ_BUILD)/corpus-$$name tests/fuzz/corpus/$$name; \
	done

# ---- demo -------------------------------------------------------------------------
demo: ensure-deps
	@$(MAKE) --no-print-directory all
	sh examples/demo.sh $(BUILD)

# bench: merges of generated 1.1B-parameter checkpoints against the I/O floor;
# writes docs/performance.md (models cached in $(BUILD)/bench-models).
bench: all
	sh tools/bench.sh $(BUILD)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/mergelang/stdlib
	install -m 755 $(BUILD)/mergelang $(DESTDIR)$(PREFIX)/bin/mergelang
	cp -R stdlib/. $(DESTDIR)$(PREFIX)/share/mergelang/stdlib/
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 644 completions/mergelang.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/mergelang

-include $(LIB_OBJ:.o=.d) $(BUILD)/obj/interp/main.d $(ORACLE_OBJ:.o=.d) $(UNIT_BIN:=.d) $(TOOL_BIN:=.d)

clean:
	rm -rf build build-asan build-fuzz build-clang
