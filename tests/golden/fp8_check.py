#!/usr/bin/env python3
"""fp8_check.py - fp8_merge.merge's outputs against an independent float64
reference: the inputs' bytes are decoded with tests/unit/fp8_reference.py
(exact fractions, nothing from the C code), each method recomputed as
mergekit defines it, and every output element must be the expected value
rounded to the output dtype (nearest even), or its other neighbour when the
expected value lies within float32 noise of the midpoint between them.
Standard library only; run from tests/golden after fp8_merge.merge."""
import json
import math
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "unit"))
import fp8_reference as ref  # noqa: E402

FMT = {f[0]: f for f in ref.FORMATS}


def read(path):
    if os.path.isdir(path):
        path = os.path.join(path, "model.safetensors")
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        out[name] = (info["dtype"], body[b:e])
    return out


DECODED = {}


def code_value(fmt, b):
    v = ref.decode(fmt, b)
    return float("nan") if isinstance(v, tuple) else float(v)


def decode(dtype, raw):
    if dtype in FMT:
        if dtype not in DECODED:
            DECODED[dtype] = [code_value(FMT[dtype], b) for b in range(256)]
        return [DECODED[dtype][x] for x in raw]
    if dtype == "BF16":
        return [struct.unpack("<f", struct.pack("<I", h << 16))[0]
                for h in struct.unpack("<%dH" % (len(raw) // 2), raw)]
    if dtype == "F32":
        return list(struct.unpack("<%df" % (len(raw) // 4), raw))
    raise SystemExit("unexpected dtype " + dtype)


def f32_bits(x):
    return struct.unpack("<I", struct.pack("<f", x))[0]


def round_to(dtype, x):
    """x (a double) rounded to float32, then to the output dtype (what the
    binary does: it computes in float32)."""
    u = f32_bits(x)
    if dtype in FMT:
        return code_value(FMT[dtype], ref.encode(FMT[dtype], u))
    if dtype == "BF16":
        u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
        return struct.unpack("<f", struct.pack("<I", u << 16))[0]
    return struct.unpack("<f", struct.pack("<I", u))[0]


def check(name, out_dir, want_dtype, expected_fn, inputs):
    got = read(out_dir)
    ins = [read(p) for p in inputs]
    bad = 0
    for t, (dtype, raw) in sorted(got.items()):
        if dtype != want_dtype:
            raise SystemExit("%s: tensor %s is %s, expected %s" % (name, t, dtype, want_dtype))
        o = decode(dtype, raw)
        vals = [decode(*m[t]) for m in ins]
        exp = expected_fn(vals)
        for i, (oi, ei) in enumerate(zip(o, exp)):
            r = round_to(dtype, ei)
            if oi == r:
                continue
            # A different neighbour is right only when the exact value is a
            # float32 hair from the midpoint between the two.
            mid = (oi + r) / 2
            if abs(ei - mid) <= 1e-6 * max(abs(ei), 1e-30) and abs(oi - ei) <= abs(r - ei) * 2 + 1e-30:
                continue
            bad += 1
            if bad <= 5:
                print("%s: %s[%d] = %r, expected %r (exact %r)" % (name, t, i, oi, r, ei))
    if bad:
        raise SystemExit("%s: %d elements wrong" % (name, bad))
    return len(got)


def linear(ws):
    s = sum(ws)
    return lambda v: [sum(w * x[i] for w, x in zip(ws, v)) / s for i in range(len(v[0]))]


def ties(v):
    """mergekit's TIES with density 1 (no trimming), weights 1, lambda 1:
    the sign of the summed task vectors elected per entry, the agreeing
    task vectors averaged."""
    base, models = v[0], v[1:]
    res = []
    for i in range(len(base)):
        d = [m[i] - base[i] for m in models]
        elected = 1 if sum(d) >= 0 else -1
        agree = [x for x in d if (x > 0) - (x < 0) == elected]
        res.append(base[i] + (sum(agree) / len(agree) if agree else 0.0))
    return res


def slerp(t):
    def f(v):
        a, b = v
        na = math.sqrt(sum(x * x for x in a))
        nb = math.sqrt(sum(x * x for x in b))
        an = [x / na for x in a] if na > 1e-8 else a
        bn = [x / nb for x in b] if nb > 1e-8 else b
        dot = sum(x * y for x, y in zip(an, bn))
        if abs(dot) > 0.9995:
            return [(1 - t) * x + t * y for x, y in zip(a, b)]
        th = math.acos(dot)
        s0 = math.sin(th - th * t) / math.sin(th)
        s1 = math.sin(th * t) / math.sin(th)
        return [s0 * x + s1 * y for x, y in zip(a, b)]
    return f


M = "models/"
check("linear", "out/linear", "F8_E4M3", linear([0.3, 0.7]), [M + "fp8-ft1", M + "fp8-ft2"])
check("mixed", "out/mixed", "F8_E4M3", linear([1, 1]), [M + "fp8-ft1", M + "bf16-ft2"])
check("mixed-bf16", "out/mixed-bf16", "BF16", linear([1, 1]), [M + "bf16-ft2", M + "fp8-ft1"])
check("times2", "out/times2", "F8_E4M3", lambda v: [2 * x for x in v[0]], [M + "fp8-ft1"])
check("ties", "out/ties", "F8_E4M3", ties, [M + "fp8-base", M + "fp8-ft1", M + "fp8-ft2", M + "e5m2-ft2"])
check("slerp", "out/slerp", "F8_E4M3", slerp(0.3), [M + "fp8-ft1", M + "fp8-ft2"])
check("bf16", "out/bf16", "BF16", linear([0.25, 0.75]), [M + "fp8-ft1", M + "e5m2-ft2"])
check("e5m2", "out/e5m2", "F8_E5M2", lambda v: v[0], [M + "fp8-ft1"])
