#!/bin/sh
# tests/layout/run.sh - the source tree keeps its shape: every #include
# between folders goes down the stages (interp/README.md, runtime/README.md),
# so the folders' include graph has no cycle. Run by tests/run.sh; ends with
# "P passed, F failed".
#
# Ranks, lowest first; a file may include its own folder and lower ranks:
#   runtime/core 0; runtime/io 1 and runtime/kernels 1 (not each other);
#   interp/syntax 2, interp/plan 3, interp/exec 4, interp/builtins 5,
#   interp/output 6, interp/repl 7 and interp/mergekit 7 (not each other),
#   interp/cmd 8, interp (main.c) 9. runtime/ never includes interp/.
# A new folder must be given a rank here before it may include or be
# included.
set -u
LC_ALL=C
export LC_ALL
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
passed=0
failed=0

# verdict NAME PROBLEMS: passes when PROBLEMS is empty, else lists them.
verdict() {
    if [ -z "$2" ]; then
        passed=$((passed + 1))
        echo "ok $1"
    else
        failed=$((failed + 1))
        printf '%s\n' "$2" | sed 's/^/  /'
        echo "FAIL $1"
    fi
}

rank() {
    case $1 in
    runtime/core) echo 0 ;;
    runtime/io | runtime/kernels) echo 1 ;;
    interp/syntax) echo 2 ;;
    interp/plan) echo 3 ;;
    interp/exec) echo 4 ;;
    interp/builtins) echo 5 ;;
    interp/output) echo 6 ;;
    interp/repl | interp/mergekit) echo 7 ;;
    interp/cmd) echo 8 ;;
    interp) echo 9 ;;
    *) echo none ;;
    esac
}

# Every "folder-of-file folder-of-include file" triple for includes written
# from the repository root.
edges=$(find runtime interp -name '*.[ch]' | sort | while read -r f; do
    sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\(\(runtime\|interp\)\/[^"]*\)".*/\1/p' "$f" |
        while read -r inc; do
            echo "$(dirname "$f") $(dirname "$inc") $f"
        done
done)

# check_edges: reads "from to file" lines, prints one line per include that
# goes against the ranks.
check_edges() {
    while read -r from to file; do
    [ -n "$from" ] || continue
    [ "$from" = "$to" ] && continue
    rf=$(rank "$from")
    rt=$(rank "$to")
    if [ "$rf" = none ] || [ "$rt" = none ]; then
        echo "$file includes $to: $( [ "$rf" = none ] && echo "$from" || echo "$to") has no rank in tests/layout/run.sh"
    elif [ "$rt" -ge "$rf" ]; then
        echo "$file ($from, rank $rf) includes $to (rank $rt): includes must go down the stages"
    fi
    done
}

verdict "include graph of runtime/ and interp/ goes down the stages" "$(printf '%s\n' "$edges" | check_edges)"

# Relative includes hide which folder a header comes from.
verdict "includes are written from the repository root" \
    "$(grep -rn '#[[:space:]]*include[[:space:]]*"\.\./' runtime interp tests tools grammar 2>/dev/null)"

# interp/ holds main.c and its README at the top level, nothing else.
verdict "interp/ holds only main.c and README.md at its top level" \
    "$(find interp -maxdepth 1 -type f ! -name main.c ! -name README.md)"

# The checker itself: made-up includes that go up, sideways or to an
# unknown folder are each caught; one that goes down is not.
caught=$(printf '%s\n' "interp/plan interp/builtins a.c" "runtime/io runtime/kernels b.c" \
    "runtime/core interp/syntax c.c" "interp/newroom interp/plan d.c" "interp/cmd interp/repl e.c" | check_edges | wc -l)
verdict "the checker catches upward, sideways and unranked includes" \
    "$([ "$caught" -eq 4 ] || echo "caught $caught of 4")"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
