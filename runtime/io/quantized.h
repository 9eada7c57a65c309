/* quantized.h - recognising checkpoints whose weights are stored quantized
 * with scale tensors beside them (block-scaled FP8 as in DeepSeek-V3 and
 * Qwen3-FP8, compressed-tensors' weight_scale, MXFP4 blocks + scales).
 * Their raw values are not the weights, so merging them as such would be
 * silently wrong; until dequantization exists, model() refuses them with
 * what quant_find_scaled reports. Names only: no tensor data is read. */
#ifndef MERGELANG_QUANTIZED_H
#define MERGELANG_QUANTIZED_H

#include <stdbool.h>
#include <stddef.h>

#include "runtime/io/checkpoint.h"

typedef struct QuantFinding {
    const CkptTensor *weight;     /* the quantized tensor (the scale itself when it has no partner) */
    const CkptTensor *companion;  /* the scale tensor that gives it away */
    const char *kind;             /* e.g. "FP8 with block scales (weight_scale_inv)" */
    size_t count;                 /* quantized tensors found in the checkpoint */
} QuantFinding;

/* True, with the first finding in name order and the count, when c holds
 * quantized weights with scales; false otherwise. */
bool quant_find_scaled(const Ckpt *c, QuantFinding *out);

#endif
