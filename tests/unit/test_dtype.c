/* test_dtype.c - dtype names and the float conversions: rounding at every
 * halfway point of BF16 and F16, special values, and round trips of every
 * bit pattern; the 8-bit floats against tests/unit/fp8_reference.h (every
 * code decoded, every midpoint encoded, from fp8_reference.py). */
#include "tests/unit/check.h"

#include <float.h>
#include <stdint.h>
#include <stdlib.h>

#include "runtime/core/dtype.h"
#include "tests/unit/fp8_reference.h"

static uint32_t bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static void test_names(void) {
    for (int i = 0; i < DT_COUNT; i++) {
        DType dt = (DType)i, back;
        const char *n = dtype_st_name(dt);
        CHECK(dtype_from_st_name(n, strlen(n), &back) && back == dt);
        CHECK(dtype_size(dt) > 0);
        const char *t = dtype_torch_name(dt);
        if (t) CHECK(dtype_from_torch_name(t, &back) && back == dt);
    }
    CHECK_STR(dtype_st_name(DT_BF16), "BF16");
    CHECK_STR(dtype_st_name(DT_F8_E4M3), "F8_E4M3");
    CHECK_STR(dtype_torch_name(DT_BF16), "bfloat16");
    CHECK_STR(dtype_torch_name(DT_F8_E4M3), "float8_e4m3fn");
    CHECK_STR(dtype_torch_name(DT_F8_E5M2), "float8_e5m2");
    DType back;
    CHECK(dtype_from_st_name("F8_E8M0", 7, &back) && back == DT_F8_E8M0);
    CHECK(dtype_from_st_name("F8_E4M3FNUZ", 11, &back) && back == DT_F8_E4M3FNUZ);
    CHECK(dtype_size(DT_F64) == 8 && dtype_size(DT_BOOL) == 1 && dtype_size(DT_F8_E5M2) == 1);
    DType d;
    CHECK(dtype_from_st_name("F16xyz", 3, &d) && d == DT_F16); /* length-bounded */
    CHECK(!dtype_from_st_name("F16", 2, &d));
    CHECK(!dtype_from_st_name("f32", 3, &d));
    CHECK(dtype_from_torch_name("half", &d) && d == DT_F16);
    CHECK(dtype_from_torch_name("bf16", &d) && d == DT_BF16);
    CHECK(dtype_from_torch_name("fp32", &d) && d == DT_F32);
    CHECK(dtype_from_torch_name("float", &d) && d == DT_F32);
    CHECK(dtype_from_torch_name("f16", &d) && d == DT_F16);
    CHECK(!dtype_from_torch_name("bfloat", &d));
    CHECK(dtype_is_computable(DT_F64) && dtype_is_computable(DT_BF16));
    CHECK(!dtype_is_computable(DT_I64) && !dtype_is_computable(DT_F8_E8M0));
    CHECK(dtype_is_computable(DT_F8_E4M3) && dtype_is_computable(DT_F8_E5M2) &&
          dtype_is_computable(DT_F8_E4M3FNUZ) && dtype_is_computable(DT_F8_E5M2FNUZ));
    /* Known to safetensors, refused with a reason; unknown names are not. */
    CHECK(dtype_st_refusal("F4", 2) && dtype_st_refusal("F6_E2M3", 7) && dtype_st_refusal("F6_E3M2", 7) &&
          dtype_st_refusal("C64", 3));
    CHECK(!dtype_st_refusal("F4x", 3) && !dtype_st_refusal("F8_E4M3", 7) && !dtype_st_refusal("F", 1));
    CHECK(!dtype_from_st_name("F4", 2, &back) && !dtype_from_st_name("C64", 3, &back));
}

