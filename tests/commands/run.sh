#!/bin/sh
# tests/commands/run.sh - the everyday subcommands through the binary:
# inspect, diff, fmt, check --json, plan --json and run --json,
# per-subcommand --help, help for the built-ins (help NAME, help methods,
# help builtins, unknown names, help --names), and the bash completion in
# completions/mergelang.bash. Run by tests/run.sh with BIN and B (the build
# folder) in the environment; ends with "P passed, F failed".
#
# One case is one file in a folder per subcommand (inspect/, diff/, fmt/,
# check/, plan/, run/, help/, completion/), run in a work folder holding
# models/ (made by $B/mkmodel, and by mergelang from files/derive.merge:
# 2 * base, -base, 0 * base, renamed tensors), copies of files/ and a few
# generated inputs (crlf.merge, empty.merge, cdir/ for completion, proj/ for
# check, plan and run: files/proj's r.merge and bad.merge, models/ linked to
# ../models, an empty out/); it is removed at the end.
#
#  NAME.cmd   a command and what must hold afterwards, one directive a line
#             (a line starting with a blank continues the one before):
#               # TEXT            comment; the first one names the case
#               $ COMMAND         the command, shell syntax, exactly one:
#                                 `mergelang` is the binary under test,
#                                 $ROOT the repository; lib.sh's helpers
#               exit N            its exit status (0 when not given)
#               stdout has RE     a line of stdout matches RE (grep BRE);
#               stdout lacks RE   no line does (also: stderr has/lacks)
#               stdout first-line RE  the first line matches RE
#               stdout empty      nothing on stdout (also: stderr empty)
#               stdout same FILE  stdout is FILE, a path from the case's
#                                 folder: NAME.out beside it, by convention
#                                 (also: stderr same NAME.err)
#               jq FILTER         stdout is one JSON value, for which
#                                 FILTER is true
#               check CONDITION   a shell condition, run in the work folder
#                                 after the command, must succeed
#               needs TOOL        skipped (counted as passed) without TOOL
#  NAME.sh    a check that needs code, sourced by sh after lib.sh in the
#             work folder; its first comment line names it; exit 0 passes,
#             77 is skipped (the reason on stdout), anything else fails and
#             shows its output.
#
# A NAME.out or NAME.err with no case beside it fails, as do unknown
# directives.
set -u
LC_ALL=C
export LC_ALL
unset MERGELANG_PATH MERGELANG_CHUNK_ENTRIES
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
B=${B:-$ROOT/build}
BIN=${BIN:-$B/mergelang}
export HERE ROOT B BIN
W=$(mktemp -d "${TMPDIR:-/tmp}/mergelang-commands.XXXXXX") || exit 1
trap 'rm -rf "$W"' EXIT
passed=0
failed=0
. "$HERE/lib.sh"

