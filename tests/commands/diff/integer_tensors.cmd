# diff: integer tensors compared for equality
$ mergelang diff "$ROOT/tests/golden/data/int_a.safetensors" "$ROOT/tests/golden/data/int_b.safetensors"
stdout has ^model.position_ids  *-  *-  (I64: differs)$
stdout has ^  1 non-float tensor, 1 differs$
