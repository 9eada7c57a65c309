#!/bin/sh
# tests/run.sh - runs every test and ends with the line "N passed, M failed".
#
#  unit         build/tests/test_* binaries (each prints "P passed, F failed")
#  golden       tests/golden/NAME.merge run by the binary from tests/golden:
#                 "# args: check -D x=1" on a line of the recipe sets the
#                 command (default "run"); NAME.out is the expected stdout +
#                 stderr followed by "exit: N"; NAME.check, when present, is a
#                 shell script run afterwards that must succeed (it inspects
#                 out/ with $STCOMPARE and ordinary tools; a command
#                 expected to fail is written "! cmd || exit 1", since
#                 set -e ignores a command negated with !).
#  conformance  tests/conformance/CASE/recipe.merge run in its folder, output
#               compared with expected.safetensors by stcompare using the
#               tolerances in compare.args (from the case's case.json), or,
#               for the random methods (no compare.args), checked against the
#               properties in case.json by stprops.
#
#  suites       every tests/SUITE/run.sh (REPL transcripts, mergekit import,
#               hostile inputs, ...): run with BIN, STCOMPARE and B (the build
#               folder) in the environment; each ends with "P passed, F failed".
#
# ONLY=unit|golden|conformance|SUITE runs one group. Test models are generated
# into $BUILD/test-models by build/mkmodel (deterministic).
set -u
BUILD=${BUILD:-build}
ONLY=${ONLY:-}
VALGRIND=${VALGRIND:-}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$ROOT/$BUILD
BIN=$B/mergelang
STCOMPARE=$B/stcompare
export STCOMPARE BIN
# Input hashes remembered between runs go to a fresh folder of the build,
# never to the home folder.
MERGELANG_CACHE_DIR=$B/test-cache
rm -rf "$MERGELANG_CACHE_DIR"
export MERGELANG_CACHE_DIR
passed=0
failed=0

ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }

