#!/usr/bin/env python3
"""fp8_reference.py - the independent reference for the 8-bit float formats:
writes tests/unit/fp8_reference.h, which tests/unit/test_dtype.c checks
runtime/core/dtype.c against.

Standard library only, and none of dtype.c's method: a code is decoded from
its fields with exact fractions, and a float32 is encoded by searching the
format's whole value table for the nearest value (ties to the even code),
with a virtual "one step past the largest finite value" standing for
overflow, so that a tie at the top rounds the way round-to-nearest-even
rounds there. Overflow gives what torch's casts give: infinity for
F8_E5M2, NaN for the formats without infinities (float8_e4m3fn: 0x7f with
the sign; the FNUZ formats: 0x80).

Run from the repository root: python3 tests/unit/fp8_reference.py
"""
import bisect
import struct
from fractions import Fraction

# name, exponent bits, mantissa bits, bias, kind (ieee | fn | fnuz | e8m0)
FORMATS = [
    ("F8_E4M3", 4, 3, 7, "fn"),
    ("F8_E5M2", 5, 2, 15, "ieee"),
    ("F8_E4M3FNUZ", 4, 3, 8, "fnuz"),
    ("F8_E5M2FNUZ", 5, 2, 16, "fnuz"),
    ("F8_E8M0", 8, 0, 127, "e8m0"),
]

NAN = "nan"
INF = "inf"


def decode(fmt, b):
    """A code's value: a Fraction, or (sign, NAN) / (sign, INF)."""
    _, eb, mb, bias, kind = fmt
    if kind == "e8m0":
        return (0, NAN) if b == 0xFF else Fraction(2) ** (b - 127)
    sign = b >> 7
    e = (b >> mb) & ((1 << eb) - 1)
    m = b & ((1 << mb) - 1)
    emax, mmax = (1 << eb) - 1, (1 << mb) - 1
    if kind == "fnuz" and b == 0x80:
        return (1, NAN)
    if kind == "fn" and e == emax and m == mmax:
        return (sign, NAN)
    if kind == "ieee" and e == emax:
        return (sign, INF) if m == 0 else (sign, NAN)
    if e == 0:
        v = Fraction(m, 1 << mb) * Fraction(2) ** (1 - bias)
    else:
        v = (1 + Fraction(m, 1 << mb)) * Fraction(2) ** (e - bias)
    return -v if sign else v


def f32_bits_of_fraction(v):
    """float32 bits of a Fraction that float32 represents exactly."""
    if v == 0:
        return 0
    sign = 0x80000000 if v < 0 else 0
    a = abs(v)
    e = 0
    while a >= 2:
        a /= 2
        e += 1
    while a < 1:
        a *= 2
        e -= 1
    if e < -126:  # a float32 subnormal
        m = a * Fraction(2) ** (e + 149)
        assert m.denominator == 1
        return sign | int(m)
    m = (a - 1) * (1 << 23)
    assert m.denominator == 1 and 1 <= e + 127 <= 254
    return sign | ((e + 127) << 23) | int(m)


def value_bits(val):
    if isinstance(val, tuple):
        sign, what = val
        s = 0x80000000 if sign else 0
        return s | (0x7F800000 if what == INF else 0x7FC00000)
    return f32_bits_of_fraction(val)


def f32_from_bits(u):
    return struct.unpack("<f", struct.pack("<I", u))[0]


def fraction_of_f32_bits(u):
    return Fraction(f32_from_bits(u))


_TABLES = {}


def value_table(fmt):
    """The format's non-negative finite values with their codes, ascending,
    and one quantum past the top standing for overflow (code None: an even
    code). The quantum of the top's binade is the gap below it, since the
    top never starts a binade."""
    if fmt[0] not in _TABLES:
        table = []
        for b in range(0x80):
            v = decode(fmt, b)
            if not isinstance(v, tuple):
                table.append((v, b))
        table.sort()
        step = table[-1][0] - table[-2][0]
        _TABLES[fmt[0]] = table + [(table[-1][0] + step, 1 << 30)]
    return _TABLES[fmt[0]]


