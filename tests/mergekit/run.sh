#!/bin/sh
# tests/mergekit/run.sh - `mergelang import-mergekit`, run by tests/run.sh with
# BIN, STCOMPARE and B (the build folder) in the environment. Ends with the
# line "P passed, F failed".
#
#  conformance  every tests/conformance/CASE whose case.json has a
#               "mergekit_yaml": the YAML is written beside (symlinks to) the
#               case's models, imported (silently: no warning allowed), the
#               recipe run with -D out=..., and the output compared with
#               expected.safetensors using the case's compare.args, or checked
#               by stprops for the random methods (no compare.args).
#  files        tests/mergekit/NAME.yml, imported from a work folder that has
#               models/{base,ft1,ft2} (4-layer checkpoints made by mkmodel):
#               NAME.out is the expected stdout + stderr of the import
#               followed by "exit: N". When NAME.same exists (a recipe written
#               by hand, saving to `param out`), the imported recipe and
#               NAME.same are both run and must write identical tensors (and
#               identical config.json files).
#
# CONFORMANCE=DIR takes the cases from another folder (e.g. the shared
# conformance suite); compare.args are then read from tests/conformance.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/tests/mergekit
B=${B:-$ROOT/build}
BIN=${BIN:-$B/mergelang}
STCOMPARE=${STCOMPARE:-$B/stcompare}
CONFORMANCE=${CONFORMANCE:-$ROOT/tests/conformance}
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }

W=$(mktemp -d "${TMPDIR:-/tmp}/mergekit-test.XXXXXX") || { echo "0 passed, 1 failed"; exit 1; }
trap 'rm -rf "$W"' EXIT INT TERM

