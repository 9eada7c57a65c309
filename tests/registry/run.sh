#!/bin/sh
# tests/registry/run.sh - what the built-in registry (interp/builtins/
# builtins.c) shows through the binary: `mergelang help NAME`, `help
# methods`, `help builtins`, an unknown name, the hidden `help --names`, and
# the bash completion of help topics, which asks the binary for them. Its
# data itself is checked by tests/unit/test_registry.c; the model card's
# papers by tests/golden/model_card.
#
# Run by tests/run.sh with BIN and B (the build folder) in the environment;
# ends with "P passed, F failed". The completion checks are skipped, with a
# note, without bash.
set -u
LC_ALL=C
export LC_ALL
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=${B:-$ROOT/build}
BIN=${BIN:-$B/mergelang}
W=$(mktemp -d "${TMPDIR:-/tmp}/mergelang-registry.XXXXXX") || exit 1
trap 'rm -rf "$W"' EXIT
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok $1"; }
bad() {
    failed=$((failed + 1))
    echo "FAIL $1"
    if [ -s "$W/out" ]; then echo "  stdout:"; sed 's/^/    /' "$W/out" | head -n 40; fi
    if [ -s "$W/err" ]; then echo "  stderr:"; sed 's/^/    /' "$W/err" | head -n 20; fi
}
# run CMD...: stdout to $W/out, stderr to $W/err, exit status in $rc.
run() {
    "$@" >"$W/out" 2>"$W/err"
    rc=$?
}
# check NAME CONDITION...: ok when the shell condition holds.
check() {
    name=$1
    shift
    if "$@"; then ok "$name"; else bad "$name"; fi
}
has() { grep -q -- "$2" "$1"; }
hasx() { grep -qxF -- "$2" "$1"; }

# ---- help NAME ------------------------------------------------------------------
run "$BIN" help ties
check "help ties: exit 0, nothing on stderr" [ "$rc" -eq 0 ] && [ ! -s "$W/err" ]
check "help ties: the signature first, with the defaults" \
    sh -c 'head -n 1 "$1" | grep -q "^ties(base, models, weights=1, density=1, lambda=1, normalize=true,\$"' - "$W/out"
check "help ties: the signature wraps under its parenthesis" \
    sh -c 'sed -n 2,3p "$1" | grep -c "^     [a-z]" | grep -qx 2 && sed -n 3p "$1" | grep -qx "     trim=\"tensor\")"' - "$W/out"
check "help ties: the doc line" has "$W/out" '^    task vectors trimmed to their largest entries'
check "help ties: the paper" hasx "$W/out" 'paper: TIES-Merging (Yadav et al., NeurIPS 2023, arXiv:2306.01708)'

run "$BIN" help prune_topk
check "help of a primitive: signature and doc, no paper" \
    sh -c '[ "$1" -eq 0 ] && head -n 1 "$2" | grep -qx "prune_topk(deltas, density, rescale=false)" &&
           ! grep -q "^paper:" "$2"' - "$rc" "$W/out"

# The hint under a call's error is the same rendering (signature: doc).
printf 'x = prune_topk()\n' >"$W/r.merge"
run "$BIN" check "$W/r.merge"
check "an error hint shows the registry's signature and doc" \
    hasx "$W/err" '  hint: prune_topk(deltas, density, rescale=false): keep the largest-magnitude floor(density*n) entries (TIES trim)'

# ---- help methods, help builtins ----------------------------------------------------
run "$BIN" help methods
check "help methods: exit 0" [ "$rc" -eq 0 ]
sed -n 's/^  \([a-z_][a-z_]*\)  .*/\1/p' "$W/out" >"$W/methods"
check "help methods: mergekit's methods and fisher, one line each" \
    sh -c '[ "$(tr "\n" " " <"$1")" = "linear slerp task_arithmetic ties dare_ties dare_linear breadcrumbs breadcrumbs_ties della della_linear nuslerp multislerp karcher model_stock nearswap sce ram ramplus_tl arcee_fusion fisher " ]' - "$W/methods"
check "help methods: with what each does" has "$W/out" '^  fisher  *Fisher-weighted average'

run "$BIN" help builtins
check "help builtins: exit 0" [ "$rc" -eq 0 ]
check "help builtins: grouped by kind" \
    sh -c 'grep -A1 -x "merge methods:" "$1" | grep -q "^  linear, slerp," &&
           grep -A1 -x "lists:" "$1" | grep -qx "  len, range, map, zip, sum" &&
           grep -A1 -x "statistics (a number per tensor):" "$1" | grep -qx "  norm, mean, std, dot, cos"' - "$W/out"

# ---- unknown names -------------------------------------------------------------------
run "$BIN" help tie
check "help of an unknown name: exit 2, nothing on stdout" [ "$rc" -eq 2 ] && [ ! -s "$W/out" ]
check "help of an unknown name: says so" hasx "$W/err" "mergelang: help: no command or built-in named 'tie'"
check "help of an unknown name: did you mean" hasx "$W/err" "  hint: did you mean 'ties'?"
run "$BIN" help frobnicate
check "help of a name close to nothing: where to look" \
    sh -c '[ "$1" -eq 2 ] && grep -q "mergelang help builtins" "$2"' - "$rc" "$W/err"

# ---- commands keep their help ---------------------------------------------------------------
run "$BIN" help run
check "help run: still the usage of run, with --mem" \
    sh -c '[ "$1" -eq 0 ] && head -n 1 "$2" | grep -q "^usage: mergelang run" && grep -q "^  --mem SIZE" "$2"' - "$rc" "$W/out"
run "$BIN" help fmt
check "help fmt: still asks fmt" sh -c '[ "$1" -eq 0 ] && grep -q "fmt" "$2"' - "$rc" "$W/out"

# ---- help --names ----------------------------------------------------------------------------
run "$BIN" help --names
check "help --names: exit 0" [ "$rc" -eq 0 ]
check "help --names: commands, topics and built-ins" \
    sh -c 'grep -qx run "$1" && grep -qx import-mergekit "$1" && grep -qx methods "$1" && grep -qx builtins "$1" &&
           grep -qx ties "$1" && grep -qx where "$1"' - "$W/out"
cp "$W/out" "$W/names"
refused=
while read -r name; do
    "$BIN" help "$name" >/dev/null 2>&1 || refused="$refused $name"
done <"$W/names"
if [ -z "$refused" ]; then ok "help takes every name --names lists"; else echo "  refused:$refused"; bad "help takes every name --names lists"; fi

# ---- bash completion ---------------------------------------------------------------------------
COMP=$ROOT/completions/mergelang.bash
if command -v bash >/dev/null 2>&1; then
    # complete WORD...: the candidates bash would offer for the last word.
    complete_words() {
        (cd "$W" && bash -c '. "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _mergelang
                             printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' "$COMP" "$@")
    }
    ccheck() {
        name=$1
        want=$2
        shift 2
        got=$(complete_words "$@" 2>"$W/err")
        if [ "$got" = "$want" ] && [ ! -s "$W/err" ]; then ok "completion: $name"
        else echo "  got '$got', want '$want'"; bad "completion: $name"; fi
    }
    ccheck "help offers a built-in, asking the binary typed" "ties " "$BIN" help ti
    ccheck "help offers methods and built-ins alike" "mean methods " "$BIN" help me
    ccheck "help without a binary to ask: the commands, quietly" "repl run " "$W/no-such-mergelang" help r
    ccheck "run offers --mem" "--mem " mergelang run --m
    ccheck "sizes after --mem" "4GB " mergelang run --mem 4
else
    ok "completion (skipped: bash not installed)"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
