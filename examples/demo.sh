#!/bin/sh
# examples/demo.sh - generates small Llama-shaped models (deterministic, no
# download) into examples/models and runs every example recipe on them.
# Usage: sh examples/demo.sh [build-folder]
set -eu
BUILD=${1:-build}
cd "$(dirname "$0")/.."
M=examples/models
if [ ! -f "$M/.done" ]; then
    rm -rf "$M" && mkdir -p "$M"
    "$BUILD/mkmodel" "$M/base" --seed 1 --layers 6
    "$BUILD/mkmodel" "$M/math" --seed 2 --finetune-of 1 --delta 0.02 --layers 6
    "$BUILD/mkmodel" "$M/code" --seed 3 --finetune-of 1 --delta 0.02 --layers 6 --dtype bfloat16 --shard 40KB
    "$BUILD/mkmodel" "$M/chat" --seed 4 --finetune-of 1 --delta 0.02 --layers 6
    touch "$M/.done"
fi
# math with each block's hidden units shuffled, for rebasin.merge
if [ ! -f "$M/math-shuffled/config.json" ]; then
    "$BUILD/mkmodel" "$M/math-shuffled" --seed 2 --finetune-of 1 --delta 0.02 --layers 6 --permute 11 --force
fi
mkdir -p examples/out
for r in examples/*.merge; do
    echo "== $r"
    "$BUILD/mergelang" run "$r" --force
done
echo "== outputs"
ls -l examples/out/*
echo "== task arithmetic by hand vs built-in"
"$BUILD/stcompare" examples/out/tasks-by-hand examples/out/tasks-builtin --atol 1e-6 --rtol 1e-5
echo "== distance to the average of the unshuffled models: re-basin merge, then plain averaging"
"$BUILD/stcompare" examples/out/rebasin examples/out/rebasin-ideal | tail -n 1
"$BUILD/stcompare" examples/out/rebasin-naive examples/out/rebasin-ideal | tail -n 1
