/* dtype.h - element types of checkpoint tensors and conversions to and from
 * the float32 the merge kernels compute in.
 *
 * Float types (F32, F16, BF16, F64 and the 8-bit floats F8_E4M3, F8_E5M2,
 * F8_E4M3FNUZ, F8_E5M2FNUZ) are decoded to float32 for computing (exactly:
 * every one of their values is a float32) and encoded back with
 * round-to-nearest-even; NaN stays NaN (quiet), F16 and FP8 subnormals are
 * exact. Overflow follows torch's casts: infinity for F16, BF16 and F8_E5M2,
 * NaN for the formats without infinities (F8_E4M3 is torch's float8_e4m3fn:
 * max 448, NaN S.1111.111; the FNUZ formats' one NaN is 0x80); the output
 * writer refuses such an overflow for the 8-bit floats and F16 (docs/formats.md).
 * F8_E8M0 (exponent-only MX scales) is decoded (2^(e-127), 0xFF NaN) but not
 * computed on: it only ever appears as a scale, which model() refuses.
 * Integer and bool dtypes are known so that headers validate, but they are
 * never computed on: they pass through from the first model unchanged.
 * safetensors dtypes that are not in the enum at all (packed sub-byte F4 and
 * F6 formats, complex C64) are refused by name: dtype_st_refusal. Byte order
 * is little-endian, as safetensors requires; source buffers may be unaligned
 * (mmap offsets). */
#ifndef MERGELANG_DTYPE_H
#define MERGELANG_DTYPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum DType {
    DT_F32,
    DT_F16,
    DT_BF16,
    DT_F64,
    DT_F8_E4M3,
    DT_F8_E5M2,
    DT_F8_E4M3FNUZ,
    DT_F8_E5M2FNUZ,
    DT_F8_E8M0,
    DT_I8,
    DT_I16,
    DT_I32,
    DT_I64,
    DT_U8,
    DT_U16,
    DT_U32,
    DT_U64,
    DT_BOOL,
    DT_COUNT
} DType;

/* Bytes per element. */
size_t dtype_size(DType dt);
/* The safetensors header spelling: "F32", "BF16", "I64", "BOOL", ... */
const char *dtype_st_name(DType dt);
bool dtype_from_st_name(const char *s, size_t len, DType *out);
/* For a safetensors dtype this program knows but cannot read ("F4",
 * "F6_E2M3", "F6_E3M2", "C64"): why, and what to do, as a sentence; NULL for
 * any other name. */
const char *dtype_st_refusal(const char *s, size_t len);
/* The torch spelling used in config.json and in recipes: "float32",
 * "bfloat16", "float16", "float64", "float8_e4m3fn", "int64", ... */
const char *dtype_torch_name(DType dt);
/* Accepts the torch spellings plus the common aliases "float", "half",
 * "bf16", "fp16", "fp32", "f32", "f16". */
bool dtype_from_torch_name(const char *s, DType *out);
/* True for the types the kernels compute on: F32, F16, BF16, F64 and the
 * four 8-bit float formats (not F8_E8M0). */
bool dtype_is_computable(DType dt);
/* True for the 1-byte float formats, F8_E8M0 included. */
bool dtype_is_fp8(DType dt);

float dtype_bf16_to_f32(uint16_t h);
uint16_t dtype_f32_to_bf16(float f);
float dtype_f16_to_f32(uint16_t h);
uint16_t dtype_f32_to_f16(float f);
/* One byte of an 8-bit float format (dtype_is_fp8) to float32, exactly. */
float dtype_fp8_to_f32(DType dt, uint8_t b);
/* float32 to an 8-bit float format other than F8_E8M0, round to nearest
 * even; overflow as described at the top. */
uint8_t dtype_f32_to_fp8(DType dt, float f);

/* Decodes n elements of a computable dtype from src (any alignment) into dst. */
void dtype_decode_f32(DType src_dt, const void *src, float *dst, size_t n);
/* dtype_decode_f32 that also says whether every decoded value is finite,
 * checked in the same pass. */
bool dtype_decode_f32_finite(DType src_dt, const void *src, float *dst, size_t n);
/* Encodes n float32 values into a computable dtype at dst (any alignment). */
void dtype_encode_f32(DType dst_dt, const float *src, void *dst, size_t n);
/* dtype_encode_f32 that also finds the first finite value the encoding made
 * infinite or NaN (out of the format's range): its index, or n if none. */
size_t dtype_encode_f32_overflow(DType dst_dt, const float *src, void *dst, size_t n);

#endif