static void test_bf16_edges(void) {
    CHECK(dtype_f32_to_bf16(1.0f) == 0x3f80);
    /* 1 + 2^-8 is halfway between 1 (even) and 1 + 2^-7: down. */
    CHECK(dtype_f32_to_bf16(1.0f + 0x1p-8f) == 0x3f80);
    /* 1 + 3*2^-8 is halfway between 1 + 2^-7 (odd) and 1 + 2^-6: up. */
    CHECK(dtype_f32_to_bf16(1.0f + 3 * 0x1p-8f) == 0x3f82);
    /* Just above / below halfway. */
    CHECK(dtype_f32_to_bf16(nextafterf(1.0f + 0x1p-8f, 2.0f)) == 0x3f81);
    CHECK(dtype_f32_to_bf16(nextafterf(1.0f + 3 * 0x1p-8f, 0.0f)) == 0x3f81);
    CHECK(dtype_f32_to_bf16(-1.0f - 0x1p-8f) == 0xbf80);
    /* Largest finite f32 and the largest bf16 */
    CHECK(dtype_f32_to_bf16(FLT_MAX) == 0x7f80);
    CHECK(dtype_f32_to_bf16(-FLT_MAX) == 0xff80);
    CHECK(dtype_f32_to_bf16(dtype_bf16_to_f32(0x7f7f)) == 0x7f7f);
    CHECK(dtype_f32_to_bf16(INFINITY) == 0x7f80 && dtype_f32_to_bf16(-INFINITY) == 0xff80);
    CHECK(isinf(dtype_bf16_to_f32(0x7f80)) && dtype_bf16_to_f32(0xff80) < 0);
    /* Zeros and subnormals */
    CHECK(dtype_f32_to_bf16(0.0f) == 0x0000 && dtype_f32_to_bf16(-0.0f) == 0x8000);
    CHECK(signbit(dtype_bf16_to_f32(0x8000)) && dtype_bf16_to_f32(0x8000) == 0.0f);
    CHECK(dtype_f32_to_bf16(from_bits(0x00000001)) == 0x0000); /* tiny f32 subnormal: to zero */
    CHECK(dtype_f32_to_bf16(from_bits(0x00008000)) == 0x0000); /* tie: to even 0 */
    CHECK(dtype_f32_to_bf16(from_bits(0x00018000)) == 0x0002); /* tie: to even 2 */
    CHECK(dtype_f32_to_bf16(from_bits(0x00008001)) == 0x0001);
    CHECK(bits(dtype_bf16_to_f32(0x0001)) == 0x00010000);
    /* NaN: stays NaN, quiet, sign kept, even when the payload is only in the
     * bits that are dropped. */
    uint16_t n = dtype_f32_to_bf16(from_bits(0x7f800001));
    CHECK((n & 0x7f80) == 0x7f80 && (n & 0x7f) != 0 && (n & 0x40));
    n = dtype_f32_to_bf16(from_bits(0xff800001));
    CHECK(n & 0x8000 && isnan(dtype_bf16_to_f32(n)));
    CHECK(dtype_f32_to_bf16(NAN) == 0x7fc0);
    CHECK(isnan(dtype_bf16_to_f32(0x7f81)) && (bits(dtype_bf16_to_f32(0x7f81)) & 0x00400000));
    CHECK(isnan(dtype_bf16_to_f32(0xffc0)) && signbit(dtype_bf16_to_f32(0xffc0)));
}

