#!/bin/sh
# tests/commands/run.sh - the everyday subcommands through the binary:
# inspect, diff, fmt, per-subcommand --help, and the bash completion in
# completions/mergelang.bash. Run by tests/run.sh with BIN and B (the build
# folder) in the environment; ends with "P passed, F failed".
#
# Models are made by $B/mkmodel (and by mergelang itself: 2 * base, -base,
# 0 * base, renamed tensors) in a temporary folder removed at the end.
# Checks that need jq (JSON validity), /usr/bin/time (peak memory of diff)
# or bash (completion) are skipped, with a note, when the tool is missing.
set -u
LC_ALL=C
export LC_ALL
unset MERGELANG_PATH
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=${B:-$ROOT/build}
BIN=${BIN:-$B/mergelang}
W=$(mktemp -d "${TMPDIR:-/tmp}/mergelang-commands.XXXXXX") || exit 1
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
# expect NAME RC: the last run exited RC.
expect_rc() {
    if [ "$rc" -eq "$2" ]; then ok "$1"; else echo "  exit $rc, expected $2"; bad "$1"; fi
}
# same NAME FILE: $W/out equals FILE (a diff is shown otherwise).
same() {
    if cmp -s "$W/out" "$2"; then ok "$1"; else diff "$2" "$W/out" | head -n 30; bad "$1"; fi
}
has() { grep -q -- "$2" "$1"; }
have_jq() { command -v jq >/dev/null 2>&1; }
# jqcheck NAME FILTER: $W/out is JSON for which FILTER is true (skipped without jq).
jqcheck() {
    if ! have_jq; then ok "$1 (jq not installed: only grep checks)"; return; fi
    if jq -e "$2" "$W/out" >/dev/null 2>&1; then ok "$1"; else echo "  jq filter failed: $2"; bad "$1"; fi
}

cd "$W" || exit 1
mkdir -p models

# ---- models ----------------------------------------------------------------------
"$B/mkmodel" models/base --seed 1 >/dev/null &&
"$B/mkmodel" models/ft1 --seed 2 --finetune-of 1 --delta 0.01 >/dev/null &&
"$B/mkmodel" models/ft1-bf16 --seed 2 --finetune-of 1 --delta 0.01 --dtype bfloat16 --shard 20KB >/dev/null &&
"$B/mkmodel" models/wide --seed 4 --hidden 48 >/dev/null &&
"$B/mkmodel" models/deep --seed 5 --layers 12 --hidden 8 --vocab 16 >/dev/null || {
    echo "FAIL generating models"
    echo "0 passed, 1 failed"
    exit 1
}
cat >derive.merge <<'EOF'
base = model("models/base")
save(base * 2, "models/double")
save(-base, "models/neg")
save(base * 0, "models/zero")
save(rename(drop(base, "lm_head"), "model.norm.", "model.final_norm."), "models/renamed")
save(rename(rename(base, "model.layers.", "transformer.h."), "self_attn.q_proj", "attn.c_attn"),
     "models/gpt2ish")
EOF
if ! "$BIN" run derive.merge -q >derive.log 2>&1; then
    cat derive.log
    echo "FAIL deriving models with mergelang"
    echo "0 passed, 1 failed"
    exit 1
fi
mkdir -p models/noconfig && cp models/base/model.safetensors models/noconfig/
printf 'this is not a safetensors file' >models/garbage.safetensors

# ---- inspect ------------------------------------------------------------------------
run "$BIN" inspect models/base
cat >want <<'EOF'
checkpoint    models/base
architecture  LlamaForCausalLM (llama), from config.json
tensors       39 (3 outside the blocks)
layers        4
parameters    41,248
dtypes        float32 (39)
size          164,992 bytes (165.0 kB)
shards        1 (model.safetensors)
EOF
same "inspect: summary of a model folder" want

run "$BIN" inspect models/ft1-bf16
if [ $rc -eq 0 ] && has out 'dtypes        bfloat16 (39)' && has out 'size          82,496 bytes' &&
   has out 'shards        5 (model-00001-of-00005.safetensors ... model-00005-of-00005.safetensors)'; then
    ok "inspect: sharded bfloat16 folder"
else bad "inspect: sharded bfloat16 folder"; fi

