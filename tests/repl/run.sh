#!/bin/sh
# tests/repl/run.sh - the REPL driven by transcripts.
#
# Each NAME.in is fed to `mergelang repl --echo` from a folder holding small
# generated models (base, ft1, ft2: fine-tunes of base; half: ft1 in
# bfloat16; wide: another hidden size; two layers each) and a copy of
# data/. Its stdout and stderr together, then "exit: N", must equal
# NAME.out. A first line "# args: ..." adds command-line arguments. Timings
# (":time") are masked. The pseudo-terminal side (editing, history,
# completion, Ctrl-C) is tests/unit/test_repl_pty.c.
#
# Run by tests/run.sh with BIN and B (the build folder) set; ends with
# "P passed, F failed". UPDATE=1 writes the .out files from the current
# output instead of comparing (check the diff before committing).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
B=${B:-$HERE/../../build}
BIN=${BIN:-$B/mergelang}
UPDATE=${UPDATE:-}
passed=0
failed=0

T=$(mktemp -d "${TMPDIR:-/tmp}/mergelang-repl-XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
trap 'exit 1' HUP INT TERM PIPE
if ! { "$B/mkmodel" "$T/base" --layers 2 --seed 1 &&
       "$B/mkmodel" "$T/ft1" --layers 2 --seed 2 --finetune-of 1 --delta 0.01 &&
       "$B/mkmodel" "$T/ft2" --layers 2 --seed 3 --finetune-of 1 --delta 0.01 &&
       "$B/mkmodel" "$T/half" --layers 2 --seed 2 --finetune-of 1 --delta 0.01 --dtype bfloat16 &&
       "$B/mkmodel" "$T/wide" --layers 2 --seed 4 --hidden 48; } >/dev/null; then
    echo "FAIL generating test models"
    echo "0 passed, 1 failed"
    exit 1
fi
cp -R "$HERE/data" "$T/data"

for input in "$HERE"/*.in; do
    name=$(basename "$input" .in)
    args=$(sed -n '1s/^# args: //p' "$input")
    rm -rf "$T"/out*
    # shellcheck disable=SC2086
    got=$(cd "$T" && MERGELANG_HISTORY= "$BIN" repl --echo -j 2 $args < "$input" 2>&1; echo "exit: $?")
    got=$(printf '%s\n' "$got" | sed 's/^time: [0-9.]* s$/time: N s/')
    if [ -n "$UPDATE" ]; then
        printf '%s\n' "$got" > "$HERE/$name.out"
        echo "updated $name.out"
        passed=$((passed + 1))
        continue
    fi
    if [ ! -f "$HERE/$name.out" ]; then
        printf '%s\n' "$got"
        echo "FAIL $name (no $name.out)"
        failed=$((failed + 1))
        continue
    fi
    if [ "$got" = "$(cat "$HERE/$name.out")" ]; then
        echo "ok $name"
        passed=$((passed + 1))
    else
        printf '%s\n' "$got" > "$T/$name.got"
        diff -u "$HERE/$name.out" "$T/$name.got" | head -n 60
        echo "FAIL $name"
        failed=$((failed + 1))
    fi
done

# Without a terminal and without `repl`, mergelang prints its usage.
if "$BIN" < /dev/null > "$T/usage" 2>&1; then
    echo "FAIL no-arguments (exit 0 without a terminal)"
    failed=$((failed + 1))
elif grep -q "repl" "$T/usage"; then
    echo "ok no-arguments"
    passed=$((passed + 1))
else
    echo "FAIL no-arguments (no usage)"
    failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
