#!/bin/sh
# tests/hostile/run.sh - hostile checkpoints and hostile recipes through the
# binary; run by tests/run.sh (BIN and B in the environment), ends with
# "P passed, F failed". docs/hardening.md lists the cases and their messages.
#
# Checkpoints: every case below builds one broken input under ck/ (tiny
# files written with printf; no generator needed) and runs
#     x = model("ck/CASE")
#     save(x, "out/CASE")
# expecting the exact message in expected/CASE.out (stderr, then "exit: N"),
# a non-zero exit, and an out/ folder left empty: no output and no temporary
# folder behind.
#
# Recipes: each case writes a recipe (deep nesting, huge literals, long lines,
# NUL bytes, invalid UTF-8, endless recursion, self-import, imports of things
# that are not readable recipes, ...) and runs it under `timeout 20` and a
# 4 GB address-space limit (skipped for sanitizer builds, whose shadow memory
# needs more), expecting expected/CASE.out and the same empty out/.
#
# UPDATE=1 rewrites the expected files from the current output (review the
# diff before committing).
set -u
LC_ALL=C
export LC_ALL
unset MERGELANG_PATH
HERE=$(cd "$(dirname "$0")" && pwd)
B=${B:-$(cd "$HERE/../.." && pwd)/build}
BIN=${BIN:-$B/mergelang}
EXP=$HERE/expected
W=$B/hostile-work
UPDATE=${UPDATE:-}
passed=0
failed=0

rm -rf "$W"
mkdir -p "$W/ck" "$W/out" "$EXP" || exit 1
cd "$W" || exit 1

# An address-space limit bounds memory, but AddressSanitizer reserves
# terabytes of shadow memory and cannot start under one.
LIMIT_KB=4000000
# shellcheck disable=SC3045 # ulimit -v: dash and bash have it; the probe copes
if ! (ulimit -v $LIMIT_KB && "$BIN" --version) >/dev/null 2>&1; then LIMIT_KB=; fi

# ---- writing safetensors files by hand ---------------------------------------

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

T='"dtype":"F32","shape":[2],"data_offsets":[0,8]'
GOOD="{\"w\":{$T}}"

# index DIR JSON: a sharded folder with one good shard and that index.
index() {
    mkdir -p "$1"
    st "$1/model-00001-of-00001.safetensors" "$GOOD" 8
    printf '%s' "$2" > "$1/model.safetensors.index.json"
}

# ---- running a case --------------------------------------------------------------

check_case() {
    name=$1 got=$2
    if [ -n "$UPDATE" ]; then
        printf '%s\n' "$got" > "$EXP/$name.out"
    fi
    if [ ! -f "$EXP/$name.out" ]; then
        echo "--- got"; printf '%s\n' "$got"
        echo "FAIL $name (no expected/$name.out)"
        failed=$((failed + 1))
        return
    fi
    want=$(cat "$EXP/$name.out")
    left=$(ls -A out)
    rc=$(printf '%s\n' "$got" | sed -n 's/^exit: //p' | tail -n 1)
    if [ "$got" != "$want" ]; then
        echo "--- expected ($name.out)"; printf '%s\n' "$want"
        echo "--- got"; printf '%s\n' "$got"
        echo "FAIL $name"
        failed=$((failed + 1))
    elif [ "$rc" = 0 ]; then
        echo "FAIL $name (exit 0)"
        failed=$((failed + 1))
    elif [ -n "$left" ]; then
        echo "FAIL $name (left behind in out/: $left)"
        failed=$((failed + 1))
    else
        echo "ok $name"
        passed=$((passed + 1))
    fi
    rm -rf out && mkdir out
}

# run_recipe NAME FILE: runs the recipe with bounded time and memory.
run_recipe() {
    got=$(
        # shellcheck disable=SC3045
        if [ -n "$LIMIT_KB" ]; then ulimit -v $LIMIT_KB; fi
        timeout 20 "$BIN" run "$2" 2>&1
        echo "exit: $?"
    )
    check_case "$1" "$got"
}

# ckpt NAME: the recipe opening ck/NAME.
ckpt() {
    printf 'x = model("ck/%s")\nsave(x, "out/%s")\n' "$1" "$1" > "$1.merge"
    run_recipe "$1" "$1.merge"
}

# ---- hostile checkpoints ------------------------------------------------------------

