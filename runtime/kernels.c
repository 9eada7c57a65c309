/* kernels.c - numeric primitives; see kernels.h. */
#include "kernels.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "simd.h"

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

SIMD_CLONES
void kern_weighted_sum(const float *const *xs, const double *w, size_t n_models,
                       double divisor, float *out, size_t n) {
    /* Blocks of entries with a float64 accumulator each: the inner loops run
     * over entries, which the compiler vectorises (over models they would
     * not: there are only a few). */
    enum { BLOCK = 512 };
    double acc[BLOCK];
    for (size_t b = 0; b < n; b += BLOCK) {
        size_t m = n - b < BLOCK ? n - b : BLOCK;
        for (size_t j = 0; j < m; j++) acc[j] = 0;
        for (size_t i = 0; i < n_models; i++) {
            const float *x = xs[i] + b;
            double wi = w[i];
            for (size_t j = 0; j < m; j++) acc[j] += wi * (double)x[j];
        }
        for (size_t j = 0; j < m; j++) out[b + j] = (float)(acc[j] / divisor);
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
