/* dtype.c - dtype names and sizes, and the float conversions the kernels
 * rely on; see dtype.h.
 *
 * Implementation notes: conversions work on bit patterns so that rounding is
 * round-to-nearest-even (the one step that uses the FPU, F16 subnormals,
 * relies on the default rounding mode, which the program never changes), NaN
 * keeps its sign and comes out quiet, and F16 subnormals are exact both ways. The per-element helpers
 * are small and branch-light so that the decode/encode loops vectorise.
 * Buffers may be unaligned (tensor data sits at arbitrary mmap offsets), so
 * every load and store of file data goes through memcpy. */
#include "runtime/core/dtype.h"

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
    [DT_F8_E4M3] = {"F8_E4M3", NULL, 1, false},
    [DT_F8_E5M2] = {"F8_E5M2", NULL, 1, false},
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
    default:
        break;
    }
}