: > ck/empty_file
ckpt empty_file
printf '\010\000\000\000\000' > ck/truncated_length
ckpt truncated_length
st ck/truncated_data "$GOOD" 5
ckpt truncated_data
st ck/header_past_end "$GOOD" 8 1000
ckpt header_past_end
st ck/header_length_max "$GOOD" 8 -1
ckpt header_length_max
# 150 MB, sparse: a header length within the file but over the 100 MB limit
st ck/header_over_limit "$GOOD" 0 120000000
dd if=/dev/zero of=ck/header_over_limit bs=1 count=0 seek=150000000 2>/dev/null
ckpt header_over_limit
st ck/header_not_json '{"w": {"dtype": "F32", "shape": [2], oops}}' 8
ckpt header_not_json
st ck/header_not_object '[1, 2, 3]' 0
ckpt header_not_object
st ck/header_trailing_data "$GOOD garbage" 8
ckpt header_trailing_data
st ck/header_bad_utf8 "{\"w$(printf '\377')\":{$T}}" 8
ckpt header_bad_utf8
st ck/duplicate_name "{\"w\":{$T},\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}" 16
ckpt duplicate_name
st ck/offsets_out_of_range '{"w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}' 8
ckpt offsets_out_of_range
st ck/offsets_reversed '{"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}' 8
ckpt offsets_reversed
st ck/offsets_overlap "{\"a\":{$T},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}" 12
ckpt offsets_overlap
st ck/offsets_negative '{"w":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}}' 8
ckpt offsets_negative
st ck/size_mismatch '{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}' 8
ckpt size_mismatch
st ck/shape_overflow '{"w":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,8]}}' 8
ckpt shape_overflow
st ck/shape_negative '{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}' 8
ckpt shape_negative
st ck/shape_not_integer '{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,8]}}' 8
ckpt shape_not_integer
st ck/shape_huge_number '{"w":{"dtype":"F32","shape":[1e300],"data_offsets":[0,8]}}' 8
ckpt shape_huge_number
st ck/rank_too_large '{"w":{"dtype":"F32","shape":[1,1,1,1,1,1,1,1,2],"data_offsets":[0,8]}}' 8
ckpt rank_too_large
st ck/unknown_dtype '{"w":{"dtype":"F24","shape":[2],"data_offsets":[0,6]}}' 6
ckpt unknown_dtype
st ck/dtype_not_string '{"w":{"dtype":32,"shape":[2],"data_offsets":[0,8]}}' 8
ckpt dtype_not_string
st ck/entry_not_object '{"w":[0,8]}' 8
ckpt entry_not_object
st ck/entry_missing_offsets '{"w":{"dtype":"F32","shape":[2]}}' 8
ckpt entry_missing_offsets
st ck/name_too_long "{\"$(rep 300 w)\":{$T}}" 8
ckpt name_too_long
st ck/name_with_escapes "{\"\\u001b]0;owned\\u0007\\u001b[2J\":{$T},\"\\u001b]0;owned\\u0007\\u001b[2J\":{$T}}" 8
ckpt name_with_escapes
st ck/metadata_not_strings "{\"__metadata__\":{\"format\":1},\"w\":{$T}}" 8
ckpt metadata_not_strings

index ck/index_tensor_name_too_long "{\"weight_map\":{\"$(rep 300 w)\":\"model-00001-of-00001.safetensors\"}}"
ckpt index_tensor_name_too_long
index ck/index_shard_name_too_long "{\"weight_map\":{\"w\":\"$(rep 300 s).safetensors\"}}"
ckpt index_shard_name_too_long
index ck/index_missing_shard '{"weight_map":{"w":"model-00002-of-00002.safetensors"}}'
ckpt index_missing_shard
index ck/index_parent_path '{"weight_map":{"w":"../model-00001-of-00001.safetensors"}}'
ckpt index_parent_path
index ck/index_absolute_path '{"weight_map":{"w":"/etc/passwd"}}'
ckpt index_absolute_path
index ck/index_not_json '{"weight_map":{"w":'
ckpt index_not_json
index ck/index_no_weight_map '{"metadata":{"total_size":8}}'
ckpt index_no_weight_map
index ck/index_tensor_not_in_shard '{"weight_map":{"v":"model-00001-of-00001.safetensors"}}'
ckpt index_tensor_not_in_shard
index ck/index_tensor_twice '{"weight_map":{"w":"model-00001-of-00001.safetensors","w":"model-00001-of-00001.safetensors"}}'
ckpt index_tensor_twice
index ck/index_shard_not_string '{"weight_map":{"w":1}}'
ckpt index_shard_not_string
index ck/index_bad_shard '{"weight_map":{"w":"model-00001-of-00001.safetensors","v":"bad.safetensors"}}'
st ck/index_bad_shard/bad.safetensors '{"v":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}' 8
ckpt index_bad_shard
index ck/index_shard_is_folder '{"weight_map":{"w":"shard.safetensors"}}'
mkdir ck/index_shard_is_folder/shard.safetensors
ckpt index_shard_is_folder
index ck/index_shard_symlink_loop '{"weight_map":{"w":"loop.safetensors"}}'
ln -s loop.safetensors ck/index_shard_symlink_loop/loop.safetensors
ckpt index_shard_symlink_loop

