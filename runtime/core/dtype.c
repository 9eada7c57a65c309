/* dtype.c - dtype names and sizes, and the float conversions the kernels
 * rely on; see dtype.h.
 *
 * Implementation notes: conversions work on bit patterns so that rounding is
 * round-to-nearest-even (the one step that uses the FPU, F16 subnormals,
 * relies on the default rounding mode, which the program never changes), NaN
 * keeps its sign and comes out quiet, and F16 subnormals are exact both ways.
 * The 8-bit floats are decoded through a 256-entry table and encoded in
 * double arithmetic, where every step is exact. The per-element helpers
 * are small and branch-light so that the decode/encode loops vectorise.
 * Buffers may be unaligned (tensor data sits at arbitrary mmap offsets), so
 * every load and store of file data goes through memcpy. */
#include "runtime/core/dtype.h"

#include <math.h>
#include <string.h>

#include "runtime/core/simd.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors data is little-endian; big-endian hosts need byte swapping here"
#endif

typedef struct DTypeInfo {
    const char *st_name;
    const char *torch_name;
    size_t size;
    bool computable;
} DTypeInfo;

/* Indexed by DType; the static_assert below keeps it aligned with the enum. */
static const DTypeInfo dtype_info[] = {
    [DT_F32] = {"F32", "float32", 4, true},
    [DT_F16] = {"F16", "float16", 2, true},
    [DT_BF16] = {"BF16", "bfloat16", 2, true},
    [DT_F64] = {"F64", "float64", 8, true},
    [DT_F8_E4M3] = {"F8_E4M3", "float8_e4m3fn", 1, true},
    [DT_F8_E5M2] = {"F8_E5M2", "float8_e5m2", 1, true},
    [DT_F8_E4M3FNUZ] = {"F8_E4M3FNUZ", "float8_e4m3fnuz", 1, true},
    [DT_F8_E5M2FNUZ] = {"F8_E5M2FNUZ", "float8_e5m2fnuz", 1, true},
    [DT_F8_E8M0] = {"F8_E8M0", "float8_e8m0fnu", 1, false},
    [DT_I8] = {"I8", "int8", 1, false},
    [DT_I16] = {"I16", "int16", 2, false},
    [DT_I32] = {"I32", "int32", 4, false},
    [DT_I64] = {"I64", "int64", 8, false},
    [DT_U8] = {"U8", "uint8", 1, false},
    [DT_U16] = {"U16", "uint16", 2, false},
    [DT_U32] = {"U32", "uint32", 4, false},
    [DT_U64] = {"U64", "uint64", 8, false},
    [DT_BOOL] = {"BOOL", "bool", 1, false},
};
_Static_assert(sizeof dtype_info / sizeof dtype_info[0] == DT_COUNT,
               "dtype_info must have one entry per DType");

static bool valid(DType dt) {
    return (unsigned)dt < (unsigned)DT_COUNT;
}

size_t dtype_size(DType dt) {
    return valid(dt) ? dtype_info[dt].size : 0;
}

const char *dtype_st_name(DType dt) {
    return valid(dt) ? dtype_info[dt].st_name : "?";
}

bool dtype_from_st_name(const char *s, size_t len, DType *out) {
    for (int i = 0; i < DT_COUNT; i++) {
        const char *n = dtype_info[i].st_name;
        if (strlen(n) == len && memcmp(n, s, len) == 0) {
            *out = (DType)i;
            return true;
        }
    }
    return false;
}

