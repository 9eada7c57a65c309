#!/bin/sh
# tools/bench.sh - `make bench`: merges of synthetic 1B-parameter bf16
# checkpoints, each timed against the I/O floor measured in the same run.
#
# Generates once (cached in $BENCH_DIR, default build/bench-models, outside
# git) a Llama-shaped base (hidden 2048, intermediate 5632, 22 blocks,
# vocabulary 32000: 1.1B parameters, 2.2 GB in bf16, three 1 GB shards) and
# three fine-tunes (base + small dense deltas), plus a 44-block set (twice
# the size) for the memory check. For each recipe: wall time, input GB/s,
# peak RSS, and the ratio to the floor (reading every input byte once and
# writing the output once with read/write, fsync'd), warm page cache. Checks
# that -j1 and -jN give byte-identical output. Writes docs/performance.md.
set -eu
BUILD=${1:-build}
B=$(cd "$BUILD" && pwd)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
M=${BENCH_DIR:-$B/bench-models}
OUT=$B/bench-out
J=$(nproc)
SHAPE="--hidden 2048 --intermediate 5632 --vocab 32000 --kv-hidden 256 --dtype bfloat16 --shard 1GB"
mkdir -p "$M" "$OUT"
# Input hashes (for provenance) are remembered between runs, as they are
# for a user; the cache starts empty, and one run below has it turned off.
MERGELANG_CACHE_DIR=$OUT/hash-cache
rm -rf "$MERGELANG_CACHE_DIR"
export MERGELANG_CACHE_DIR

gen() {  # name layers seed [finetune-of]
    [ -f "$M/$1/.done" ] && return 0
    rm -rf "$M/$1"
    if [ -n "${4:-}" ]; then
        "$B/mkmodel" "$M/$1" --layers "$2" --seed "$3" --finetune-of "$4" --delta 0.003 $SHAPE >/dev/null
    else
        "$B/mkmodel" "$M/$1" --layers "$2" --seed "$3" $SHAPE >/dev/null
    fi
    touch "$M/$1/.done"
}
echo "generating models in $M (once)..."
gen base 22 1 & gen ft1 22 2 1 & wait
gen ft2 22 3 1 & gen ft3 22 4 1 & wait

bytes_of() { cat "$@" 2>/dev/null | wc -c; }
inputs_of() { for m in "$@"; do ls "$M/$m"/*.safetensors; done; }

# recipe text for each benchmark: name | models read | recipe body
cat > "$OUT/recipes.txt" <<'RECIPES'
linear|ft1 ft2 ft3|save(linear([ft1, ft2, ft3]), out, dtype = "bfloat16")
task_arithmetic|base ft1 ft2 ft3|save(task_arithmetic(base, [ft1, ft2, ft3], weights = [0.5, 0.3, 0.2]), out, dtype = "bfloat16")
ties|base ft1 ft2 ft3|save(ties(base, [ft1, ft2, ft3], density = 0.5), out, dtype = "bfloat16")
dare_ties|base ft1 ft2 ft3|save(dare_ties(base, [ft1, ft2, ft3], density = 0.5, seed = 1), out, dtype = "bfloat16")
slerp|base ft1|save(slerp(base, ft1, t = 0.4), out, dtype = "bfloat16")
conditional|base ft1 ft2|save(if name ~ "self_attn" then slerp(base, ft1, t = gradient([0, 1])) else linear([ft1, ft2]), out, dtype = "bfloat16")
frankenmerge|ft1 ft2|save(stack(layers(ft1, 0, 14), layers(ft2, 8, 22)), out, dtype = "bfloat16")
RECIPES

ROUNDS=${BENCH_ROUNDS:-3}

floor_once() {  # sync|nosync out_bytes inputs...: seconds
    mode=$1; shift
    sync
    if [ "$mode" = nosync ]; then set -- --no-sync "$OUT" "$@"; else set -- "$OUT" "$@"; fi
    "$B/iofloor" "$@" | sed 's/.* in \([0-9.]*\) seconds/\1/'
}

# run NAME MODELS BODY JOBS DIR -> "seconds peak_rss_kb peak_anon_mb cpu_seconds"
run() {
    name=$1; models=$2; body=$3; jobs=$4; dir=$5
    rec="$OUT/$name.merge"
    { for m in $models; do echo "$m = model(\"$M/$m\")"; done
      echo "param out = \"$dir\""
      echo "$body"; } > "$rec"
    sync
    /usr/bin/time -f "%e %M %U %S" -o "$OUT/time.txt" "$B/mergelang" run "$rec" --json --force -j "$jobs" -D "out=$dir" \
        > "$OUT/summary.json"
    anon=$(sed 's/.*"peak_anon_mb": \([0-9.]*\).*/\1/' "$OUT/summary.json")
    awk -v a="$anon" '{ printf "%s %s %s %.2f\n", $1, $2, a, $3 + $4 }' "$OUT/time.txt"
}