def encode(fmt, u):
    """Expected code for the float32 with bits u (not for E8M0)."""
    _, eb, mb, bias, kind = fmt
    sign = u >> 31
    nan_code = 0x80 if kind == "fnuz" else (sign << 7) | 0x7F
    overflow_code = ((sign << 7) | (((1 << eb) - 1) << mb)) if kind == "ieee" else nan_code
    if (u & 0x7F800000) == 0x7F800000:
        return nan_code if (u & 0x7FFFFF) else overflow_code
    x = abs(fraction_of_f32_bits(u))
    candidates = value_table(fmt)
    # Only the two table entries around x can be nearest.
    at = bisect.bisect_left(candidates, (x, -1))
    best = None
    for v, b in candidates[max(at - 1, 0):at + 1]:
        d = abs(v - x)
        even = b % 2 == 0
        if best is None or d < best[0] or (d == best[0] and even and not best[2]):
            best = (d, b, even)
    b = best[1]
    if b == 1 << 30:
        return overflow_code
    if b == 0:
        return 0 if kind == "fnuz" else sign << 7
    return (sign << 7) | b


def next_up(u):
    return u + 1


def next_down(u):
    return u - 1


def encode_inputs(fmt):
    """float32 inputs: every finite value (round trips), every midpoint
    between neighbours and one float32 step either side, past the top,
    below the smallest subnormal, infinities and NaNs of both signs."""
    vals = sorted(v for b in range(0x80) for v in [decode(fmt, b)] if not isinstance(v, tuple))
    step = vals[-1] - vals[-2]
    points = set(vals)
    ext = vals + [vals[-1] + step, vals[-1] + 2 * step]
    for lo, hi in zip(ext, ext[1:]):
        points.add((lo + hi) / 2)
    points.add(vals[1] / 4)  # far below the smallest subnormal
    points.add(Fraction(1000000))
    inputs = set()
    for p in points:
        u = f32_bits_of_fraction(p)
        for w in (u, next_up(u), next_down(u) if p > 0 else u):
            for s in (0, 0x80000000):
                inputs.add(w | s)
    for special in (0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000, 0x7F800001, 0x80000000):
        inputs.add(special)
    return sorted(inputs)


def main():
    out = []
    out.append("/* fp8_reference.h - generated by tests/unit/fp8_reference.py (do not edit):")
    out.append(" * every code of the 8-bit float formats decoded, and float32 inputs with")
    out.append(" * the code each must encode to, from an independent exact reference. */")
    out.append("#ifndef MERGELANG_FP8_REFERENCE_H")
    out.append("#define MERGELANG_FP8_REFERENCE_H")
    out.append("")
    out.append("#include <stdint.h>")
    out.append("")
    out.append("/* In this order: %s. */" % ", ".join(f[0] for f in FORMATS))
    out.append("#define FP8_REF_FORMATS %d" % len(FORMATS))
    out.append("")
    out.append("/* float32 bits of each code's value; NaN as 0x7fc00000 with its sign. */")
    out.append("static const uint32_t fp8_ref_decode[FP8_REF_FORMATS][256] = {")
    for fmt in FORMATS:
        # A Fraction has no -0: the sign of a zero code is put back by hand.
        bits = [value_bits(decode(fmt, b)) | (0x80000000 if b & 0x80 and decode(fmt, b) == 0 else 0)
                for b in range(256)]
        out.append("    { /* %s */" % fmt[0])
        for i in range(0, 256, 8):
            out.append("        " + " ".join("0x%08xu," % x for x in bits[i:i + 8]))
        out.append("    },")
    out.append("};")
    out.append("")
    out.append("typedef struct Fp8RefEncode {")
    out.append("    uint8_t format; /* index into the formats above */")
    out.append("    uint8_t code;")
    out.append("    uint32_t input; /* float32 bits */")
    out.append("} Fp8RefEncode;")
    out.append("")
    out.append("static const Fp8RefEncode fp8_ref_encode[] = {")
    for k, fmt in enumerate(FORMATS):
        if fmt[4] == "e8m0":
            continue
        row = []
        for u in encode_inputs(fmt):
            row.append("{%d, 0x%02x, 0x%08xu}," % (k, encode(fmt, u), u))
        for i in range(0, len(row), 4):
            out.append("    " + " ".join(row[i:i + 4]))
    out.append("};")
    out.append("")
    out.append("#endif")
    with open("tests/unit/fp8_reference.h", "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
