/* tensor.h - one tensor's values during evaluation.
 *
 * Float tensors are held as float32 (whatever their stored dtype), since
 * every kernel computes in float32 with float64 accumulators. Integer and
 * bool tensors are never computed on: they keep a pointer to their stored
 * bytes and pass through from the first model. A Tensor's memory belongs to
 * the per-tensor arena of the evaluation that made it. */
#ifndef MERGELANG_TENSOR_H
#define MERGELANG_TENSOR_H

#include <stdint.h>

#include "runtime/core/dtype.h"
#include "runtime/core/shape.h"

typedef struct Tensor {
    DType dtype;           /* stored dtype of the input it came from */
    Shape shape;
    int64_t numel;
    float *f;              /* float32 values, or NULL for a pass-through tensor */
    const uint8_t *raw;    /* stored bytes of a pass-through (non-float) tensor */
} Tensor;

#endif