const char *dtype_st_refusal(const char *s, size_t len) {
    static const struct { const char *name, *why; } refused[] = {
        {"F4", "4-bit MX floats (packed two per byte) are not supported; dequantize the checkpoint to "
               "bfloat16 first"},
        {"F6_E2M3", "6-bit MX floats (packed) are not supported; dequantize the checkpoint to bfloat16 first"},
        {"F6_E3M2", "6-bit MX floats (packed) are not supported; dequantize the checkpoint to bfloat16 first"},
        {"C64", "complex tensors cannot be merged; remove the tensor or convert the checkpoint"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        if (strlen(refused[i].name) == len && memcmp(refused[i].name, s, len) == 0) return refused[i].why;
    return NULL;
}

const char *dtype_torch_name(DType dt) {
    return valid(dt) ? dtype_info[dt].torch_name : NULL;
}

bool dtype_from_torch_name(const char *s, DType *out) {
    static const struct { const char *alias; DType dt; } aliases[] = {
        {"float", DT_F32}, {"fp32", DT_F32}, {"f32", DT_F32},
        {"half", DT_F16},  {"fp16", DT_F16}, {"f16", DT_F16},
        {"bf16", DT_BF16},
    };
    for (int i = 0; i < DT_COUNT; i++) {
        const char *n = dtype_info[i].torch_name;
        if (n && strcmp(n, s) == 0) {
            *out = (DType)i;
            return true;
        }
    }
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++) {
        if (strcmp(aliases[i].alias, s) == 0) {
            *out = aliases[i].dt;
            return true;
        }
    }
    return false;
}

bool dtype_is_computable(DType dt) {
    return valid(dt) && dtype_info[dt].computable;
}

bool dtype_is_fp8(DType dt) {
    return dt == DT_F8_E4M3 || dt == DT_F8_E5M2 || dt == DT_F8_E4M3FNUZ || dt == DT_F8_E5M2FNUZ ||
           dt == DT_F8_E8M0;
}

/* ---- scalar conversions ---------------------------------------------------- */

static inline uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline float bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline float bf16_to_f32(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    /* A signalling NaN would survive the shift; make it quiet. */
    if ((u & 0x7fffffffu) > 0x7f800000u) u |= 0x00400000u;
    return bits_f32(u);
}

static inline uint16_t f32_to_bf16(float f) {
    uint32_t u = f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u)
        /* The payload may live only in the low half: force the quiet bit so
         * truncation cannot turn the NaN into an infinity. */
        return (uint16_t)((u >> 16) | 0x0040u);
    /* RNE on the dropped 16 bits; a carry out of the mantissa bumps the
     * exponent, which also turns overflow into infinity. */
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

static inline float f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t em = h & 0x7fffu;
    /* Placing the f16 exponent and mantissa in the low f32 bits and scaling
     * by 2^(127-15) rebiases normals and turns subnormals into exact normals
     * in one multiply (the product is always exact, so the rounding mode
     * does not matter). */
    uint32_t u = f32_bits(bits_f32(em << 13) * 0x1p112f);
    /* Infinity and NaN: masks rather than branches keep the loop vectorisable. */
    uint32_t special = 0u - (uint32_t)(em >= 0x7c00u);
    uint32_t quiet = (0u - (uint32_t)(em > 0x7c00u)) & 0x00400000u;
    uint32_t inf_nan = 0x7f800000u | (em & 0x3ffu) << 13 | quiet;
    u = (u & ~special) | (inf_nan & special);
    return bits_f32(u | sign);
}

static inline uint16_t f32_to_f16(float f) {
    uint32_t u = f32_bits(f);
    uint32_t sign = (u >> 16) & 0x8000u;
    uint32_t a = u & 0x7fffffffu;
    /* Normal result: rebias the exponent (127 -> 15) and round the 13
     * dropped bits to nearest even; a carry bumps the exponent. Only valid
     * for a >= 2^-14, selected below. */
    uint32_t normal = (a - 0x38000000u + 0x0fffu + ((a >> 13) & 1u)) >> 13;
    /* Subnormal result (a < 2^-14): adding 0.5 puts the value where one f32
     * ulp is 2^-24, one f16 subnormal step, so the FPU's rounding (always
     * the default nearest-even here; nothing changes it) yields the mantissa
     * directly. Values up to 2^-25 round to zero, ties to even. */
    uint32_t sub = f32_bits(bits_f32(a) + 0.5f) - 0x3f000000u;
    uint32_t nan = 0x7e00u | ((a >> 13) & 0x3ffu); /* quiet, top payload bits kept */
    /* Selection by masks, not branches, so that the loop vectorises. */
    uint32_t is_sub = 0u - (uint32_t)(a < 0x38800000u);
    uint32_t is_inf = 0u - (uint32_t)(a >= 0x477ff000u); /* >= 65520, the midpoint above 65504 */
    uint32_t is_nan = 0u - (uint32_t)(a > 0x7f800000u);
    uint32_t r = (sub & is_sub) | (normal & ~is_sub);
    r = (0x7c00u & is_inf) | (r & ~is_inf);
    r = (nan & is_nan) | (r & ~is_nan);
    return (uint16_t)(sign | r);
}

/* ---- 8-bit floats ------------------------------------------------------------- */

/* How an 8-bit format spends its codes. IEEE: the top exponent is infinity
 * (mantissa 0) or NaN (F8_E5M2). FN: only S.1111.111 is NaN, no infinity
 * (F8_E4M3, torch's float8_e4m3fn). FNUZ: 0x80 (the would-be -0) is the one
 * NaN, no infinity, no -0. */
