/* dtype.h - element types of checkpoint tensors and conversions to and from
 * the float32 the merge kernels compute in.
 *
 * Float types (F32, F16, BF16, F64) are decoded to float32 for computing and
 * encoded back with round-to-nearest-even; NaN stays NaN (quiet), overflow
 * goes to infinity, F16 subnormals are exact. Integer and bool dtypes are
 * known so that headers validate, but they are never computed on: they pass
 * through from the first model unchanged. Byte order is little-endian, as
 * safetensors requires; source buffers may be unaligned (mmap offsets). */
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
/* The torch spelling used in config.json and in recipes: "float32",
 * "bfloat16", "float16", "float64", "int64", ...; NULL for F8 types. */
const char *dtype_torch_name(DType dt);
/* Accepts the torch spellings plus the common aliases "float", "half",
 * "bf16", "fp16", "fp32", "f32", "f16". */
bool dtype_from_torch_name(const char *s, DType *out);
/* True for the types the kernels compute on: F32, F16, BF16, F64. */
bool dtype_is_computable(DType dt);

float dtype_bf16_to_f32(uint16_t h);
uint16_t dtype_f32_to_bf16(float f);
float dtype_f16_to_f32(uint16_t h);
uint16_t dtype_f32_to_f16(float f);

/* Decodes n elements of a computable dtype from src (any alignment) into dst. */
void dtype_decode_f32(DType src_dt, const void *src, float *dst, size_t n);
/* dtype_decode_f32 that also says whether every decoded value is finite,
 * checked in the same pass. */
bool dtype_decode_f32_finite(DType src_dt, const void *src, float *dst, size_t n);
/* Encodes n float32 values into a computable dtype at dst (any alignment). */
void dtype_encode_f32(DType dst_dt, const float *src, void *dst, size_t n);

#endif