# ---- unit ------------------------------------------------------------------
if [ -z "$ONLY" ] || [ "$ONLY" = unit ]; then
    for t in "$B"/tests/test_*; do
        [ -x "$t" ] || continue
        out=$("$t" 2>&1)
        rc=$?
        last=$(printf '%s\n' "$out" | tail -n 1)
        p=$(printf '%s\n' "$last" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
        f=$(printf '%s\n' "$last" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
        if [ -z "$p" ]; then
            printf '%s\n' "$out" | tail -n 20
            bad "$(basename "$t") (crashed or printed no summary, exit $rc)"
            continue
        fi
        passed=$((passed + p))
        failed=$((failed + f))
        if [ "$rc" -ne 0 ] || [ "$f" -ne 0 ]; then
            printf '%s\n' "$out" | grep -v '^ok ' | sed "s|^|  $(basename "$t"): |"
            [ "$f" -eq 0 ] && bad "$(basename "$t") exited $rc"
        fi
    done
fi

# ---- test models ---------------------------------------------------------------
make_models() {
    M=$B/test-models
    [ -f "$M/.done" ] || make_base_models || return 1
    [ -f "$M/.done-align" ] || make_align_models || return 1
    [ -f "$M/.done-fp8" ] || make_fp8_models
    [ -f "$M/.done-torch" ] || make_torch_models
    [ -f "$M/.done-archs" ] || make_arch_models
}
# PyTorch .bin copies of two models, written without torch by
# tests/torchbin/make_torch_bin.py (python3, standard library only): ft2 as
# one pytorch_model.bin, the bf16 ft1 in 3 shards with its index.
make_torch_models() {
    rm -rf "$M/ft2-torch" "$M/ft1-bf16-torch-sharded" &&
    python3 "$ROOT/tests/torchbin/make_torch_bin.py" convert "$M/ft2" "$M/ft2-torch" &&
    python3 "$ROOT/tests/torchbin/make_torch_bin.py" convert "$M/ft1-bf16-sharded" "$M/ft1-bf16-torch-sharded" --shards 3 &&
    touch "$M/.done-torch"
}
# Other architectures' names and config.json (mkmodel --layout): GPT-2
# (transformer.h.N, n_layer) and a Gemma 3 style vision-language model
# (4 text blocks in text_config, a 2-block vision tower), with a fine-tune.
make_arch_models() {
    "$B/mkmodel" "$M/gpt2" --layout gpt2 --seed 31 --force &&
    "$B/mkmodel" "$M/vlm" --layout vlm --seed 32 --force &&
    "$B/mkmodel" "$M/vlm-ft" --layout vlm --seed 33 --finetune-of 32 --delta 0.01 --force &&
    touch "$M/.done-archs"
}
make_base_models() {
    rm -rf "$M" && mkdir -p "$M" || return 1
    "$B/mkmodel" "$M/base" --seed 1 &&
    "$B/mkmodel" "$M/ft1" --seed 2 --finetune-of 1 --delta 0.01 &&
    "$B/mkmodel" "$M/ft2" --seed 3 --finetune-of 1 --delta 0.01 &&
    "$B/mkmodel" "$M/ft1-bf16-sharded" --seed 2 --finetune-of 1 --delta 0.01 --dtype bfloat16 --shard 20KB &&
    "$B/mkmodel" "$M/wide" --seed 4 --hidden 48 &&
    "$B/mkmodel" "$M/ft2-bf16" --seed 3 --finetune-of 1 --delta 0.01 --dtype bfloat16 &&
    "$B/mkmodel" "$M/ft1-vocab80" --seed 2 --finetune-of 1 --delta 0.01 --vocab 80 &&
    "$B/mkmodel" "$M/big1" --seed 5 --layers 1 --vocab 70000 &&
    "$B/mkmodel" "$M/big2" --seed 6 --finetune-of 5 --delta 0.01 --layers 1 --vocab 70000 &&
    touch "$M/.done"
}
# 8-bit float models (tests/golden/fp8_*.merge): fine-tunes of seed 1 in
# float8_e4m3fn and float8_e5m2, with deltas large enough to survive FP8's
# rounding.
make_fp8_models() {
    "$B/mkmodel" "$M/fp8-base" --seed 1 --dtype float8_e4m3fn --force &&
    "$B/mkmodel" "$M/fp8-ft1" --seed 2 --finetune-of 1 --delta 0.05 --dtype float8_e4m3fn --force &&
    "$B/mkmodel" "$M/fp8-ft2" --seed 3 --finetune-of 1 --delta 0.05 --dtype float8_e4m3fn --force &&
    "$B/mkmodel" "$M/e5m2-ft2" --seed 3 --finetune-of 1 --delta 0.05 --dtype float8_e5m2 --force &&
    "$B/mkmodel" "$M/bf16-ft2" --seed 3 --finetune-of 1 --delta 0.05 --dtype bfloat16 --force &&
    touch "$M/.done-fp8"
}
# For align(): models with hidden units shuffled (mkmodel --permute): the
# default shape, 8 heads with Qwen2-style q/k/v biases, and a fine-tune of a
# grouped-query model (8 heads sharing 4 key/value heads); and a folder
# without config.json.
make_align_models() {
    "$B/mkmodel" "$M/perm" --seed 1 --permute 7 --force &&
    "$B/mkmodel" "$M/mha" --seed 21 --hidden 64 --kv-hidden 64 --intermediate 96 --layers 3 --qkv-bias --force &&
    "$B/mkmodel" "$M/mha-perm" --seed 21 --hidden 64 --kv-hidden 64 --intermediate 96 --layers 3 --qkv-bias \
        --permute 9 --force &&
    "$B/mkmodel" "$M/gqa" --seed 22 --hidden 64 --kv-hidden 32 --layers 3 --force &&
    "$B/mkmodel" "$M/gqa-ft" --seed 23 --finetune-of 22 --delta 0.002 --hidden 64 --kv-hidden 32 --layers 3 --force &&
    "$B/mkmodel" "$M/gqa-ft-perm" --seed 23 --finetune-of 22 --delta 0.002 --hidden 64 --kv-hidden 32 --layers 3 \
        --permute 10 --force &&
    rm -rf "$M/noconfig" && mkdir -p "$M/noconfig" && cp "$M/mha/model.safetensors" "$M/noconfig/" &&
    touch "$M/.done-align"
}

# ---- golden ------------------------------------------------------------------------
if [ -z "$ONLY" ] || [ "$ONLY" = golden ]; then
    if ! make_models; then
        bad "generating test models"
    else
        G=$ROOT/tests/golden
        GOUT=$B/golden-out
        ln -sfn "$B/test-models" "$G/models"
        for recipe in "$G"/*.merge; do
            name=$(basename "$recipe" .merge)
            rm -rf "$GOUT" && mkdir -p "$GOUT"
            ln -sfn "$GOUT" "$G/out"
            args=$(sed -n 's/^# args: //p' "$recipe" | head -n 1)
            [ -n "$args" ] || args=run
            # shellcheck disable=SC2086
            # VALGRIND (make valgrind) wraps the binary; any report changes the output
            got=$(cd "$G" && $VALGRIND "$BIN" $args "$name.merge" 2>&1; echo "exit: $?")
            if [ -f "$G/$name.out" ]; then
                want=$(cat "$G/$name.out")
                if [ "$got" != "$want" ]; then
                    echo "--- expected ($name.out)"; printf '%s\n' "$want"
                    echo "--- got"; printf '%s\n' "$got"
                    bad "golden $name"
                    continue
                fi
            else
                echo "--- got"; printf '%s\n' "$got"
                bad "golden $name has no $name.out"
                continue
            fi
            if [ -f "$G/$name.check" ]; then
                if ! (cd "$G" && sh "./$name.check"); then
                    bad "golden $name ($name.check)"
                    continue
                fi
            fi
            ok
        done
        rm -f "$G/out" "$G/models"
    fi
fi

# ---- conformance -----------------------------------------------------------------------
if [ -z "$ONLY" ] || [ "$ONLY" = conformance ]; then
    COUT=$B/conformance-out
    rm -rf "$COUT" && mkdir -p "$COUT"
    for dir in "$ROOT"/tests/conformance/*/; do
        case_name=$(basename "$dir")
        out=$(cd "$dir" && "$BIN" run recipe.merge -q -D "out=$COUT/$case_name" 2>&1)
        rc=$?
        if [ $rc -ne 0 ]; then
            printf '%s\n' "$out"
            bad "conformance $case_name (mergelang exited $rc)"
            continue
        fi
        if [ -f "$dir/compare.args" ]; then
            # shellcheck disable=SC2046
            res=$(cd "$dir" && "$STCOMPARE" "$COUT/$case_name" expected.safetensors $(cat compare.args) 2>&1)
        else
            # random methods: the properties listed in case.json
            res=$("$B/stprops" "$dir" "$COUT/$case_name" 2>&1)
        fi
        if [ $? -ne 0 ]; then
            printf '%s\n' "$res"
            bad "conformance $case_name"
            continue
        fi
        echo "conformance $case_name: $(printf '%s\n' "$res" | tail -n 1)"
        ok
        # The same case with every tensor split into row ranges of 16
        # entries, streamed methods taking their statistics passes: the
        # output must be the same bytes as the whole-tensor run.
        out=$(cd "$dir" && MERGELANG_CHUNK_ENTRIES=16 "$BIN" run recipe.merge -q -j 3 -D "out=$COUT/$case_name-ranges" 2>&1)
        if [ $? -ne 0 ] || ! res=$("$STCOMPARE" "$COUT/$case_name" "$COUT/$case_name-ranges" --identical 2>&1); then
            printf '%s\n%s\n' "$out" "$res"
            bad "conformance $case_name in row ranges"
            continue
        fi
        ok
    done
fi

# ---- suites ------------------------------------------------------------------------------
for script in "$ROOT"/tests/*/run.sh; do
    [ -f "$script" ] || continue
    suite=$(basename "$(dirname "$script")")
    [ -z "$ONLY" ] || [ "$ONLY" = "$suite" ] || continue
    out=$(B=$B sh "$script" 2>&1)
    rc=$?
    last=$(printf '%s\n' "$out" | tail -n 1)
    p=$(printf '%s\n' "$last" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
    f=$(printf '%s\n' "$last" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
    if [ -z "$p" ]; then
        printf '%s\n' "$out" | tail -n 30
        bad "suite $suite (no summary, exit $rc)"
        continue
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$f" -ne 0 ] || [ "$rc" -ne 0 ]; then
        printf '%s\n' "$out" | grep -v '^ok ' | sed "s|^|  $suite: |"
        [ "$f" -eq 0 ] && bad "suite $suite exited $rc"
    fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