typedef enum Fp8Kind { FP8_IEEE, FP8_FN, FP8_FNUZ } Fp8Kind;

typedef struct Fp8Format {
    int ebits, mbits, bias;
    Fp8Kind kind;
} Fp8Format;

static Fp8Format fp8_format(DType dt) {
    switch (dt) {
    case DT_F8_E5M2: return (Fp8Format){5, 2, 15, FP8_IEEE};
    case DT_F8_E4M3FNUZ: return (Fp8Format){4, 3, 8, FP8_FNUZ};
    case DT_F8_E5M2FNUZ: return (Fp8Format){5, 2, 16, FP8_FNUZ};
    default: return (Fp8Format){4, 3, 7, FP8_FN};
    }
}

static float quiet_nan(bool negative) {
    return bits_f32(0x7fc00000u | (negative ? 0x80000000u : 0u));
}

float dtype_fp8_to_f32(DType dt, uint8_t b) {
    if (dt == DT_F8_E8M0) return b == 0xff ? quiet_nan(false) : ldexpf(1.0f, (int)b - 127);
    Fp8Format f = fp8_format(dt);
    bool negative = b & 0x80;
    int emax = (1 << f.ebits) - 1, mmax = (1 << f.mbits) - 1;
    int e = (b >> f.mbits) & emax, m = b & mmax;
    if (f.kind == FP8_FNUZ && b == 0x80) return quiet_nan(true);
    if (f.kind == FP8_FN && e == emax && m == mmax) return quiet_nan(negative);
    if (f.kind == FP8_IEEE && e == emax) return m ? quiet_nan(negative) : negative ? -INFINITY : INFINITY;
    /* Subnormals share the smallest normal exponent without the implicit 1;
     * both products are exact (at most 4 significant bits). */
    float v = e == 0 ? ldexpf((float)m, 1 - f.bias - f.mbits) : ldexpf((float)((1 << f.mbits) + m), e - f.bias - f.mbits);
    return negative ? -v : v;
}

uint8_t dtype_f32_to_fp8(DType dt, float x) {
    Fp8Format f = fp8_format(dt);
    int emax = (1 << f.ebits) - 1, mmax = (1 << f.mbits) - 1;
    uint8_t sign = (f32_bits(x) >> 24) & 0x80u;
    uint8_t nan = f.kind == FP8_FNUZ ? 0x80u : (uint8_t)(sign | 0x7fu);
    uint8_t overflow = f.kind == FP8_IEEE ? (uint8_t)(sign | (emax << f.mbits)) : nan;
    if (isnan(x)) return nan;
    if (isinf(x)) return overflow;
    /* The largest finite value: the top exponent is reserved in IEEE, the
     * top code is NaN in FN, everything but 0x80 is a number in FNUZ. */
    int top_e = f.kind == FP8_IEEE ? emax - 1 : emax;
    int top_m = f.kind == FP8_FN ? mmax - 1 : mmax;
    double max_finite = ldexp((double)((1 << f.mbits) + top_m), top_e - f.bias - f.mbits);
    /* Round |x| to a multiple of the quantum of its binade (the subnormal
     * quantum below the normal range): every step is exact in double, and
     * rint rounds ties to even (the default mode, never changed). */
    double a = fabs((double)x);
    int exp2;
    frexp(a, &exp2);
    int emin = 1 - f.bias;
    int binade = exp2 - 1 < emin ? emin : exp2 - 1;
    double quantum = ldexp(1.0, binade - f.mbits);
    double r = rint(a / quantum) * quantum;
    if (r > max_finite) return overflow;
    if (r == 0) return f.kind == FP8_FNUZ ? 0 : sign;
    uint8_t code;
    if (r < ldexp(1.0, emin)) {
        code = (uint8_t)(r / ldexp(1.0, emin - f.mbits));
    } else {
        frexp(r, &exp2);
        int e = exp2 - 1;
        int m = (int)(r / ldexp(1.0, e - f.mbits)) - (1 << f.mbits);
        code = (uint8_t)(((e + f.bias) << f.mbits) | m);
    }
    return (uint8_t)(sign | code);
}

/* Every code of a format decoded once, so that bulk decoding is a lookup. */
static void fp8_table(DType dt, float table[256]) {
    for (int b = 0; b < 256; b++) table[b] = dtype_fp8_to_f32(dt, (uint8_t)b);
}

float dtype_bf16_to_f32(uint16_t h) { return bf16_to_f32(h); }
uint16_t dtype_f32_to_bf16(float f) { return f32_to_bf16(f); }
float dtype_f16_to_f32(uint16_t h) { return f16_to_f32(h); }
uint16_t dtype_f32_to_f16(float f) { return f32_to_f16(f); }

