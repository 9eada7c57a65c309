/* kernels.c - numeric primitives; see kernels.h. */
#include "runtime/kernels/kernels.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "runtime/core/simd.h"

SIMD_CLONES
void kern_binary(KernOp op, const float *a, const float *b, float *out, size_t n) {
    switch (op) {
    case KERN_ADD: for (size_t j = 0; j < n; j++) out[j] = a[j] + b[j]; break;
    case KERN_SUB: for (size_t j = 0; j < n; j++) out[j] = a[j] - b[j]; break;
    case KERN_MUL: for (size_t j = 0; j < n; j++) out[j] = a[j] * b[j]; break;
    case KERN_DIV: for (size_t j = 0; j < n; j++) out[j] = a[j] / b[j]; break;
    }
}

SIMD_CLONES
void kern_binary_scalar(KernOp op, const float *a, double s, int scalar_left, float *out, size_t n) {
    /* Scalars are rounded to float32 first, as a weight would be in torch. */
    float f = (float)s;
    switch (op) {
    case KERN_ADD: for (size_t j = 0; j < n; j++) out[j] = a[j] + f; break;
    case KERN_SUB:
        if (scalar_left) for (size_t j = 0; j < n; j++) out[j] = f - a[j];
        else for (size_t j = 0; j < n; j++) out[j] = a[j] - f;
        break;
    case KERN_MUL: for (size_t j = 0; j < n; j++) out[j] = a[j] * f; break;
    case KERN_DIV:
        if (scalar_left) for (size_t j = 0; j < n; j++) out[j] = f / a[j];
        else for (size_t j = 0; j < n; j++) out[j] = a[j] / f;
        break;
    }
}

SIMD_CLONES
void kern_neg(const float *a, float *out, size_t n) {
    for (size_t j = 0; j < n; j++) out[j] = -a[j];
}

/* Eight running sums (entry j into sum j % 8) added up in order at the
 * end: a fixed order, so the same result everywhere, that vectorises. */
SIMD_CLONES
double kern_dot(const float *a, const float *b, size_t n) {
    double lane[8] = { 0 };
    size_t j = 0;
    for (; j + 8 <= n; j += 8)
        for (int l = 0; l < 8; l++) lane[l] += (double)a[j + l] * (double)b[j + l];
    double s = 0;
    for (int l = 0; l < 8; l++) s += lane[l];
    for (; j < n; j++) s += (double)a[j] * (double)b[j];
    return s;
}

double kern_sumsq(const float *a, size_t n) {
    return kern_dot(a, a, n);
}

/* One entry at a time with every model's value for it in registers; the
 * models are added in order 0..k-1, as a loop over them would. Inlined with
 * k a constant the model loop unrolls and the entry loop vectorises. */
static inline __attribute__((always_inline)) void weighted_sum_entries(const float *const *xs, const double *w,
                                                                       size_t k, double divisor, float *out,
                                                                       size_t n) {
    for (size_t j = 0; j < n; j++) {
        double acc = 0;
        for (size_t i = 0; i < k; i++) acc += w[i] * (double)xs[i][j];
        out[j] = (float)(acc / divisor);
    }
}

SIMD_CLONES
void kern_weighted_sum(const float *const *xs, const double *w, size_t n_models,
                       double divisor, float *out, size_t n) {
    switch (n_models) {
#define WSUM_K(K) \
    case K: weighted_sum_entries(xs, w, K, divisor, out, n); break;
    WSUM_K(1) WSUM_K(2) WSUM_K(3) WSUM_K(4) WSUM_K(5) WSUM_K(6) WSUM_K(7) WSUM_K(8)
#undef WSUM_K
    default: weighted_sum_entries(xs, w, n_models, divisor, out, n); break;
    }
}

/* Integer tests on the exponent bits: an OR over the entries vectorises,
 * where a float sum would not (float addition is not associative). */
SIMD_CLONES
bool kern_all_finite(const float *a, size_t n) {
    uint32_t bad = 0;
    for (size_t j = 0; j < n; j++) {
        uint32_t u;
        memcpy(&u, &a[j], sizeof u);
        bad |= (u & 0x7f800000u) == 0x7f800000u;
    }
    return bad == 0;
}

void kern_slerp_scales(double sumsq_a, double sumsq_b, double dot_ab, double t, double *s0, double *s1) {
    const double eps = 1e-8, dot_threshold = 0.9995;
    double na = sqrt(sumsq_a), nb = sqrt(sumsq_b);
    double ua = na > eps ? na : 1.0, ub = nb > eps ? nb : 1.0;
    double dot = dot_ab / (ua * ub);
    if (fabs(dot) > dot_threshold) {
        *s0 = 1.0 - t;
        *s1 = t;
    } else {
        double theta = acos(dot), st = sin(theta);
        *s0 = sin(theta - theta * t) / st;
        *s1 = sin(theta * t) / st;
    }
}

SIMD_CLONES
void kern_slerp_apply(const float *a, const float *b, double s0, double s1, float *out, size_t n) {
    for (size_t j = 0; j < n; j++) out[j] = (float)(s0 * (double)a[j] + s1 * (double)b[j]);
}

void kern_slerp(const float *a, const float *b, double t, float *out, size_t n) {
    double s0, s1;
    kern_slerp_scales(kern_sumsq(a, n), kern_sumsq(b, n), kern_dot(a, b, n), t, &s0, &s1);
    kern_slerp_apply(a, b, s0, s1, out, n);
}
