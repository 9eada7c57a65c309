# inspect: mixed dtypes, unknown architecture
$ mergelang inspect "$ROOT/tests/golden/data/int_a.safetensors"
stdout has ^dtypes        float32 (1), int64 (1)$
stdout has ^size          48 bytes$
stdout has ^architecture  unknown$
