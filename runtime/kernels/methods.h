/* methods.h - kernels of the merge methods outside the task-arithmetic
 * family: nuslerp, multislerp, karcher, model_stock, nearswap, sce, ram,
 * ramplus_tl, arcee_fusion.
 *
 * Semantics follow mergekit (../shared/reference/mergekit.md, section 1).
 * All take float32 arrays of whole tensors (models in the same shape),
 * accumulate reductions in float64, and write `out`. Scratch space is
 * passed in; none allocates. A "row" is the last dimension (n_rows rows of
 * row_len entries; a 1-D tensor is one row). `out` must not alias an input.
 * Functions that can fail return -1 with a reason in *why (a static string)
 * and 0 otherwise. */
#ifndef MERGELANG_METHODS_H
#define MERGELANG_METHODS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* nuslerp of two vectors v0 (t = 0) and v1 (t = 1), each n_rows x row_len.
 * mode 0: whole tensor flattened (nuslerp_flatten true); mode 1: each row
 * independently (flatten false, row_wise false); mode 2: each column
 * independently (flatten false, row_wise true) — mergekit's vectors then lie
 * along dim 0, so pass n_rows = shape[0] and row_len = numel / shape[0]. u = v / max(|v|, 1e-7),
 * cos = clamp(u0.u1, -1, 1), theta = acos, res = (sin((1-t)theta) v0 +
 * sin(t theta) v1) / sin(theta); where |sin(theta)| < 1e-8 the lerp. */
void meth_nuslerp(const float *v0, const float *v1, size_t n_rows, size_t row_len, int mode,
                  double t, float *out);

/* multislerp of k vectors of n entries with weights w (normalized to sum 1
 * when normalize_weights), eps as in mergekit. base may be NULL; with a base,
 * works on task vectors and adds base back. k == 1 returns the vector (or
 * base + delta) unchanged. Fails when the mean direction vanishes with more
 * than 2 models. scratch: 2*n floats. */
int meth_multislerp(const float *const *vs, const double *w, size_t k, const float *base,
                    size_t n, bool normalize_weights, double eps, float *out, float *scratch,
                    const char **why);

/* Karcher mean of k vectors (equal weights 1/k), max_iter, tol as in
 * mergekit. scratch: 3*n floats. */
void meth_karcher(const float *const *vs, size_t k, size_t n, int max_iter, double tol,
                  float *out, float *scratch);

/* Model Stock: k >= 2 models besides the base; filter_wise: per row. */
void meth_model_stock(const float *base, const float *const *xs, size_t k, size_t n_rows,
                      size_t row_len, bool filter_wise, float *out);

/* nearswap: w = clamp(t / max(|base - x|, 1e-6), 0, 1); out = w x + (1-w) base. */
void meth_nearswap(const float *base, const float *x, size_t n, double t, float *out);

/* SCE: k models, select_topk in (0, 1]; scratch: n floats + n uint32 + n
 * bytes (pass all three). */
void meth_sce(const float *base, const float *const *xs, size_t k, size_t n, double select_topk,
              float *out, float *scratch_f, uint32_t *scratch_idx, uint8_t *scratch_mask);

/* RAM (ram) and RAM+ tensor-local (ramplus when plus is true, with r and
 * alpha). scratch: n uint8. */
void meth_ram(const float *base, const float *const *xs, size_t k, size_t n, double epsilon,
              bool plus, double r, double alpha, float *out, uint8_t *scratch);

/* Arcee fusion of base and x (n_rows x row_len). Quantiles on at most 1e6
 * entries: when n > 1e6, a random subsample drawn from `stream` (our own
 * counter-based RNG, so not torch's randperm). scratch: 2*n floats +
 * n_rows doubles. */
void meth_arcee_fusion(const float *base, const float *x, size_t n_rows, size_t row_len,
                       uint64_t stream, float *out, float *scratch_f, double *scratch_rows);

#endif
