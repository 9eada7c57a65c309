#!/usr/bin/env python3
# The expected lm_head.weight of tests/golden/untie.merge, worked out in
# float64 from the input bytes: linear([untie(tied), ft1]) with weights
# [1, 3], where tied is models/base without its head, so its head is its
# embedding: (1 * base.embed_tokens + 3 * ft1.lm_head) / 4, rounded to
# float32. Run from tests/golden after `make test` generated models/;
# writes data/untie/expected-head.safetensors (committed).
import json, struct

def read(path, name):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    e = header[name]
    assert e["dtype"] == "F32"
    lo, hi = e["data_offsets"]
    count = (hi - lo) // 4
    return e["shape"], struct.unpack("<%df" % count, data[lo:hi])

shape, embed = read("models/base/model.safetensors", "model.embed_tokens.weight")
shape2, head = read("models/ft1/model.safetensors", "lm_head.weight")
assert shape == shape2
expected = [(1.0 * a + 3.0 * b) / 4.0 for a, b in zip(embed, head)]
header = {"lm_head.weight": {"dtype": "F32", "shape": shape, "data_offsets": [0, 4 * len(expected)]}}
h = json.dumps(header, separators=(",", ":")).encode()
with open("data/untie/expected-head.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + struct.pack("<%df" % len(expected), *expected))