run "$BIN" inspect models/deep --tensors
first=$(sed -n '/^tensor /{n;p;}' out | awk '{print $1}')
last=$(tail -n 1 out | awk '{print $1}')
l2=$(grep -n '^model.layers.2.input_layernorm.weight ' out | cut -d: -f1)
l10=$(grep -n '^model.layers.10.input_layernorm.weight ' out | cut -d: -f1)
rows=$(sed -n '/^tensor /,$p' out | tail -n +2 | wc -l)
if [ $rc -eq 0 ] && [ "$first" = model.embed_tokens.weight ] && [ "$last" = lm_head.weight ] &&
   [ -n "$l2" ] && [ -n "$l10" ] && [ "$l2" -lt "$l10" ] && [ "$rows" -eq 111 ] &&
   has out '^model.layers.0.mlp.down_proj.weight  *\[8, 64\]  *float32$'; then
    ok "inspect --tensors: every tensor with shape and dtype, in natural order"
else bad "inspect --tensors: every tensor with shape and dtype, in natural order"; fi

run "$BIN" inspect models/ft1-bf16 --tensors
if has out '^tensor  *shape  *dtype  *shard$' &&
   has out '^lm_head.weight  *\[64, 32\]  *bfloat16  *model-00005-of-00005.safetensors$'; then
    ok "inspect --tensors: shard column for a sharded folder"
else bad "inspect --tensors: shard column for a sharded folder"; fi

run "$BIN" inspect models/base --json
if [ $rc -eq 0 ] && has out '"tensor_count":	39' && has out '"parameters":	41248' &&
   has out '"architecture":	"LlamaForCausalLM"' && ! has out '"tensors":'; then
    ok "inspect --json: the summary fields"
else bad "inspect --json: the summary fields"; fi
jqcheck "inspect --json: valid JSON with the right values" \
    '.tensor_count == 39 and .layers == 4 and .parameters == 41248 and .bytes == 164992 and
     .dtypes == {"float32": 39} and .model_type == "llama" and .architecture_source == "config.json" and
     .shards == ["model.safetensors"] and .outside_blocks == 3'

run "$BIN" inspect models/deep --json --tensors
jqcheck "inspect --json --tensors: every tensor, natural order" \
    '(.tensors | length) == 111 and .tensors[0].name == "model.embed_tokens.weight" and
     .tensors[-1].name == "lm_head.weight" and .tensors[0].shape == [16, 8] and
     .tensors[0].dtype == "float32" and .tensors[0].bytes == 512 and .layers == 12'

run "$BIN" inspect models/noconfig
if has out '^architecture  Llama-like (Llama, Mistral, Qwen2), guessed from tensor names$'; then
    ok "inspect: architecture guessed from names without config.json"
else bad "inspect: architecture guessed from names without config.json"; fi

run "$BIN" inspect models/gpt2ish/model.safetensors
if has out '^architecture  GPT-2-like, guessed from tensor names$' && has out '^layers        4$' &&
   has out '^checkpoint    models/gpt2ish/model.safetensors$'; then
    ok "inspect: a single .safetensors file with GPT-2 names"
else bad "inspect: a single .safetensors file with GPT-2 names"; fi

run "$BIN" inspect "$ROOT/tests/golden/data/int_a.safetensors"
if has out '^dtypes        float32 (1), int64 (1)$' && has out '^size          48 bytes$' &&
   has out '^architecture  unknown$'; then
    ok "inspect: mixed dtypes, unknown architecture"
else bad "inspect: mixed dtypes, unknown architecture"; fi

run "$BIN" inspect models/missing
if [ $rc -eq 1 ] && has err 'models/missing' && [ ! -s out ]; then ok "inspect: missing path is exit 1, named"
else bad "inspect: missing path is exit 1, named"; fi
run "$BIN" inspect models/garbage.safetensors
if [ $rc -eq 1 ] && has err 'models/garbage.safetensors'; then ok "inspect: not a checkpoint is exit 1, named"
else bad "inspect: not a checkpoint is exit 1, named"; fi
run "$BIN" inspect
expect_rc "inspect: no path is a usage error" 2
run "$BIN" inspect models/base models/ft1
expect_rc "inspect: two paths is a usage error" 2
run "$BIN" inspect models/base --frobnicate
expect_rc "inspect: unknown option is a usage error" 2

