#!/bin/sh
# tests/hostile/run.sh - hostile checkpoints, recipes and mergekit YAML
# through the binary; run by tests/run.sh (BIN and B in the environment),
# ends with "P passed, F failed". docs/hardening.md lists the cases and their
# messages. Every case runs in the work folder $B/hostile-work; one case is
# one file (or file pair):
#
#  checkpoints/NAME.sh   sourced (set -e, after lib.sh's helpers st, le64,
#                        rep, index) to write the broken input ck/NAME; the
#                        recipe NAME.merge, `x = model("ck/NAME")` then
#                        `save(x, "out/NAME")`, is run (the case may replace
#                        it: config_recipe, or its own NAME.merge).
#  recipes/NAME.merge    a hostile recipe, run as it is;
#  recipes/NAME.sh       or a script (same helpers) printing the recipe on
#                        stdout, for recipes too big or too binary to keep
#                        (deep nesting, huge literals, NUL bytes); it may
#                        also write files the recipe imports.
#  NAME.out beside it    the expected stderr + stdout, then "exit: N". The
#                        exit status must not be 0 and out/ must stay empty:
#                        no output and no temporary folder behind.
#  checks/NAME.sh        a check that needs code (hostile mergekit YAML), run
#                        by sh in a fresh folder with BIN and HERE (this
#                        folder) set: exit 0 passes, anything else fails and
#                        shows its output.
#
# A setup script calling `skip REASON` (e.g. no mkfifo) counts as passed,
# with the reason. Recipes run under `timeout 20` and a 4 GB address-space
# limit (skipped for sanitizer builds, whose shadow memory needs more).
#
# UPDATE=1 rewrites the NAME.out files from the current output (review the
# diff before committing).
set -u
LC_ALL=C
export LC_ALL
unset MERGELANG_PATH
HERE=$(cd "$(dirname "$0")" && pwd)
B=${B:-$(cd "$HERE/../.." && pwd)/build}
BIN=${BIN:-$B/mergelang}
W=$B/hostile-work
UPDATE=${UPDATE:-}
export BIN HERE
passed=0
failed=0

rm -rf "$W"
mkdir -p "$W/ck" "$W/out" || exit 1
cd "$W" || exit 1

# An address-space limit bounds memory, but AddressSanitizer reserves
# terabytes of shadow memory and cannot start under one.
LIMIT_KB=4000000
# (Probed through sh -c: a subshell killed by ASan's abort makes dash print
# "Aborted" on the suite's stderr.)
# shellcheck disable=SC3045 # ulimit -v: dash and bash have it; the probe copes
if ! sh -c 'ulimit -v "$1" && exec "$0" --version' "$BIN" $LIMIT_KB >/dev/null 2>&1; then LIMIT_KB=; fi

ok() { echo "ok $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1"; failed=$((failed + 1)); }

# setup SCRIPT NAME: sources lib.sh and SCRIPT with set -e and CASE=NAME,
# stdout to setup.out, stderr to setup.err; returns its exit status.
setup() {
    CASE=$2 sh -e -c '. "$0"; . "$1"' "$HERE/lib.sh" "$1" > setup.out 2> setup.err
}

# setup_failed NAME RC: reports a setup script that did not succeed; 77 is skip.
setup_failed() {
    if [ "$2" = 77 ]; then
        ok "$1 (skipped: $(cat setup.err))"
    else
        cat setup.err
        fail "$1 (its setup script exited $2)"
    fi
}

# check_case NAME DIR: runs NAME.merge with bounded time and memory and
# compares with DIR/NAME.out.
check_case() {
    name=$1 exp=$2/$1.out
    got=$(
        # shellcheck disable=SC3045
        if [ -n "$LIMIT_KB" ]; then ulimit -v $LIMIT_KB; fi
        timeout 20 "$BIN" run "$name.merge" 2>&1
        echo "exit: $?"
    )
    if [ -n "$UPDATE" ]; then
        printf '%s\n' "$got" > "$exp"
    fi
    left=$(ls -A out)
    rc=$(printf '%s\n' "$got" | sed -n 's/^exit: //p' | tail -n 1)
    if [ ! -f "$exp" ]; then
        echo "--- got"; printf '%s\n' "$got"
        fail "$name (no ${exp#"$HERE"/})"
    elif [ "$got" != "$(cat "$exp")" ]; then
        echo "--- expected (${exp#"$HERE"/})"; cat "$exp"
        echo "--- got"; printf '%s\n' "$got"
        fail "$name"
    elif [ "$rc" = 0 ]; then
        fail "$name (exit 0)"
    elif [ -n "$left" ]; then
        fail "$name (left behind in out/: $left)"
    else
        ok "$name"
    fi
    rm -rf out && mkdir out
}

# ---- hostile checkpoints --------------------------------------------------------
for f in "$HERE"/checkpoints/*.sh; do
    name=$(basename "$f" .sh)
    printf 'x = model("ck/%s")\nsave(x, "out/%s")\n' "$name" "$name" > "$name.merge"
    setup "$f" "$name"
    rc=$?
    if [ $rc -ne 0 ]; then setup_failed "$name" $rc; continue; fi
    check_case "$name" "$HERE/checkpoints"
done

# ---- hostile recipes --------------------------------------------------------------
for f in "$HERE"/recipes/*.merge "$HERE"/recipes/*.sh; do
    [ -f "$f" ] || continue
    name=$(basename "$f"); name=${name%.*}
    if [ -f "$HERE/recipes/$name.merge" ] && [ -f "$HERE/recipes/$name.sh" ]; then
        fail "$name (both recipes/$name.merge and recipes/$name.sh)"
        continue
    fi
    if [ -f "$HERE/checkpoints/$name.sh" ]; then
        fail "$name (both a checkpoint and a recipe case: they share $name.merge)"
        continue
    fi
    case $f in
    *.merge)
        cp "$f" "$name.merge" ;;
    *.sh)
        setup "$f" "$name"
        rc=$?
        if [ $rc -ne 0 ]; then setup_failed "$name" $rc; continue; fi
        mv setup.out "$name.merge" ;;
    esac
    check_case "$name" "$HERE/recipes"
done

# An expected file whose case is gone would otherwise be forgotten silently.
for exp in "$HERE"/checkpoints/*.out "$HERE"/recipes/*.out; do
    [ -f "$exp" ] || continue
    base=${exp%.out}
    [ -f "$base.sh" ] || [ -f "$base.merge" ] || fail "${exp#"$HERE"/} has no case beside it"
done

# ---- checks that need code (hostile mergekit configurations) ---------------------
# import-mergekit writes a recipe from a stranger's YAML: its warnings must be
# cleaned like every message, and nothing in the YAML or its file name may
# turn into a line of code in the recipe.
for f in "$HERE"/checks/*.sh; do
    [ -f "$f" ] || continue
    name=$(basename "$f" .sh)
    mkdir -p "$W/checks/$name"
    if msg=$(cd "$W/checks/$name" && sh "$f" 2>&1); then
        ok "$name"
    else
        printf '%s\n' "$msg"
        fail "$name"
    fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
