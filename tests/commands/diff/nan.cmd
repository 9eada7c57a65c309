# diff: NaN in the data shows as nan
$ mergelang diff "$ROOT/tests/golden/data/nan.safetensors" "$ROOT/tests/golden/data/clean.safetensors"
stdout has ^model.norm.weight  *nan  *nan$