min() { awk -v a="$1" -v b="$2" 'BEGIN { print (b == "" || a < b) ? a : b }'; }
max() { awk -v a="$1" -v b="$2" 'BEGIN { print (b == "" || a > b) ? a : b }'; }

HOST="$(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
TABLE="$OUT/table.md"
{
echo "| recipe | inputs GB | output GB | time s | CPU s | floor s | ratio | page-cache floor s | ratio | input GB/s | peak RSS MB | peak anon MB |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
} > "$TABLE"
identical=yes
while IFS='|' read -r name models body; do
    cat $(inputs_of $models) > /dev/null   # warm the page cache
    in_bytes=$(bytes_of $(inputs_of $models))
    secs=""; fl=""; pc=""; cpu=""; rss_kb=""; anon=""
    # Floors and merge alternate, best of ROUNDS each: the write-back of
    # earlier output makes single runs of either vary by a factor of 3.
    for _ in $(seq "$ROUNDS"); do
        set -- $(run "$name" "$models" "$body" "$J" "$OUT/$name")
        secs=$(min "$1" "$secs"); rss_kb=$(max "$2" "$rss_kb"); anon=$(max "$3" "$anon"); cpu=$(min "$4" "$cpu")
        out_bytes=$(bytes_of "$OUT/$name"/*.safetensors)
        fl=$(min "$(floor_once sync "$out_bytes" $(inputs_of $models))" "$fl")
        pc=$(min "$(floor_once nosync "$out_bytes" $(inputs_of $models))" "$pc")
    done
    ratio=$(awk -v a="$secs" -v b="$fl" 'BEGIN { printf "%.2f", a / b }')
    pratio=$(awk -v a="$secs" -v b="$pc" 'BEGIN { printf "%.2f", a / b }')
    awk -v n="$name" -v i="$in_bytes" -v o="$out_bytes" -v s="$secs" -v c="$cpu" -v f="$fl" -v r="$ratio" \
        -v p="$pc" -v pr="$pratio" -v m="$rss_kb" -v an="$anon" \
        'BEGIN { printf "| %s | %.1f | %.1f | %.2f | %.1f | %.2f | %s | %.2f | %s | %.2f | %d | %.0f |\n", n, i / 1e9, o / 1e9, s, c, f, r, p, pr, i / s / 1e9, m / 1024, an }' \
        >> "$TABLE"
    echo "$name: ${secs}s (CPU ${cpu}s), floor ${fl}s (ratio $ratio), page-cache floor ${pc}s (ratio $pratio), peak RSS $((rss_kb / 1024)) MB, peak anonymous ${anon} MB"
    if [ "$name" = ties ] || [ "$name" = dare_ties ] || [ "$name" = conditional ]; then
        run "$name" "$models" "$body" 1 "$OUT/$name-j1" > /dev/null
        if "$B/stcompare" "$OUT/$name" "$OUT/$name-j1" --identical > /dev/null; then
            echo "$name: -j1 and -j$J outputs are byte-identical"
        else
            echo "$name: -j1 and -j$J outputs DIFFER"; identical=no
        fi
        rm -rf "$OUT/$name-j1"
    fi
    rm -rf "$OUT/$name"
done < "$OUT/recipes.txt"

# what hashing inputs for provenance costs when they are new to the cache
lin_body=$(sed -n 's/^linear|[^|]*|//p' "$OUT/recipes.txt")
set -- $(export MERGELANG_CACHE_DIR=; run linear "ft1 ft2 ft3" "$lin_body" "$J" "$OUT/linear-cold")
cold="$1 s (CPU $4 s)"
rm -rf "$OUT/linear-cold"
echo "linear of 3 with its inputs hashed (no hash cache): $cold"

# memory does not grow with model size: the same merges on 44 blocks
gen base44 44 1 & gen ft1_44 44 2 1 & wait
gen ft2_44 44 3 1
mem_of() {  # name models body -> "rss_mb anon_mb"
    # Hash cache off: both sets are hashed (through mappings, counted in RSS)
    set -- $(export MERGELANG_CACHE_DIR=; run "$1" "$2" "$3" "$J" "$OUT/$1")
    rm -rf "$OUT/$1"
    echo "$(($2 / 1024)) $3"
}
set -- $(mem_of linear44 "ft1_44 ft2_44" 'save(linear([ft1_44, ft2_44]), out, dtype = "bfloat16")'); l44="$1 MB ($2 MB anonymous)"
set -- $(mem_of linear22 "ft1 ft2" 'save(linear([ft1, ft2]), out, dtype = "bfloat16")'); l22="$1 MB ($2 MB anonymous)"
set -- $(mem_of ties44 "base44 ft1_44 ft2_44" 'save(ties(base44, [ft1_44, ft2_44], density = 0.5), out, dtype = "bfloat16")'); t44="$1 MB ($2 MB anonymous)"
set -- $(mem_of ties22 "base ft1 ft2" 'save(ties(base, [ft1, ft2], density = 0.5), out, dtype = "bfloat16")'); t22="$1 MB ($2 MB anonymous)"
echo "peak RSS, linear of 2: $l22 on the 1.1B set, $l44 on the 2.2B set"
echo "peak RSS, ties of 2: $t22 on the 1.1B set, $t44 on the 2.2B set"

{
echo "<!-- written by tools/bench.sh (make bench); edit the text around it in tools/bench.sh -->"
echo "# Performance"
echo
echo "Measured by \`make bench\` on $(date -u +%Y-%m-%d): $HOST; -j $J."
echo "Inputs: synthetic Llama-shaped bf16 checkpoints, 1.1B parameters"
echo "(hidden 2048, intermediate 5632, 22 blocks, vocabulary 32000), 2.2 GB in"
echo "three shards each; page cache warm. The floor is reading every input byte"
echo "once and writing the output once with read/write, fsync'd as the merge's"
echo "output is, so it includes waiting for the disk; the page-cache floor is the"
echo "same without fsync (the copies alone). Both are measured in the same run,"
echo "alternating with the merge, best of $ROUNDS each; ratio = time / floor. CPU s"
echo "is user + system time of the merge (best run)."
echo "Peak RSS counts input pages the process maps (headers); peak anonymous"
echo "memory (sampled RssAnon) is the process's own."
echo
cat "$TABLE"
echo
echo "Input hashes come from the hash cache (the first run of each recipe fills"
echo "it): linear of 3 with its 6.6 GB of inputs hashed afresh took $cold."
echo
echo "-j1 and -j$J outputs byte-identical (ties, dare_ties, conditional): $identical."
echo "Peak RSS, linear of 2 models: $l22 on the 1.1B set, $l44 on a 2.2B set (44 blocks)."
echo "Peak RSS, ties of 2 models: $t22 on the 1.1B set, $t44 on the 2.2B set."
echo
cat "$ROOT/docs/performance-notes.md"
} > "$ROOT/docs/performance.md"
echo "wrote docs/performance.md"