# ---- diff ------------------------------------------------------------------------------
# col N: the Nth field of the per-tensor lines (between the header and the first blank line).
tensor_lines() { sed -n '/^tensor /,/^$/p' out | sed '1d;/^$/d'; }

run "$BIN" diff models/base models/base
n=$(tensor_lines | awk '$2 == "1.000000" && $3 == "0.000e+00"' | wc -l)
if [ $rc -eq 0 ] && [ "$n" -eq 39 ] && has out '^overall: 39 common tensors, 0 only in A, 0 only in B$'; then
    ok "diff: a model against itself"
else bad "diff: a model against itself"; fi

run "$BIN" diff models/base models/double
n=$(tensor_lines | awk '$2 == "1.000000" && $3 == "1.000e+00"' | wc -l)
if [ $rc -eq 0 ] && [ "$n" -eq 39 ] && has out 'whole model: cosine 1.000000, rel diff 1.000e+00'; then
    ok "diff: 2 * base has cosine 1 and relative difference 1"
else bad "diff: 2 * base has cosine 1 and relative difference 1"; fi

run "$BIN" diff models/base models/neg
n=$(tensor_lines | awk '$2 == "-1.000000" && $3 == "2.000e+00"' | wc -l)
if [ $rc -eq 0 ] && [ "$n" -eq 39 ]; then ok "diff: -base has cosine -1 and relative difference 2"
else bad "diff: -base has cosine -1 and relative difference 2"; fi

run "$BIN" diff models/ft1 models/ft1-bf16
n=$(tensor_lines | awk '$2 + 0 >= 0.99999 && $3 + 0 < 0.004' | wc -l)
if [ $rc -eq 0 ] && [ "$n" -eq 39 ]; then ok "diff: float32 against its sharded bfloat16 copy"
else bad "diff: float32 against its sharded bfloat16 copy"; fi

run "$BIN" diff models/base models/ft1
cat >want <<'EOF'
  layer  tensors  mean cosine  min cosine  max rel diff
  0            9     0.916624    0.874865     5.346e-01
  1            9     0.917516    0.888002     5.197e-01
  2            9     0.918826    0.885597     5.106e-01
  3            9     0.920814    0.891787     5.078e-01
  other        3     0.930874    0.895115     4.973e-01
EOF
sed -n '/^per layer:$/,/^$/p' out | sed '1d;/^$/d' >got
if [ $rc -eq 0 ] && cmp -s want got && [ "$(tensor_lines | wc -l)" -eq 39 ] &&
   has out '^  max rel diff 5.346e-01 (model.layers.0.self_attn.k_proj.weight)$'; then
    ok "diff: per-layer summary and overall line"
else diff want got; bad "diff: per-layer summary and overall line"; fi

run "$BIN" diff models/base models/ft1 --summary
if [ $rc -eq 0 ] && ! has out '^tensor ' && has out '^per layer:$' && has out '^overall: '; then
    ok "diff --summary: no per-tensor lines"
else bad "diff --summary: no per-tensor lines"; fi

run "$BIN" diff models/base models/renamed
if [ $rc -eq 0 ] && has out '^only in A (models/base): 2 tensors$' && has out '^  lm_head.weight$' &&
   has out '^  model.norm.weight$' && has out '^only in B (models/renamed): 1 tensor$' &&
   has out '^  model.final_norm.weight$' && has out '^overall: 37 common tensors, 2 only in A, 1 only in B$'; then
    ok "diff: tensors present in only one checkpoint"
else bad "diff: tensors present in only one checkpoint"; fi

run "$BIN" diff models/base models/renamed --json
if [ $rc -eq 0 ] && has out '"only_in_a":	\["model.norm.weight", "lm_head.weight"\]'; then
    ok "diff --json: tensors only in A, natural order"
else bad "diff --json: tensors only in A, natural order"; fi
jqcheck "diff --json: valid JSON with the right values" \
    '.a == "models/base" and .b == "models/renamed" and (.tensors | length) == 37 and
     .only_in_b == ["model.final_norm.weight"] and .overall.common == 37 and .overall.only_in_a == 2 and
     (.layers | length) == 5 and .layers[0].layer == 0 and .layers[4].layer == null and
     (.tensors[0] | .name == "model.embed_tokens.weight" and .layer == null and .cosine == 1 and .rel_diff == 0)'

