# tests/hostile/lib.sh - helpers for the hostile cases, sourced (with set -e)
# before each checkpoints/NAME.sh and recipes/NAME.sh. They run in the work
# folder ($B/hostile-work) with CASE set to the case's name.

# rep N TEXT: TEXT N times, without a newline.
rep() {
    awk -v n="$1" -v t="$2" 'BEGIN { for (i = 0; i < n; i++) printf "%s", t }'
}

# le64 N: N as 8 little-endian bytes (N may be negative: two's complement).
le64() {
    n=$1 i=0 s=
    while [ $i -lt 8 ]; do
        s="$s\\$(printf '%03o' $((n & 255)))"
        n=$((n >> 8))
        i=$((i + 1))
    done
    # shellcheck disable=SC2059 # the format is the octal escapes built above
    printf "$s"
}

# st FILE HEADER DATA_BYTES [HEADER_LENGTH]: a safetensors file with that JSON
# header (its real length unless one is given) and DATA_BYTES zero bytes.
st() {
    { le64 "${4:-${#2}}"; printf '%s' "$2"; head -c "$3" /dev/zero; } > "$1"
}

# T: one good tensor entry (F32, 2 elements, bytes 0 to 8); GOOD: a header
# holding just that tensor, named w.
T='"dtype":"F32","shape":[2],"data_offsets":[0,8]'
GOOD="{\"w\":{$T}}"

# index DIR JSON: a sharded folder with one good shard and that index.
index() {
    mkdir -p "$1"
    st "$1/model-00001-of-00001.safetensors" "$GOOD" 8
    printf '%s' "$2" > "$1/model.safetensors.index.json"
}

# config_recipe: replaces the case's recipe by one that also copies
# ck/CASE/config.json into the output (save(x * 2, ..., config = x)), for
# inputs found only once the output is being written.
config_recipe() {
    printf 'x = model("ck/%s")\nsave(x * 2, "out/%s", config = x)\n' "$CASE" "$CASE" > "$CASE.merge"
}

# skip REASON: the case cannot run on this machine (no mkfifo, ...): it is
# counted as passed, with the reason.
skip() {
    echo "$*" >&2
    exit 77
}

# torchbin KIND: ck/CASE as a folder whose pytorch_model.bin is a broken
# PyTorch checkpoint of that kind (tests/torchbin/make_torch_bin.py hostile).
torchbin() {
    mkdir -p "ck/$CASE"
    python3 "$HERE/../torchbin/make_torch_bin.py" hostile "$1" "ck/$CASE/pytorch_model.bin"
}