/* ---- bulk conversions ---------------------------------------------------------- */

/* Exponent bits all ones: an infinity or a NaN. */
static inline uint32_t not_finite(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return (u & 0x7f800000u) == 0x7f800000u;
}

/* Decodes n values; with check, also returns whether any decoded value is
 * not finite (an OR in the same loop, so checking costs no second pass). */
static inline __attribute__((always_inline)) uint32_t decode(DType src_dt, const void *src, float *dst, size_t n,
                                                             bool check) {
    const unsigned char *s = src;
    uint32_t bad = 0;
    switch (src_dt) {
    case DT_F32:
        for (size_t i = 0; i < n; i++) {
            float f;
            memcpy(&f, s + 4 * i, 4);
            dst[i] = f;
            if (check) bad |= not_finite(f);
        }
        break;
    case DT_BF16:
        for (size_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, s + 2 * i, 2);
            dst[i] = bf16_to_f32(h);
            if (check) bad |= not_finite(dst[i]);
        }
        break;
    case DT_F16:
        for (size_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, s + 2 * i, 2);
            dst[i] = f16_to_f32(h);
            if (check) bad |= not_finite(dst[i]);
        }
        break;
    case DT_F64:
        for (size_t i = 0; i < n; i++) {
            double d;
            memcpy(&d, s + 8 * i, 8);
            dst[i] = (float)d;
            if (check) bad |= not_finite(dst[i]);
        }
        break;
    case DT_F8_E4M3:
    case DT_F8_E5M2:
    case DT_F8_E4M3FNUZ:
    case DT_F8_E5M2FNUZ:
    case DT_F8_E8M0: {
        float table[256];
        fp8_table(src_dt, table);
        for (size_t i = 0; i < n; i++) {
            dst[i] = table[s[i]];
            if (check) bad |= not_finite(dst[i]);
        }
        break;
    }
    default:
        /* Callers check dtype_is_computable first; zeros beat garbage if not. */
        memset(dst, 0, n * sizeof(float));
        break;
    }
    return bad;
}

SIMD_CLONES
void dtype_decode_f32(DType src_dt, const void *src, float *dst, size_t n) {
    if (src_dt == DT_F32) memcpy(dst, src, n * sizeof(float));
    else decode(src_dt, src, dst, n, false);
}

SIMD_CLONES
bool dtype_decode_f32_finite(DType src_dt, const void *src, float *dst, size_t n) {
    return decode(src_dt, src, dst, n, true) == 0;
}

SIMD_CLONES
void dtype_encode_f32(DType dst_dt, const float *src, void *dst, size_t n) {
    unsigned char *d = dst;
    switch (dst_dt) {
    case DT_F32:
        memcpy(d, src, n * sizeof(float));
        break;
    case DT_BF16:
        for (size_t i = 0; i < n; i++) {
            uint16_t h = f32_to_bf16(src[i]);
            memcpy(d + 2 * i, &h, 2);
        }
        break;
    case DT_F16:
        for (size_t i = 0; i < n; i++) {
            uint16_t h = f32_to_f16(src[i]);
            memcpy(d + 2 * i, &h, 2);
        }
        break;
    case DT_F64:
        for (size_t i = 0; i < n; i++) {
            double v = src[i];
            memcpy(d + 8 * i, &v, 8);
        }
        break;
    case DT_F8_E4M3:
    case DT_F8_E5M2:
    case DT_F8_E4M3FNUZ:
    case DT_F8_E5M2FNUZ:
        for (size_t i = 0; i < n; i++) d[i] = dtype_f32_to_fp8(dst_dt, src[i]);
        break;
    default:
        break;
    }
}

size_t dtype_encode_f32_overflow(DType dst_dt, const float *src, void *dst, size_t n) {
    dtype_encode_f32(dst_dt, src, dst, n);
    const unsigned char *d = dst;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(src[i])) continue;
        bool out_finite;
        if (dtype_is_fp8(dst_dt)) {
            out_finite = isfinite(dtype_fp8_to_f32(dst_dt, d[i]));
        } else if (dst_dt == DT_F16 || dst_dt == DT_BF16) {
            uint16_t h;
            memcpy(&h, d + 2 * i, 2);
            out_finite = isfinite(dst_dt == DT_F16 ? f16_to_f32(h) : bf16_to_f32(h));
        } else {
            out_finite = true; /* float32 to float32 or float64 cannot overflow */
        }
        if (!out_finite) return i;
    }
    return n;
}