static void test_f16_edges(void) {
    CHECK(dtype_f32_to_f16(1.0f) == 0x3c00);
    /* 1 + 2^-11: halfway between 1 (even) and 1 + 2^-10: down. */
    CHECK(dtype_f32_to_f16(1.0f + 0x1p-11f) == 0x3c00);
    /* 1 + 3*2^-11: halfway between 1 + 2^-10 (odd) and 1 + 2^-9: up. */
    CHECK(dtype_f32_to_f16(1.0f + 3 * 0x1p-11f) == 0x3c02);
    CHECK(dtype_f32_to_f16(nextafterf(1.0f + 0x1p-11f, 2.0f)) == 0x3c01);
    CHECK(dtype_f32_to_f16(nextafterf(1.0f + 3 * 0x1p-11f, 0.0f)) == 0x3c01);
    /* Max finite 65504; 65520 is the midpoint to 65536: ties to even = inf. */
    CHECK(dtype_f32_to_f16(65504.0f) == 0x7bff);
    CHECK(dtype_f32_to_f16(65519.99f) == 0x7bff);
    CHECK(dtype_f32_to_f16(nextafterf(65520.0f, 0.0f)) == 0x7bff);
    CHECK(dtype_f32_to_f16(65520.0f) == 0x7c00);
    CHECK(dtype_f32_to_f16(-65520.0f) == 0xfc00);
    CHECK(dtype_f32_to_f16(1e10f) == 0x7c00 && dtype_f32_to_f16(FLT_MAX) == 0x7c00);
    CHECK(dtype_f32_to_f16(INFINITY) == 0x7c00 && dtype_f32_to_f16(-INFINITY) == 0xfc00);
    CHECK(isinf(dtype_f16_to_f32(0x7c00)) && dtype_f16_to_f32(0xfc00) == -INFINITY);
    CHECK(dtype_f16_to_f32(0x7bff) == 65504.0f);
    /* Subnormals: 2^-24 is the smallest, exact both ways. */
    CHECK(dtype_f32_to_f16(0x1p-24f) == 0x0001);
    CHECK(dtype_f16_to_f32(0x0001) == 0x1p-24f);
    CHECK(dtype_f16_to_f32(0x03ff) == 1023 * 0x1p-24f);
    CHECK(dtype_f16_to_f32(0x0400) == 0x1p-14f);
    CHECK(dtype_f32_to_f16(0x1p-25f) == 0x0000);               /* tie: to even 0 */
    CHECK(dtype_f32_to_f16(nextafterf(0x1p-25f, 1.0f)) == 0x0001);
    CHECK(dtype_f32_to_f16(3 * 0x1p-25f) == 0x0002);           /* tie: to even 2 */
    CHECK(dtype_f32_to_f16(5 * 0x1p-25f) == 0x0002);           /* tie: to even 2 */
    CHECK(dtype_f32_to_f16(-0x1p-24f) == 0x8001);
    CHECK(dtype_f32_to_f16(nextafterf(0x1p-14f, 0.0f)) == 0x0400); /* rounds up into the normals */
    CHECK(dtype_f32_to_f16(1023.5f * 0x1p-24f) == 0x0400);      /* tie 0x3ff (odd) -> 0x400 */
    CHECK(dtype_f32_to_f16(1022.5f * 0x1p-24f) == 0x03fe);      /* tie 0x3fe (even) stays */
    CHECK(dtype_f32_to_f16(1e-30f) == 0x0000 && dtype_f32_to_f16(-1e-30f) == 0x8000);
    CHECK(dtype_f32_to_f16(from_bits(1)) == 0x0000);
    /* Zeros */
    CHECK(dtype_f32_to_f16(0.0f) == 0x0000 && dtype_f32_to_f16(-0.0f) == 0x8000);
    CHECK(signbit(dtype_f16_to_f32(0x8000)) && dtype_f16_to_f32(0x8000) == 0.0f);
    /* NaN */
    uint16_t n = dtype_f32_to_f16(from_bits(0x7f800001));
    CHECK((n & 0x7c00) == 0x7c00 && (n & 0x3ff) != 0 && (n & 0x200));
    CHECK(dtype_f32_to_f16(from_bits(0xffc00000)) == 0xfe00);
    CHECK(isnan(dtype_f16_to_f32(0x7c01)) && (bits(dtype_f16_to_f32(0x7c01)) & 0x00400000));
    CHECK(isnan(dtype_f16_to_f32(0xfe00)) && signbit(dtype_f16_to_f32(0xfe00)));
}

/* Every halfway point between neighbouring finite values of a 16-bit format,
 * and the f32 values on either side of it. */
