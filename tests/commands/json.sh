#!/bin/sh
# tests/commands/json.sh - `check --json` and `plan --json` through the
# binary: the JSON parses and holds the right values for a small recipe
# over models made by $B/mkmodel, agrees with `run --json` and with the
# text of `plan`, and failures keep their exit codes (errors on stderr).
# Run by tests/run.sh with BIN and B (the build folder) in the environment;
# ends with "P passed, F failed". The JSON checks need python3 (skipped,
# with a note, without it).
set -u
LC_ALL=C
export LC_ALL
unset MERGELANG_PATH MERGELANG_CHUNK_ENTRIES
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=${B:-$ROOT/build}
BIN=${BIN:-$B/mergelang}
W=$(mktemp -d "${TMPDIR:-/tmp}/mergelang-json.XXXXXX") || exit 1
trap 'rm -rf "$W"' EXIT
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok $1"; }
bad() {
    failed=$((failed + 1))
    echo "FAIL $1"
    if [ -s "$W/stdout" ]; then echo "  stdout:"; sed 's/^/    /' "$W/stdout" | head -n 40; fi
    if [ -s "$W/stderr" ]; then echo "  stderr:"; sed 's/^/    /' "$W/stderr" | head -n 20; fi
}
# run CMD...: stdout to $W/stdout, stderr to $W/stderr, exit status in $rc.
run() {
    "$@" >"$W/stdout" 2>"$W/stderr"
    rc=$?
}
have_python() { command -v python3 >/dev/null 2>&1; }
# pycheck NAME CODE: $W/stdout parses as JSON and the Python statements CODE
# (asserts on d, the parsed object) hold; the failed assert is shown.
pycheck() {
    if ! have_python; then ok "$1 (python3 not installed: skipped)"; return; fi
    if python3 -c "import json, sys
d = json.load(open(sys.argv[1]))
$2" "$W/stdout" 2>"$W/pyerr"; then ok "$1"; else tail -n 4 "$W/pyerr" | sed 's/^/  /'; bad "$1"; fi
}

cd "$W" || exit 1
mkdir -p models out
"$B/mkmodel" models/base --seed 1 >/dev/null &&
"$B/mkmodel" models/ft1 --seed 2 --finetune-of 1 --delta 0.01 >/dev/null || {
    echo "FAIL generating models"
    echo "0 passed, 1 failed"
    exit 1
}
# layer3: slerp streams, so every tensor of that save is streamed when cut;
# mlp0: linear only, cut into plain row ranges.
cat >r.merge <<'EOF2'
base = model("models/base")
ft = model("models/ft1")
t = gradient([0, 1])
m = if name ~ "self_attn" then slerp(base, ft, t = t) else linear([base, ft])
save(select(m, "layers.3."), "out/layer3", dtype = "bfloat16")
save(select(ties(base, [ft], density = 0.5), "embed"), "out/embed")
save(select(linear([base, ft]), "layers.0.mlp."), "out/mlp0")
EOF2
printf 'base = model("models/base")\nsave(nosuch, "out/x")\n' >bad.merge
OUTPUTS='[{"path": "out/layer3", "tensors": 9, "bytes": 18560},
          {"path": "out/embed", "tensors": 1, "bytes": 8192},
          {"path": "out/mlp0", "tensors": 3, "bytes": 24576}]'

# ---- check --json ------------------------------------------------------------------
run "$BIN" check r.merge --json
if [ $rc -eq 0 ] && [ ! -s "$W/stderr" ]; then ok "check --json: exit 0, nothing on stderr"
else bad "check --json: exit 0, nothing on stderr"; fi
pycheck "check --json: recipe, ok, errors, outputs with tensors and bytes" "
assert d['recipe'] == 'r.merge', d['recipe']
assert d['ok'] is True and d['errors'] == 0, d
assert d['outputs'] == $OUTPUTS, d['outputs']"
cp "$W/stdout" check.json

run "$BIN" check bad.merge --json
if [ $rc -eq 1 ] && grep -q "error: " "$W/stderr"; then ok "check --json: a failing recipe is exit 1, errors on stderr"
else bad "check --json: a failing recipe is exit 1, errors on stderr"; fi
pycheck "check --json: a failing recipe is ok: false" "
assert d == {'recipe': 'bad.merge', 'ok': False, 'errors': 1, 'outputs': []}, d"

run "$BIN" check missing.merge --json
if [ $rc -eq 1 ] && grep -q "cannot read 'missing.merge'" "$W/stderr"; then
    ok "check --json: an unreadable recipe is exit 1"
else bad "check --json: an unreadable recipe is exit 1"; fi
pycheck "check --json: an unreadable recipe is ok: false" "
assert d['ok'] is False and d['errors'] == 1 and d['outputs'] == [], d"

run "$BIN" check --json
if [ $rc -eq 2 ] && [ ! -s "$W/stdout" ]; then ok "check --json without a recipe: exit 2, no JSON"
else bad "check --json without a recipe: exit 2, no JSON"; fi