run "$BIN" diff models/base models/double --json --summary
jqcheck "diff --json --summary: whole-model figures, no tensor list" \
    '(has("tensors") | not) and .overall.model_cosine == 1 and .overall.model_rel_diff == 1 and
     .overall.mean_cosine == 1 and .overall.max_rel_diff == 1'

run "$BIN" diff models/zero models/base
if [ $rc -eq 0 ] && [ "$(tensor_lines | awk '$2 == "-" && $3 == "inf"' | wc -l)" -eq 39 ]; then
    ok "diff: an all-zero A has no cosine and an infinite difference"
else bad "diff: an all-zero A has no cosine and an infinite difference"; fi
run "$BIN" diff models/base models/zero --json
jqcheck "diff --json: undefined cosine is null" \
    '[.tensors[] | .cosine == null and .rel_diff == 1] | all'
run "$BIN" diff models/zero models/zero
if [ $rc -eq 0 ] && [ "$(tensor_lines | awk '$2 == "1.000000" && $3 == "0.000e+00"' | wc -l)" -eq 39 ]; then
    ok "diff: two all-zero tensors are identical"
else bad "diff: two all-zero tensors are identical"; fi

D=$ROOT/tests/golden/data
run "$BIN" diff "$D/int_a.safetensors" "$D/int_b.safetensors"
if [ $rc -eq 0 ] && has out '^model.position_ids  *-  *-  (I64: differs)$' &&
   has out '^  1 non-float tensor, 1 differs$'; then
    ok "diff: integer tensors compared for equality"
else bad "diff: integer tensors compared for equality"; fi
run "$BIN" diff "$D/nan.safetensors" "$D/clean.safetensors"
if [ $rc -eq 0 ] && has out '^model.norm.weight  *nan  *nan$'; then ok "diff: NaN in the data shows as nan"
else bad "diff: NaN in the data shows as nan"; fi

run "$BIN" diff models/base models/wide
if [ $rc -eq 1 ] && [ ! -s out ] &&
   has err "tensor 'model.embed_tokens.weight' has shape \[64, 32\] in models/base/model.safetensors but \[64, 48\] in models/wide/model.safetensors" &&
   has err 'and 34 more tensors with different shapes'; then
    ok "diff: a shape mismatch is exit 1, naming the tensor and both files"
else bad "diff: a shape mismatch is exit 1, naming the tensor and both files"; fi
run "$BIN" diff models/base models/missing
if [ $rc -eq 1 ] && has err 'models/missing'; then ok "diff: missing checkpoint is exit 1, named"
else bad "diff: missing checkpoint is exit 1, named"; fi
run "$BIN" diff models/garbage.safetensors models/base
if [ $rc -eq 1 ] && has err 'models/garbage.safetensors'; then ok "diff: bad checkpoint is exit 1, named"
else bad "diff: bad checkpoint is exit 1, named"; fi
run "$BIN" diff models/base
expect_rc "diff: one checkpoint is a usage error" 2
run "$BIN" diff models/base models/ft1 models/ft1
expect_rc "diff: three checkpoints is a usage error" 2
run "$BIN" diff models/base models/ft1 --tensors
expect_rc "diff: unknown option is a usage error" 2

# Bounded memory: tensors of 15 MB each (float32); reading them whole (or
# keeping their pages mapped) would take over 30 MB, chunked reading ~11 MB.
# AddressSanitizer builds are recognised by not starting under a ulimit -v
# (their shadow memory), and skipped: their RSS means something else.
if [ -x /usr/bin/time ] && sh -c 'ulimit -v 4000000 && exec "$0" --version' "$BIN" >/dev/null 2>&1; then
    "$B/mkmodel" big1 --layers 1 --vocab 60000 --hidden 64 --seed 1 >/dev/null &&
    "$B/mkmodel" big2 --layers 1 --vocab 60000 --hidden 64 --seed 2 --finetune-of 1 --delta 0.01 >/dev/null
    /usr/bin/time -f 'maxrss %M' "$BIN" diff big1 big2 --summary >out 2>err
    rc=$?
    kb=$(sed -n 's/^maxrss //p' err)
    if [ $rc -eq 0 ] && [ -n "$kb" ] && [ "$kb" -lt 24000 ]; then ok "diff: peak memory ${kb} KB for 15 MB tensors"
    else bad "diff: peak memory ${kb:-?} KB for 15 MB tensors (limit 24000)"; fi
    rm -rf big1 big2