static void check_all_midpoints(const char *fmt, uint16_t max_finite, float (*dec)(uint16_t),
                                uint16_t (*enc)(float), double beyond_max) {
    int bad = 0;
    for (uint32_t h = 0; h <= max_finite && bad < 5; h++) {
        for (int neg = 0; neg < 2; neg++) {
            uint16_t sgn = neg ? 0x8000 : 0;
            double lo = dec((uint16_t)h), hi = h == max_finite ? beyond_max : dec((uint16_t)(h + 1));
            uint16_t up = (uint16_t)((h + 1) | sgn), down = (uint16_t)(h | sgn);
            double mid = (lo + hi) / 2;
            float m = (float)(neg ? -mid : mid);
            if ((double)fabsf(m) != mid) {
                printf("  %s: midpoint of 0x%04x not exact in f32\n", fmt, (unsigned)h);
                bad++;
                continue;
            }
            uint16_t tie = (h & 1) ? up : down;
            float below = nextafterf(m, 0.0f), above = nextafterf(m, neg ? -INFINITY : INFINITY);
            float at = (float)(neg ? -lo : lo);
            if (enc(m) != tie || enc(below) != down || enc(above) != up || enc(at) != down) {
                printf("  %s: rounding near 0x%04x%s: tie 0x%04x below 0x%04x above 0x%04x exact 0x%04x\n", fmt,
                       (unsigned)h, neg ? " (negative)" : "", enc(m), enc(below), enc(above), enc(at));
                bad++;
            }
        }
    }
    CHECK(bad == 0);
}

static void test_bf16_all_midpoints(void) {
    check_all_midpoints("bf16", 0x7f7f, dtype_bf16_to_f32, dtype_f32_to_bf16, 0x1p128);
}

static void test_f16_all_midpoints(void) {
    check_all_midpoints("f16", 0x7bff, dtype_f16_to_f32, dtype_f32_to_f16, 65536.0);
}

/* decode then encode gives the same bits, except that NaNs come back quiet. */
static void check_round_trip(const char *fmt, float (*dec)(uint16_t), uint16_t (*enc)(float), uint16_t exp_mask,
                             uint16_t quiet) {
    int bad = 0;
    for (uint32_t h = 0; h <= 0xffff; h++) {
        float f = dec((uint16_t)h);
        bool is_nan = (h & exp_mask) == exp_mask && (h & (uint16_t)~(exp_mask | 0x8000)) != 0;
        uint16_t want = is_nan ? (uint16_t)(h | quiet) : (uint16_t)h;
        if (is_nan != (bool)isnan(f) || enc(f) != want || (bool)signbit(f) != (bool)(h & 0x8000)) {
            if (bad++ < 5)
                printf("  %s round trip 0x%04x -> %g -> 0x%04x\n", fmt, (unsigned)h, (double)f, enc(f));
        }
    }
    CHECK(bad == 0);
}

static void test_bf16_round_trip_all(void) {
    check_round_trip("bf16", dtype_bf16_to_f32, dtype_f32_to_bf16, 0x7f80, 0x0040);
}

static void test_f16_round_trip_all(void) {
    check_round_trip("f16", dtype_f16_to_f32, dtype_f32_to_f16, 0x7c00, 0x0200);
    /* f16 -> f32 is exact: compare against the textbook formula. */
    int bad = 0;
    for (uint32_t h = 0; h < 0x7c00; h++) {
        int e = (int)(h >> 10), m = (int)(h & 0x3ff);
        double v = e == 0 ? ldexp(m, -24) : ldexp(1024 + m, e - 25);
        if ((double)dtype_f16_to_f32((uint16_t)h) != v) bad++;
    }
    CHECK(bad == 0);
}