ok() { passed=$((passed + 1)); echo "ok $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }
# show: the stdout and stderr of the last command, after a failure.
show() {
    if [ -s out ]; then echo "  stdout:"; sed 's/^/    /' out | head -n 40; fi
    if [ -s err ]; then echo "  stderr:"; sed 's/^/    /' err | head -n 20; fi
}

cd "$W" || exit 1

# ---- the work folder ------------------------------------------------------------
mkdir -p models
cp -R "$HERE/files/." .
"$B/mkmodel" models/base --seed 1 >/dev/null &&
"$B/mkmodel" models/ft1 --seed 2 --finetune-of 1 --delta 0.01 >/dev/null &&
"$B/mkmodel" models/ft1-bf16 --seed 2 --finetune-of 1 --delta 0.01 --dtype bfloat16 --shard 20KB >/dev/null &&
"$B/mkmodel" models/wide --seed 4 --hidden 48 >/dev/null &&
"$B/mkmodel" models/deep --seed 5 --layers 12 --hidden 8 --vocab 16 >/dev/null || {
    echo "FAIL generating models"
    echo "0 passed, 1 failed"
    exit 1
}
if ! "$BIN" run derive.merge -q >derive.log 2>&1; then
    cat derive.log
    echo "FAIL deriving models with mergelang"
    echo "0 passed, 1 failed"
    exit 1
fi
mkdir -p models/noconfig && cp models/base/model.safetensors models/noconfig/
printf 'this is not a safetensors file' >models/garbage.safetensors
# proj/: recipes saving to out/, which cannot be at the top (out is stdout)
mkdir -p proj/out && ln -s ../models proj/models
printf 'x=1\r\ny = [1,\r\n  2]  # c\r\n' >crlf.merge
: >empty.merge
mkdir -p cdir/sub
printf 'param scale = 0.8\n  param  density=0.5\nx = 1\n' >cdir/r.merge
: >cdir/m.safetensors
: >cdir/c.yml
: >cdir/notes.txt

# ---- NAME.cmd --------------------------------------------------------------------
# run_cmd FILE: runs the case FILE; problems are collected in $problems.
problem() { problems="$problems
  $1"; }
run_cmd() {
    f=$1 dir=$(dirname "$1") problems=
    desc=$(sed -n 's/^# *//p' "$f" | head -n 1)
    [ -n "$desc" ] || desc=${f#"$HERE"/}
    # the directives, comments and blank lines dropped, continuations joined
    awk '/^#/ || /^[ \t]*$/ { next }
         /^[ \t]/ { sub(/^[ \t]+/, " "); line = line $0; next }
         { if (line != "") print line; line = $0 }
         END { if (line != "") print line }' "$f" >directives
    if [ "$(grep -c '^\$ ' directives)" -ne 1 ]; then fail "$desc (${f#"$HERE"/}: not exactly one '\$ ' line)"; return; fi
    for tool in $(sed -n 's/^needs //p' directives); do
        if ! command -v "$tool" >/dev/null 2>&1; then ok "$desc (skipped: $tool not installed)"; return; fi
    done
    want_rc=$(sed -n 's/^exit //p' directives | tail -n 1)
    cmd=$(sed -n 's/^\$ //p' directives)
    (eval "$cmd") >out 2>err
    rc=$?
    [ "$rc" -eq "${want_rc:-0}" ] || problem "exit $rc, expected ${want_rc:-0}"
    while IFS= read -r d; do
        case $d in
        '$ '* | 'exit '* | 'needs '*) ;;
        'stdout has '*) has out "${d#stdout has }" || problem "no line of stdout matches: ${d#stdout has }" ;;
        'stderr has '*) has err "${d#stderr has }" || problem "no line of stderr matches: ${d#stderr has }" ;;
        'stdout lacks '*) ! has out "${d#stdout lacks }" || problem "a line of stdout matches: ${d#stdout lacks }" ;;
        'stderr lacks '*) ! has err "${d#stderr lacks }" || problem "a line of stderr matches: ${d#stderr lacks }" ;;
        'stdout first-line '*)
            head -n 1 out | grep -q -- "${d#stdout first-line }" ||
                problem "the first line of stdout does not match: ${d#stdout first-line }" ;;
        'stdout empty') [ ! -s out ] || problem "stdout is not empty" ;;
        'stderr empty') [ ! -s err ] || problem "stderr is not empty" ;;
        'stdout same '* | 'stderr same '*)
            stream=err want=$dir/${d#std??? same }
            case $d in stdout*) stream=out ;; esac
            if [ ! -f "$want" ]; then
                problem "no file ${want#"$HERE"/}"
            elif ! cmp -s "$stream" "$want"; then
                problem "std$stream differs from ${want#"$HERE"/}:
$(diff "$want" "$stream" | head -n 30)"
            fi ;;
        'jq '*)
            # jq -e passes on empty input (jq 1.6), and takes the last of
            # several values: stdout must be exactly one.
            if ! jq -e -s 'length == 1' out >/dev/null 2>&1 </dev/null; then
                problem "stdout is not one JSON value"
            elif ! jq -e "${d#jq }" out >/dev/null 2>&1 </dev/null; then
                problem "jq filter failed: ${d#jq }"
            fi ;;
        'check '*) (eval "${d#check }") </dev/null >/dev/null 2>&1 || problem "check failed: ${d#check }" ;;
        *) problem "unknown directive: $d" ;;
        esac
    done <directives
    if [ -z "$problems" ]; then ok "$desc"; else fail "$desc (${f#"$HERE"/})$problems"; show; fi
}

# run_script FILE: runs the case script FILE.
run_script() {
    f=$1
    desc=$(sed -n 's/^# *//p' "$1" | head -n 1)
    [ -n "$desc" ] || desc=${f#"$HERE"/}
    msg=$(sh -c '. "$0"; . "$1"' "$HERE/lib.sh" "$f" 2>&1)
    rc=$?
    if [ $rc -eq 0 ]; then
        ok "$desc"
        [ -z "$msg" ] || printf '%s\n' "$msg" | sed 's/^/  /'
    elif [ $rc -eq 77 ]; then
        ok "$desc (skipped: $msg)"
    else
        printf '%s\n' "$msg" | sed 's/^/  /'
        fail "$desc (${f#"$HERE"/} exited $rc)"
    fi
}

for f in "$HERE"/*/*; do
    case $f in
    "$HERE"/files/*) ;;
    *.cmd) run_cmd "$f" ;;
    *.sh) run_script "$f" ;;
    esac
done

# Expected output whose case is gone would otherwise be forgotten silently.
for exp in "$HERE"/*/*.out "$HERE"/*/*.err; do
    [ -f "$exp" ] || continue
    base=${exp%.*}
    [ -f "$base.cmd" ] || [ -f "$base.sh" ] || fail "${exp#"$HERE"/} has no case beside it"
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