else
    ok "diff: peak memory (skipped: no /usr/bin/time, or a sanitizer build)"
fi

# ---- fmt ---------------------------------------------------------------------------------
# Every recipe in the tree: formatting is idempotent and keeps the syntax
# tree; a recipe with a syntax error is refused with nothing on stdout.
n_ok=0
n_bad=0
for f in "$ROOT"/examples/*.merge "$ROOT"/examples/lib/*.merge "$ROOT"/stdlib/*.merge \
         "$ROOT"/tests/golden/*.merge "$ROOT"/tests/golden/data/*.merge "$ROOT"/tests/conformance/*/*.merge; do
    [ -f "$f" ] || continue
    rel=${f#"$ROOT"/}
    if ! "$BIN" fmt "$f" >f1 2>ferr; then
        if [ -s f1 ] || ! grep -q 'error:' ferr; then
            n_bad=$((n_bad + 1)); echo "FAIL fmt $rel: failed without a diagnostic, or printed output"; cat ferr
        else
            n_ok=$((n_ok + 1))   # a recipe with a syntax error, on purpose
        fi
        continue
    fi
    "$BIN" fmt - <f1 >f2 2>ferr
    "$BIN" fmt --ast "$f" >t1 2>>ferr
    "$BIN" fmt --ast - <f1 >t2 2>>ferr
    if ! cmp -s f1 f2; then
        n_bad=$((n_bad + 1)); echo "FAIL fmt $rel: not idempotent"; diff f1 f2 | head -n 20
    elif ! cmp -s t1 t2 || [ ! -s t1 ]; then
        n_bad=$((n_bad + 1)); echo "FAIL fmt $rel: the syntax tree changed"
    else
        n_ok=$((n_ok + 1))
    fi
done
if [ $n_bad -eq 0 ] && [ $n_ok -gt 80 ]; then ok "fmt: $n_ok recipes: idempotent, syntax tree unchanged"
else failed=$((failed + n_bad)); echo "FAIL fmt: $n_bad of $((n_ok + n_bad)) recipes"; fi

run "$BIN" fmt --check "$ROOT"/examples/*.merge "$ROOT"/examples/lib/*.merge "$ROOT"/stdlib/*.merge
if [ $rc -eq 0 ] && [ ! -s out ]; then ok "fmt --check: examples and stdlib are formatted"
else bad "fmt --check: examples and stdlib are formatted"; fi

cat >messy.merge <<'EOF'


# leading comment
   # indented comment


import arch;import "lib/x.merge"
param  scale=0.8   # the scale
base=model( "models/base" ) ; math = model('models/math')  # two on a line
x = -1;y=- 2 * -x ; z = not(true)
w=[1,2,3,]
f2 = base[ "lm_head.weight" ]
def f( a,b = 2 ,)= a+b*-(a -b)/2
t = if name~"self_attn"then gradient( [0,0.5,1] )
  else if name ~ "mlp"  then 0.2
      # the rest
         else 0.5



out = task_arithmetic(base,[math,math],
   weights=[1,0.7],   # weights
   lambda=scale)
long = linear(
  [base,
     math],
  weights = [
  0.5,
    # half
      0.5
      ],
)
def g(x) =
  if x > 1 then x
  else -x
y2 = 1 +
   2 -
 3
k = (1)(2)[3]
s = "hé # not a comment" # ü
longer_name = "x"     # aligned
save(out, "out/x")  # trailing
   # end comment

EOF
cat >want <<'EOF'
# leading comment
# indented comment

import arch
import "lib/x.merge"
param scale = 0.8  # the scale
base = model("models/base")
math = model('models/math')  # two on a line
x = -1
y = -2 * -x
z = not (true)
w = [1, 2, 3,]
f2 = base["lm_head.weight"]
def f(a, b = 2,) = a + b * -(a - b) / 2
t = if name ~ "self_attn" then gradient([0, 0.5, 1])
    else if name ~ "mlp" then 0.2
    # the rest
    else 0.5

out = task_arithmetic(base, [math, math],
                      weights = [1, 0.7],  # weights
                      lambda = scale)
long = linear(
    [base,
     math],
    weights = [
        0.5,
        # half
        0.5
    ],
)
def g(x) =
    if x > 1 then x
    else -x
y2 = 1 +
    2 -
    3
k = (1)(2)[3]
s = "hé # not a comment"  # ü
longer_name = "x"     # aligned
save(out, "out/x")  # trailing
# end comment
EOF
run "$BIN" fmt messy.merge
if [ $rc -eq 0 ]; then same "fmt: the canonical layout" want; else bad "fmt: the canonical layout"; fi
cp want formatted.merge
run "$BIN" fmt formatted.merge
same "fmt: formatted text is a fixed point" want
run "$BIN" fmt - <messy.merge
same "fmt -: standard input to standard output" want

printf 'x=1\r\ny = [1,\r\n  2]  # c\r\n' >crlf.merge
printf 'x = 1\ny = [1,\n     2]  # c\n' >want
run "$BIN" fmt crlf.merge
same "fmt: CRLF line ends become LF" want
: >empty.merge
run "$BIN" fmt empty.merge
if [ $rc -eq 0 ] && [ ! -s out ]; then ok "fmt: an empty recipe stays empty"; else bad "fmt: an empty recipe stays empty"; fi

run "$BIN" fmt --check messy.merge formatted.merge
if [ $rc -eq 1 ] && [ "$(cat out)" = messy.merge ]; then ok "fmt --check: names the unformatted file, exit 1"
else bad "fmt --check: names the unformatted file, exit 1"; fi
run "$BIN" fmt --check formatted.merge
if [ $rc -eq 0 ] && [ ! -s out ] && [ ! -s err ]; then ok "fmt --check: a formatted file is exit 0, silent"
else bad "fmt --check: a formatted file is exit 0, silent"; fi

mkdir -p wdir
cp messy.merge wdir/r.merge
cp formatted.merge wdir/done.merge
chmod 640 wdir/r.merge
touch -t 202001010000 wdir/done.merge
before=$(ls -l --time-style=+%s wdir/done.merge | awk '{print $6}')
run "$BIN" fmt -w wdir/r.merge wdir/done.merge
after=$(ls -l --time-style=+%s wdir/done.merge | awk '{print $6}')
mode=$(ls -l wdir/r.merge | cut -c1-10)
left=$(ls -A wdir | grep -v '^r.merge$' | grep -v '^done.merge$')
if [ $rc -eq 0 ] && [ ! -s out ] && cmp -s wdir/r.merge formatted.merge && [ "$mode" = "-rw-r-----" ] &&
   [ "$before" = "$after" ] && [ -z "$left" ]; then
    ok "fmt -w: rewrites in place, keeps the mode, leaves formatted files and nothing else behind"
else echo "  mode $mode, mtime $before -> $after, left: $left"; bad "fmt -w: rewrites in place"; fi
ln -s r.merge wdir/link.merge
cp messy.merge wdir/r.merge
run "$BIN" fmt -w wdir/link.merge
if [ $rc -eq 0 ] && [ -L wdir/link.merge ] && cmp -s wdir/r.merge formatted.merge; then
    ok "fmt -w: a symbolic link is followed, not replaced"
else bad "fmt -w: a symbolic link is followed, not replaced"; fi

printf 'x = [1, 2)\ny=1\n' >broken.merge
cp broken.merge broken.orig
run "$BIN" fmt -w broken.merge
if [ $rc -eq 1 ] && cmp -s broken.merge broken.orig && [ ! -s out ] &&
   has err "broken.merge:1:10: error: expected ']' to close '\[', found ')'"; then
    ok "fmt: a syntax error is reported and nothing changes"
else bad "fmt: a syntax error is reported and nothing changes"; fi
run "$BIN" fmt --check broken.merge
expect_rc "fmt --check: a syntax error is exit 1" 1

run "$BIN" fmt
expect_rc "fmt: no file is a usage error" 2
run "$BIN" fmt --check -w messy.merge
expect_rc "fmt: --check with -w is a usage error" 2
run "$BIN" fmt -w -
expect_rc "fmt: -w with standard input is a usage error" 2
run "$BIN" fmt --wide messy.merge
expect_rc "fmt: unknown option is a usage error" 2
run "$BIN" fmt missing.merge
if [ $rc -eq 1 ] && has err "cannot read 'missing.merge'"; then ok "fmt: an unreadable file is exit 1"
else bad "fmt: an unreadable file is exit 1"; fi

# ---- --help per subcommand ---------------------------------------------------------------
for c in inspect diff fmt; do
    run "$BIN" $c --help
    if [ $rc -eq 0 ] && head -n 1 out | grep -q "^usage: mergelang $c" && has out 'exit status'; then
        ok "$c --help"
    else bad "$c --help"; fi
    run "$BIN" $c -h
    if [ $rc -eq 0 ] && head -n 1 out | grep -q "^usage: mergelang $c"; then ok "$c -h"; else bad "$c -h"; fi
done

# run, check, plan and verify are parsed by main.c; their --help and
# `mergelang help CMD` need the main.c change described with cmd_help.c
# (docs/commands.md): until it is in, these are skipped, not counted.
if "$BIN" help run 2>/dev/null | head -n 1 | grep -q '^usage: mergelang run'; then
    for c in run check plan verify inspect diff fmt repl import-mergekit; do
        run "$BIN" help $c
        if [ $rc -eq 0 ] && head -n 1 out | grep -q "^usage: mergelang $c"; then ok "help $c"; else bad "help $c"; fi
    done
    for c in run check plan verify; do
        run "$BIN" $c --help
        if [ $rc -eq 0 ] && head -n 1 out | grep -q "^usage: mergelang $c" && has out 'exit status'; then
            ok "$c --help"
        else bad "$c --help"; fi
    done
    run "$BIN" help frobnicate
    expect_rc "help of an unknown command is a usage error" 2
else
    echo "skip: run/check/plan/verify --help and 'help CMD' (main.c does not route them yet)"
fi

# ---- bash completion ----------------------------------------------------------------------
COMP=$ROOT/completions/mergelang.bash
if command -v bash >/dev/null 2>&1; then
    mkdir -p cdir/sub
    printf 'param scale = 0.8\n  param  density=0.5\nx = 1\n' >cdir/r.merge
    : >cdir/m.safetensors
    : >cdir/c.yml
    : >cdir/notes.txt
    # complete WORD...: the candidates bash would offer for the last word.
    complete_words() {
        (cd cdir && bash -c '. "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _mergelang
                             printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' "$COMP" "$@")
    }
    # ccheck NAME WANT WORD...
    ccheck() {
        name=$1 want=$2
        shift 2
        got=$(complete_words "$@")
        if [ "$got" = "$want" ]; then ok "completion: $name"; else echo "  got '$got', want '$want'"; bad "completion: $name"; fi
    }
    ccheck "subcommands" "--help --version check diff fmt help import-mergekit inspect plan repl run verify " mergelang ""
    ccheck "subcommand prefix" "import-mergekit inspect " mergelang i
    ccheck "recipes and folders for run" "r.merge sub " mergelang run ""
    ccheck "-D offers the recipe's params" "density= scale= " mergelang run r.merge -D ""
    ccheck "-DNAME form" "-Ddensity= " mergelang check r.merge -Dd
    ccheck "fmt options" "--ast --check --help " mergelang fmt --
    ccheck "diff options" "--summary " mergelang diff --s
    ccheck "checkpoints and folders for inspect" "m.safetensors sub " mergelang inspect ""
    ccheck "YAML for import-mergekit" "c.yml sub " mergelang import-mergekit ""
    ccheck "help takes a subcommand" "diff " mergelang help d
    ccheck "folders for verify" "sub " mergelang verify ""
    if bash -c '. "$0"; complete -p mergelang' "$COMP" 2>/dev/null | grep -q '_mergelang mergelang$'; then
        ok "completion: registered for mergelang"
    else bad "completion: registered for mergelang"; fi
else
    ok "completion (skipped: bash not installed)"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