static void test_bulk_unaligned(void) {
    float src[7] = {1.0f, -2.5f, 0.1f, 65504.0f, 1e-7f, -0.0f, 3.14159f};
    unsigned char buf[8 * 7 + 3];
    float back[7];
    DType dts[] = {DT_F32, DT_BF16, DT_F16, DT_F64};
    for (size_t k = 0; k < 4; k++) {
        unsigned char *p = buf + 1 + k % 3; /* deliberately misaligned */
        dtype_encode_f32(dts[k], src, p, 7);
        dtype_decode_f32(dts[k], p, back, 7);
        for (int i = 0; i < 7; i++) {
            float want = src[i];
            if (dts[k] == DT_BF16) want = dtype_bf16_to_f32(dtype_f32_to_bf16(src[i]));
            if (dts[k] == DT_F16) want = dtype_f16_to_f32(dtype_f32_to_f16(src[i]));
            CHECK(bits(back[i]) == bits(want));
        }
    }
    /* F64 decode rounds to nearest float */
    double d[3] = {1.0 + 0x1p-24, 1e300, 1.0 + 3 * 0x1p-24};
    unsigned char db[25];
    memcpy(db + 1, d, sizeof d);
    dtype_decode_f32(DT_F64, db + 1, back, 3);
    CHECK(back[0] == 1.0f && isinf(back[1]) && back[2] == 1.0f + 0x1p-22f);
}

/* The checking decode gives the same values as the plain one and finds
 * one NaN or infinity anywhere among many finite values, for every
 * dtype; a finite float64 too big for float32 decodes to an infinity and
 * is caught too. */
static void test_decode_checks_finite(void) {
    enum { N = 300 };
    static float src[N], plain[N], checked[N];
    static unsigned char buf[8 * N + 8];
    for (int i = 0; i < N; i++) src[i] = (float)(i - 150) * 0.37f;
    DType dts[] = { DT_F32, DT_BF16, DT_F16, DT_F64 };
    const float bad_values[] = { NAN, INFINITY, -INFINITY };
    int wrong = 0;
    for (size_t k = 0; k < 4; k++) {
        unsigned char *p = buf + 1 + k % 3;
        dtype_encode_f32(dts[k], src, p, N);
        dtype_decode_f32(dts[k], p, plain, N);
        wrong += !dtype_decode_f32_finite(dts[k], p, checked, N) || memcmp(plain, checked, sizeof plain) != 0;
        for (size_t b = 0; b < 3; b++)
            for (int at = 0; at < N; at += 37) {
                float with_bad[N];
                memcpy(with_bad, src, sizeof with_bad);
                with_bad[at] = bad_values[b];
                dtype_encode_f32(dts[k], with_bad, p, N);
                wrong += dtype_decode_f32_finite(dts[k], p, checked, N);
            }
    }
    CHECK(wrong == 0);
    double big[2] = { 1.0, 1e300 };
    memcpy(buf, big, sizeof big);
    CHECK(!dtype_decode_f32_finite(DT_F64, buf, checked, 2));
}

/* The formats in fp8_reference.h's order. */
static const DType fp8_ref_dtypes[FP8_REF_FORMATS] = { DT_F8_E4M3, DT_F8_E5M2, DT_F8_E4M3FNUZ, DT_F8_E5M2FNUZ,
                                                       DT_F8_E8M0 };

/* Every code of every 8-bit format decodes to the reference's float32 bits
 * (NaNs quiet, with the reference's sign), one at a time and in bulk from
 * an unaligned buffer. */
