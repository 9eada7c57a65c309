/* kernels.h - the numeric primitives merge methods are built from.
 *
 * All take float32 arrays and compute with float64 accumulators; none
 * allocates. Method semantics (which kernel, which weights) live in the
 * interpreter's builtins; these functions are only the arithmetic, written as
 * plain loops the compiler can vectorise. Parameters follow mergekit's math
 * (see docs/methods.md). */
#ifndef MERGELANG_KERNELS_H
#define MERGELANG_KERNELS_H

#include <stdbool.h>
#include <stddef.h>

typedef enum KernOp { KERN_ADD, KERN_SUB, KERN_MUL, KERN_DIV } KernOp;

/* out[j] = a[j] op b[j]; out may alias a or b. */
void kern_binary(KernOp op, const float *a, const float *b, float *out, size_t n);
/* out[j] = a[j] op s (scalar_left: out[j] = s op a[j]); out may alias a. */
void kern_binary_scalar(KernOp op, const float *a, double s, int scalar_left, float *out, size_t n);
/* out[j] = -a[j]. */
void kern_neg(const float *a, float *out, size_t n);

double kern_dot(const float *a, const float *b, size_t n);
double kern_sumsq(const float *a, size_t n);

/* out[j] = (sum_i w[i] * xs[i][j]) / divisor, summed in float64, rounded once. */
void kern_weighted_sum(const float *const *xs, const double *w, size_t n_models,
                       double divisor, float *out, size_t n);

/* False when some entry is NaN or infinite. */
bool kern_all_finite(const float *a, size_t n);

/* Spherical interpolation of whole tensors a (t = 0) and b (t = 1), as
 * mergekit's slerp: vectors normalised when their norm exceeds 1e-8, linear
 * interpolation when |cos| > 0.9995. */
void kern_slerp(const float *a, const float *b, double t, float *out, size_t n);
/* kern_slerp in steps, for tensors seen in parts: the two scales from the
 * whole tensors' sums of squares and dot product, then out = s0*a + s1*b. */
void kern_slerp_scales(double sumsq_a, double sumsq_b, double dot_ab, double t, double *s0, double *s1);
void kern_slerp_apply(const float *a, const float *b, double s0, double s1, float *out, size_t n);

#endif