ln -s symlink_loop ck/symlink_loop
ckpt symlink_loop
mkdir -p ck/folder_as_file/model.safetensors
ckpt folder_as_file
mkdir -p ck/empty_folder
ckpt empty_folder
if mkfifo ck/fifo 2>/dev/null; then
    ckpt fifo
else
    echo "ok fifo (skipped: no mkfifo)"
    passed=$((passed + 1))
fi
ckpt does_not_exist

# Found only when the tensor data or config.json is read: the output is
# being written by then, and must vanish with its temporary folder.
# ckpt_config NAME: the recipe copying ck/NAME's config.json.
ckpt_config() {
    printf 'x = model("ck/%s")\nsave(x * 2, "out/%s", config = x)\n' "$1" "$1" > "$1.merge"
    run_recipe "$1" "$1.merge"
}
{ le64 ${#GOOD}; printf '%s' "$GOOD"; printf '\000\000\200\077\000\000\300\177'; } > ck/nan_in_tensor
ckpt nan_in_tensor
mkdir -p ck/config_not_json ck/config_is_folder/config.json ck/config_fifo
st ck/config_not_json/model.safetensors "$GOOD" 8
printf '{"architectures": ["LlamaForCausalLM"' > ck/config_not_json/config.json
ckpt_config config_not_json
st ck/config_is_folder/model.safetensors "$GOOD" 8
ckpt_config config_is_folder
st ck/config_fifo/model.safetensors "$GOOD" 8
if mkfifo ck/config_fifo/config.json 2>/dev/null; then
    ckpt_config config_fifo
else
    echo "ok config_fifo (skipped: no mkfifo)"
    passed=$((passed + 1))
fi
mkdir -p ck/lora_fifo
st ck/lora_fifo/model.safetensors "$GOOD" 8
if mkfifo ck/lora_fifo/adapter_config.json 2>/dev/null; then
    printf 'x = model("ck/lora_fifo")\nsave(lora(x, "ck/lora_fifo"), "out/lora_fifo")\n' > lora_fifo.merge
    run_recipe lora_fifo lora_fifo.merge
else
    echo "ok lora_fifo (skipped: no mkfifo)"
    passed=$((passed + 1))
fi

# ---- hostile recipes -----------------------------------------------------------------

recipe() {  # recipe NAME: runs NAME.merge, written by the caller
    run_recipe "$1" "$1.merge"
}

{ printf 'x = '; rep 100000 '('; printf '1'; rep 100000 ')'; echo; } > deep_parens.merge
recipe deep_parens
{ printf 'x = '; rep 100000 '['; rep 100000 ']'; echo; } > deep_brackets.merge
recipe deep_brackets
{ printf 'x = '; rep 100000 '-'; echo 1; } > deep_unary_minus.merge
recipe deep_unary_minus
{ printf 'x = '; rep 100000 'not '; echo true; } > deep_not.merge
recipe deep_not
{ printf 'x = 1'; rep 200000 ' + 1'; echo; } > long_sum.merge
recipe long_sum
{ printf 'x = '; rep 20000 'if true then '; printf '1'; rep 20000 ' else 0'; echo; } > deep_if.merge
recipe deep_if
{ printf 'def f(x) = x\ny = '; rep 50000 'f('; printf '1'; rep 50000 ')'; echo; } > deep_calls.merge
recipe deep_calls
{ printf 'x = '; rep 1000000 9; echo; } > huge_number.merge
recipe huge_number
echo 'x = 1e999999999999' > huge_exponent.merge
recipe huge_exponent
{ printf 'x = 0.'; rep 1000000 0; echo '1'; printf 'y = x + '; rep 1000 '1'; echo 'GB'; } > long_decimal.merge
recipe long_decimal
{ printf 'x = model("'; rep 1000000 a; echo '")'; } > huge_string.merge
recipe huge_string
{ rep 200000 'a = b; '; echo; } > long_line_many_errors.merge
recipe long_line_many_errors
{ printf 'x = 1 + '; rep 300000 ' '; echo ')'; } > long_line_error_at_end.merge
recipe long_line_error_at_end
{ rep 1300000 'x = 1  '; echo; } > too_large.merge
recipe too_large
awk 'BEGIN { for (i = 0; i < 200000; i++) printf "x%d = %d\n", i, i; for (i = 0; i < 200000; i++) printf "y%d = z%d\n", i, i }' > many_names.merge
recipe many_names
printf 'x = 1\000 + 2\n' > nul_byte.merge
recipe nul_byte
printf 'x = model("a\000b")\n' > nul_in_string.merge
recipe nul_in_string
printf 'x = "\\x00"\n' > nul_escape.merge
recipe nul_escape
printf 'x = \377\376 + 1\n' > invalid_utf8.merge
recipe invalid_utf8
printf 'x = model("\303\050")\n' > invalid_utf8_string.merge
recipe invalid_utf8_string
printf 'x = model("\300\257etc")\n' > overlong_utf8_string.merge
recipe overlong_utf8_string
printf '# \377 comment\nx = y\033[2J\n' > control_characters.merge
recipe control_characters
printf 'x = "\033]0;title\007"\n' > escape_in_string.merge
recipe escape_in_string
printf 'def loop(n) = loop(n + 1)\nx = loop(0)\n' > endless_recursion.merge
recipe endless_recursion
printf 'def f(x) = f(x) + f(x)\ny = f(1)\n' > exponential_recursion.merge
recipe exponential_recursion
printf 'def a(n) = b(n)\ndef b(n) = a(n)\nx = a(1)\n' > mutual_recursion.merge
recipe mutual_recursion
printf 'def d(s, n) = if n == 0 then len(s) else d(s + s, n - 1)\ny = d("x", 100)\n' > string_doubling.merge
recipe string_doubling
printf 'x = map(range, range(100000))\n' > list_fanout.merge
recipe list_fanout
printf 'x = range(1e300)\ny = [1, 2][1e300]\nz = [1, 2][(1e308 * 10) - (1e308 * 10)]\n' > huge_numbers.merge
recipe huge_numbers
printf 'import "import_self.merge"\nx = 1\n' > import_self.merge
recipe import_self
printf 'import "import_cycle_b.merge"\n' > import_cycle_a.merge
printf 'import "import_cycle_a.merge"\n' > import_cycle_b.merge
recipe import_cycle_a
printf 'import "/nonexistent/recipe.merge"\n' > import_missing.merge
recipe import_missing
mkdir -p folder.merge
printf 'import "folder.merge"\n' > import_folder.merge
recipe import_folder
printf 'import "/dev/zero"\n' > import_device.merge
recipe import_device
if mkfifo pipe.merge 2>/dev/null; then
    printf 'import "pipe.merge"\n' > import_fifo.merge
    recipe import_fifo
else
    echo "ok import_fifo (skipped: no mkfifo)"
    passed=$((passed + 1))
fi
dd if=/dev/zero of=big.merge bs=1 count=0 seek=20000000 2>/dev/null
printf 'import "big.merge"\n' > import_too_large.merge
recipe import_too_large
st binary.merge "$GOOD" 8
printf 'import "binary.merge"\n' > import_binary.merge
recipe import_binary
printf 'import "../../../../../../../../../nonexistent/x.merge"\nimport nosuchmodule\n' > import_outside.merge
recipe import_outside

# ---- hostile mergekit configurations ----------------------------------------------
# import-mergekit writes a recipe from a stranger's YAML: its warnings must be
# cleaned like every message, and nothing in the YAML or its file name may
# turn into a line of code in the recipe.

# ok_if NAME CONDITION-DESCRIPTION: counts the result of the last test.
ok_if() {
    if [ "$1" = 0 ]; then
        echo "ok $2"
        passed=$((passed + 1))
    else
        echo "FAIL $2: $3"
        failed=$((failed + 1))
    fi
}
cat > escapes.yml <<'YAML'
models:
  - model: "org/quo\"te\\back\nsave(x, \"evil\")"
  - model: "tab\there\u0001ctl\x1b[2J"
merge_method: linear
parameters: {weight: 1}
YAML
timeout 20 "$BIN" import-mergekit escapes.yml -o escapes.merge 2> escapes.err
rc=$?
bad=$(tr -d '\n\t -~' < escapes.err | LC_ALL=C tr -d '\200-\377' | wc -c)
[ $rc = 0 ] && [ "$bad" = 0 ]
ok_if $? yaml_warnings_cleaned "exit $rc, $bad raw control bytes in the warnings"
timeout 20 "$BIN" check escapes.merge > escapes.check 2>&1
grep -q 'cannot open model' escapes.check && ! grep -q 'expected\|unexpected' escapes.check &&
    [ "$(grep -c '^save(' escapes.merge)" = 1 ]
ok_if $? yaml_names_escaped "the recipe does not parse, or holds an extra save: $(head -c 300 escapes.check)"
nl_name=$(printf 'cfg\nsave(model("x"), "evil")\n.yml')
printf 'models:\n  - model: ./missing\nmerge_method: linear\nparameters: {weight: 1}\n' > "$nl_name"
timeout 20 "$BIN" import-mergekit "$nl_name" -o nl_name.merge 2>/dev/null
[ "$(grep -c '^save(' nl_name.merge)" = 1 ]
ok_if $? yaml_file_name_newline "a newline in the YAML's name started a line of code"
rm -f "$nl_name"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