static void test_fp8_decode_all(void) {
    int wrong = 0;
    unsigned char codes[257];
    float bulk[256];
    for (int k = 0; k < FP8_REF_FORMATS; k++) {
        DType dt = fp8_ref_dtypes[k];
        for (int b = 0; b < 256; b++) {
            codes[1 + b] = (unsigned char)b;
            if (bits(dtype_fp8_to_f32(dt, (uint8_t)b)) != fp8_ref_decode[k][b]) {
                if (wrong++ < 5)
                    fprintf(stderr, "  %s 0x%02x: got 0x%08x, want 0x%08x\n", dtype_st_name(dt), b,
                            bits(dtype_fp8_to_f32(dt, (uint8_t)b)), fp8_ref_decode[k][b]);
            }
        }
        dtype_decode_f32(dt, codes + 1, bulk, 256);
        for (int b = 0; b < 256; b++) wrong += bits(bulk[b]) != fp8_ref_decode[k][b];
    }
    CHECK(wrong == 0);
    /* Spot values that the formats' definitions fix. */
    CHECK(dtype_fp8_to_f32(DT_F8_E4M3, 0x7e) == 448.0f && isnan(dtype_fp8_to_f32(DT_F8_E4M3, 0x7f)));
    CHECK(dtype_fp8_to_f32(DT_F8_E4M3, 0x01) == 0x1p-9f && dtype_fp8_to_f32(DT_F8_E4M3, 0x78) == 256.0f);
    CHECK(dtype_fp8_to_f32(DT_F8_E5M2, 0x7b) == 57344.0f && isinf(dtype_fp8_to_f32(DT_F8_E5M2, 0x7c)));
    CHECK(dtype_fp8_to_f32(DT_F8_E5M2, 0x01) == 0x1p-16f);
    CHECK(isnan(dtype_fp8_to_f32(DT_F8_E4M3FNUZ, 0x80)) && dtype_fp8_to_f32(DT_F8_E4M3FNUZ, 0x7f) == 240.0f);
    CHECK(dtype_fp8_to_f32(DT_F8_E8M0, 127) == 1.0f && dtype_fp8_to_f32(DT_F8_E8M0, 0) == 0x1p-127f &&
          isnan(dtype_fp8_to_f32(DT_F8_E8M0, 0xff)));
}

/* Every reference input (every value, every midpoint and a float32 step
 * either side, overflow, underflow, infinities, NaNs) encodes to the
 * reference's code, one at a time and in bulk. */
static void test_fp8_encode_reference(void) {
    size_t n = sizeof fp8_ref_encode / sizeof fp8_ref_encode[0];
    int wrong = 0;
    for (size_t i = 0; i < n; i++) {
        const Fp8RefEncode *r = &fp8_ref_encode[i];
        DType dt = fp8_ref_dtypes[r->format];
        uint8_t got = dtype_f32_to_fp8(dt, from_bits(r->input));
        unsigned char bulk;
        float in = from_bits(r->input);
        dtype_encode_f32(dt, &in, &bulk, 1);
        if (got != r->code || bulk != r->code) {
            if (wrong++ < 5)
                fprintf(stderr, "  %s 0x%08x: got 0x%02x, want 0x%02x\n", dtype_st_name(dt), r->input, got,
                        r->code);
        }
    }
    CHECK(n > 1000);
    CHECK(wrong == 0);
}

/* Every finite code re-encodes to itself (a -0 of FNUZ does not exist). */
static void test_fp8_round_trip(void) {
    int wrong = 0;
    for (int k = 0; k < 4; k++) {
        DType dt = fp8_ref_dtypes[k];
        for (int b = 0; b < 256; b++) {
            float v = dtype_fp8_to_f32(dt, (uint8_t)b);
            if (!isfinite(v)) continue;
            wrong += dtype_f32_to_fp8(dt, v) != b;
        }
    }
    CHECK(wrong == 0);
}