# ---- plan --json --------------------------------------------------------------------
run "$BIN" plan r.merge -j 2 --json
if [ $rc -eq 0 ] && [ ! -s "$W/stderr" ]; then ok "plan --json: exit 0, nothing on stderr"
else bad "plan --json: exit 0, nothing on stderr"; fi
cp "$W/stdout" plan.json
pycheck "plan --json: outputs agree with check --json" "
want = json.load(open('check.json'))['outputs']
got = [{'path': o['path'], 'tensors': o['tensor_count'], 'bytes': o['bytes']} for o in d['outputs']]
assert got == want, got
assert d['recipe'] == 'r.merge'
for o in d['outputs']:
    assert sum(t['bytes'] for t in o['tensors']) == o['bytes'], o['path']
    assert len(o['tensors']) == o['tensor_count'], o['path']
assert d['outputs'][0]['blocks'] == 4"
pycheck "plan --json: per tensor name, shape, dtype, bytes, operation, inputs" "
l3 = {t['name']: t for t in d['outputs'][0]['tensors']}
names = [t['name'] for t in d['outputs'][0]['tensors']]
assert names[0] == 'model.layers.3.input_layernorm.weight', names
assert names[-1] == 'model.layers.3.self_attn.v_proj.weight', names
q = l3['model.layers.3.self_attn.q_proj.weight']
assert q['shape'] == [32, 32] and q['dtype'] == 'bfloat16' and q['bytes'] == 2048, q
assert q['operation'] == 'slerp(base, ft, t=1)', q['operation']
assert l3['model.layers.3.mlp.down_proj.weight']['operation'] == 'linear([base, ft])'
for t in l3.values():
    assert t['inputs'] == ['models/base', 'models/ft1'], t
    assert t['dtype'] == 'bfloat16'
e = d['outputs'][1]['tensors'][0]
assert e['name'] == 'model.embed_tokens.weight' and e['dtype'] == 'float32' and e['bytes'] == 8192, e
assert e['operation'] == 'ties(base, [ft], density=0.5)', e['operation']"
pycheck "plan --json: small tensors are computed whole; the peak estimate" "
ts = [t for o in d['outputs'] for t in o['tensors']]
for t in ts:
    assert (t['computed'], t['parts'], t['rows_per_part']) == ('whole', 1, 0), t
    assert t['memory_bytes'] > 0
top = max(ts, key=lambda t: t['memory_bytes'])
p = d['peak_memory']
assert p['per_tensor_bytes'] == top['memory_bytes'] and p['tensor'] == top['name'], (p, top)
assert p['threads'] == 2 and p['bytes'] == 2 * p['per_tensor_bytes'], p
assert p['row_range'] is False and p['write_queue_bytes'] == 0, p"

# The text and the JSON come from one walk: same operations, same peak.
run "$BIN" plan r.merge -j 2
sed -n 's/^    = //p' "$W/stdout" >ops.txt
peak_line=$(grep '^peak memory: ' "$W/stdout")
cp plan.json "$W/stdout"
pycheck "plan --json: the same operations and peak tensor as the text" "
ops = [t['operation'] for o in d['outputs'] for t in o['tensors']]
assert ops == open('ops.txt').read().splitlines(), ops
assert '(' + d['peak_memory']['tensor'] + ')' in '''$peak_line''', '''$peak_line'''"

# Row ranges of 16 entries (tests only): how each tensor is cut.
MERGELANG_CHUNK_ENTRIES=16 run "$BIN" plan r.merge -j 3 --json
pycheck "plan --json: row ranges and streamed tensors" "
t = {x['name']: x for o in d['outputs'] for x in o['tensors'] if o['path'] != 'out/mlp0'}
m0 = {x['name']: x for x in d['outputs'][2]['tensors']}
down = m0['model.layers.0.mlp.down_proj.weight']
assert (down['computed'], down['parts'], down['rows_per_part']) == ('row ranges', 32, 1), down
q = t['model.layers.3.self_attn.q_proj.weight']
assert (q['computed'], q['parts'], q['rows_per_part']) == ('streamed', 32, 1), q
e = t['model.embed_tokens.weight']
assert (e['computed'], e['parts']) == ('streamed', 64), e
n = t['model.layers.3.input_layernorm.weight']
assert n['computed'] == 'whole', n
p = d['peak_memory']
assert p['row_range'] is True and p['threads'] == 3 and p['write_queue_bytes'] == 64 << 20, p"

run "$BIN" plan bad.merge --json
if [ $rc -eq 1 ] && [ ! -s "$W/stdout" ] && grep -q "error: " "$W/stderr"; then
    ok "plan --json: a failing recipe is exit 1, errors on stderr, nothing on stdout"
else bad "plan --json: a failing recipe is exit 1, errors on stderr, nothing on stdout"; fi

# ---- what run writes is what check announced -----------------------------------------
run "$BIN" run r.merge -j 2 --json
pycheck "run --json writes the outputs check --json announced" "
want = json.load(open('check.json'))['outputs']
assert d['outputs'] == want, d['outputs']"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