# The decoded JSON string "mergekit_yaml" of a case.json (the value is on
# one line, as JSON strings cannot hold a raw newline).
yaml_of() {
    awk '
    function hexval(h,   i, v) {
        v = 0
        for (i = 1; i <= 4; i++) v = v * 16 + index("0123456789abcdef", tolower(substr(h, i, 1))) - 1
        return v
    }
    {
        i = index($0, "\"mergekit_yaml\"")
        if (!i) next
        s = substr($0, i + 15)
        sub(/^[ \t]*:[ \t]*"/, "", s)
        out = ""
        n = length(s)
        for (k = 1; k <= n; k++) {
            c = substr(s, k, 1)
            if (c == "\"") break
            if (c == "\\") {
                k++
                d = substr(s, k, 1)
                if (d == "n") out = out "\n"
                else if (d == "t") out = out "\t"
                else if (d == "r") out = out "\r"
                else if (d == "u") { v = hexval(substr(s, k + 1, 4)); out = out (v < 128 ? sprintf("%c", v) : "?"); k += 4 }
                else out = out d
            } else out = out c
        }
        printf "%s\n", out
        found = 1
        exit
    }
    END { exit found ? 0 : 1 }' "$1"
}

# ---- conformance cases -------------------------------------------------------------
no_case_json=0
for dir in "$CONFORMANCE"/*/; do
    dir=${dir%/}
    name=$(basename "$dir")
    if [ ! -f "$dir/case.json" ]; then
        no_case_json=$((no_case_json + 1))
        continue
    fi
    yaml=$(yaml_of "$dir/case.json") || continue
    c=$W/conf/$name
    mkdir -p "$c"
    for f in "$dir"/*.safetensors; do
        case $(basename "$f") in expected*) ;; *) ln -s "$f" "$c/" ;; esac
    done
    printf '%s\n' "$yaml" > "$c/config.yml"
    msg=$(cd "$c" && "$BIN" import-mergekit config.yml -o recipe.merge 2>&1)
    rc=$?
    if [ $rc -ne 0 ] || [ -n "$msg" ]; then
        printf '%s\n' "$msg"
        bad "conformance $name: import (exit $rc)"
        continue
    fi
    msg=$(cd "$c" && "$BIN" run recipe.merge -q -D "out=$c/out" 2>&1)
    rc=$?
    if [ $rc -ne 0 ]; then
        printf '%s\n' "$msg"
        sed 's/^/    /' "$c/recipe.merge"
        bad "conformance $name: run (exit $rc)"
        continue
    fi
    args=
    if [ -f "$dir/compare.args" ]; then args=$dir/compare.args
    elif [ -f "$ROOT/tests/conformance/$name/compare.args" ]; then args=$ROOT/tests/conformance/$name/compare.args
    fi
    if [ -n "$args" ]; then
        # shellcheck disable=SC2046
        res=$(cd "$dir" && "$STCOMPARE" "$c/out" expected.safetensors $(cat "$args") 2>&1)
    else
        res=$("$B/stprops" "$dir" "$c/out" 2>&1)
    fi
    if [ $? -ne 0 ]; then
        printf '%s\n' "$res"
        bad "conformance $name: output differs"
        continue
    fi
    ok "conformance $name: $(printf '%s\n' "$res" | tail -n 1)"
done
[ $no_case_json -eq 0 ] || echo "note: $no_case_json case folders of $CONFORMANCE have no case.json (not imported)"

# ---- YAML files ------------------------------------------------------------------------
M=$W/files/models
mkdir -p "$M"
if ! { "$B/mkmodel" "$M/base" --seed 1 &&
       "$B/mkmodel" "$M/ft1" --seed 2 --finetune-of 1 --delta 0.01 &&
       "$B/mkmodel" "$M/ft2" --seed 3 --finetune-of 1 --delta 0.01; } >/dev/null 2>&1; then
    bad "generating the test models"
else
    for yml in "$HERE"/*.yml; do
        [ -f "$yml" ] || continue
        name=$(basename "$yml" .yml)
        f=$W/files
        cp "$yml" "$f/$name.yml"
        got=$(cd "$f" && "$BIN" import-mergekit "$name.yml" 2>&1; echo "exit: $?")
        if [ ! -f "$HERE/$name.out" ]; then
            printf '%s\n' "$got"
            bad "$name: no $name.out"
            continue
        fi
        want=$(cat "$HERE/$name.out")
        if [ "$got" != "$want" ]; then
            echo "--- expected ($name.out)"; printf '%s\n' "$want"
            echo "--- got"; printf '%s\n' "$got"
            bad "$name: import output"
            continue
        fi
        if [ -f "$HERE/$name.same" ]; then
            (cd "$f" && "$BIN" import-mergekit "$name.yml" -o "$name.merge" 2>/dev/null)
            cp "$HERE/$name.same" "$f/$name.same.merge"
            rm -rf "$f/got" "$f/want"
            msg=$(cd "$f" && "$BIN" run "$name.merge" -q -D "out=$f/got" 2>&1 &&
                  "$BIN" run "$name.same.merge" -q -D "out=$f/want" 2>&1)
            if [ $? -ne 0 ]; then
                printf '%s\n' "$msg"
                bad "$name: running the recipes"
                continue
            fi
            if ! res=$("$STCOMPARE" "$f/got" "$f/want" --identical 2>&1); then
                printf '%s\n' "$res"
                bad "$name: the imported recipe and $name.same differ"
                continue
            fi
            if [ -f "$f/want/config.json" ] && ! cmp -s "$f/got/config.json" "$f/want/config.json"; then
                bad "$name: config.json differs from $name.same's"
                continue
            fi
        fi
        ok "$name"
    done
fi

# ---- every method ------------------------------------------------------------------------
# Each of mergekit's 20 methods imports to a recipe that `mergelang check`
# accepts (the built-in exists and takes the translated keywords).
f=$W/files
for m in linear slerp nuslerp multislerp karcher task_arithmetic ties dare_ties dare_linear breadcrumbs \
         breadcrumbs_ties della della_linear sce ram ramplus_tl model_stock nearswap arcee_fusion passthrough; do
    case $m in
        slerp|nearswap|arcee_fusion) models="[{model: models/ft1}]" ;;
        passthrough) models="[{model: models/ft1, parameters: {scale: 0.5}}]" ;;
        *) models="[{model: models/ft1}, {model: models/ft2}]" ;;
    esac
    base="base_model: models/base"
    [ $m = passthrough ] && base=
    printf 'merge_method: %s\n%s\nmodels: %s\nparameters: {weight: 0.5, t: 0.3, density: 0.9, epsilon: 0.05}\n' \
        "$m" "$base" "$models" > "$f/method_$m.yml"
    msg=$(cd "$f" && "$BIN" import-mergekit "method_$m.yml" -o "method_$m.merge" 2>/dev/null &&
          "$BIN" check "method_$m.merge" 2>&1)
    if [ $? -eq 0 ]; then ok "method $m"; else printf '%s\n' "$msg"; bad "method $m"; fi
done

# ---- command line ------------------------------------------------------------------------
expect_exit() {  # NAME WANT COMMAND...: the exit status of COMMAND (run in $f)
    n=$1 want=$2
    shift 2
    (cd "$f" && "$@" >/dev/null 2>&1)
    rc=$?
    if [ $rc -eq "$want" ]; then ok "cli $n"; else bad "cli $n: exit $rc, want $want"; fi
}
expect_exit "no arguments" 2 "$BIN" import-mergekit
expect_exit "--help" 0 "$BIN" import-mergekit --help
expect_exit "unknown option" 2 "$BIN" import-mergekit --frobnicate linear_base.yml
expect_exit "two inputs" 2 "$BIN" import-mergekit linear_base.yml tokenizer.yml
expect_exit "missing file" 1 "$BIN" import-mergekit no-such.yml
expect_exit "unwritable output" 1 "$BIN" import-mergekit linear_base.yml -o no-such-dir/r.merge
# A failed import leaves an existing output file alone.
echo "keep" > "$f/kept.merge"
(cd "$f" && "$BIN" import-mergekit err_unknown_method.yml -o kept.merge >/dev/null 2>&1)
if [ "$(cat "$f/kept.merge")" = keep ]; then ok "cli failed import writes nothing"
else bad "cli failed import overwrote its -o file"; fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