/* Ties to even, overflow as torch casts, NaN kept, written out by hand. */
static void test_fp8_edges(void) {
    /* 1 + 1/16 is halfway between 1 (0x38, even) and 1.125 (0x39): down;
     * 1 + 3/16 between 1.125 (odd) and 1.25 (0x3a): up. */
    CHECK(dtype_f32_to_fp8(DT_F8_E4M3, 1.0625f) == 0x38);
    CHECK(dtype_f32_to_fp8(DT_F8_E4M3, 1.1875f) == 0x3a);
    CHECK(dtype_f32_to_fp8(DT_F8_E4M3, nextafterf(1.0625f, 2.0f)) == 0x39);
    /* Subnormal ties: 2^-10 is half the smallest subnormal: to +0 / -0. */
    CHECK(dtype_f32_to_fp8(DT_F8_E4M3, 0x1p-10f) == 0x00);
    CHECK(dtype_f32_to_fp8(DT_F8_E4M3, -0x1p-10f) == 0x80);
    CHECK(dtype_f32_to_fp8(DT_F8_E4M3, 3 * 0x1p-10f) == 0x02);
    /* float8_e4m3fn: 464 (the midpoint above 448) ties down to 448; above it, and
     * infinities, torch's cast gives NaN. */
    CHECK(dtype_f32_to_fp8(DT_F8_E4M3, 464.0f) == 0x7e);
    CHECK(dtype_f32_to_fp8(DT_F8_E4M3, -465.0f) == 0xff);
    CHECK(dtype_f32_to_fp8(DT_F8_E4M3, INFINITY) == 0x7f);
    /* float8_e5m2 overflows to infinity; 61440 ties up (57344 is odd). */
    CHECK(dtype_f32_to_fp8(DT_F8_E5M2, 61440.0f) == 0x7c);
    CHECK(dtype_f32_to_fp8(DT_F8_E5M2, -1e30f) == 0xfc);
    CHECK(dtype_f32_to_fp8(DT_F8_E5M2, nextafterf(61440.0f, 0.0f)) == 0x7b);
    CHECK(dtype_f32_to_fp8(DT_F8_E5M2, NAN) == 0x7f);
    /* FNUZ: one NaN, no -0. */
    CHECK(dtype_f32_to_fp8(DT_F8_E4M3FNUZ, -0.0f) == 0x00);
    CHECK(dtype_f32_to_fp8(DT_F8_E4M3FNUZ, -NAN) == 0x80 && dtype_f32_to_fp8(DT_F8_E5M2FNUZ, 1e9f) == 0x80);
}

/* The overflow-finding encoder names the first finite value that did not
 * fit, and n when all did; a NaN already in the input is not an overflow. */
static void test_encode_overflow_index(void) {
    float v[5] = { 1.0f, NAN, 300.0f, 500.0f, 1e6f };
    unsigned char out[5 * 8];
    CHECK(dtype_encode_f32_overflow(DT_F8_E4M3, v, out, 5) == 3);
    CHECK(out[2] == dtype_f32_to_fp8(DT_F8_E4M3, 300.0f));
    CHECK(dtype_encode_f32_overflow(DT_F8_E4M3, v, out, 3) == 3);
    CHECK(dtype_encode_f32_overflow(DT_F8_E5M2, v, out, 4) == 4);
    CHECK(dtype_encode_f32_overflow(DT_F8_E5M2, v, out, 5) == 4);
    float big[2] = { 1.0f, 1e5f };
    CHECK(dtype_encode_f32_overflow(DT_F8_E5M2, big, out, 2) == 1);
    CHECK(dtype_encode_f32_overflow(DT_F16, big, out, 2) == 1);
    CHECK(dtype_encode_f32_overflow(DT_BF16, big, out, 2) == 2);
    CHECK(dtype_encode_f32_overflow(DT_F32, v, out, 5) == 5);
}

int main(void) {
    RUN_TEST(test_names);
    RUN_TEST(test_bf16_edges);
    RUN_TEST(test_f16_edges);
    RUN_TEST(test_bf16_all_midpoints);
    RUN_TEST(test_f16_all_midpoints);
    RUN_TEST(test_bf16_round_trip_all);
    RUN_TEST(test_f16_round_trip_all);
    RUN_TEST(test_bulk_unaligned);
    RUN_TEST(test_decode_checks_finite);
    RUN_TEST(test_fp8_decode_all);
    RUN_TEST(test_fp8_encode_reference);
    RUN_TEST(test_fp8_round_trip);
    RUN_TEST(test_fp8_edges);
    RUN_TEST(test_encode_overflow_index);
    return CHECK_DONE();
}
