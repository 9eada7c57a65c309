/* kernels.c - numeric primitives; see kernels.h. */
#include "kernels.h"

#include <math.h>

void kern_binary(KernOp op, const float *a, const float *b, float *out, size_t n) {
    switch (op) {
    case KERN_ADD: for (size_t j = 0; j < n; j++) out[j] = a[j] + b[j]; break;
    case KERN_SUB: for (size_t j = 0; j < n; j++) out[j] = a[j] - b[j]; break;
    case KERN_MUL: for (size_t j = 0; j < n; j++) out[j] = a[j] * b[j]; break;
    case KERN_DIV: for (size_t j = 0; j < n; j++) out[j] = a[j] / b[j]; break;
    }
}

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

void kern_neg(const float *a, float *out, size_t n) {
    for (size_t j = 0; j < n; j++) out[j] = -a[j];
}

double kern_dot(const float *a, const float *b, size_t n) {
    double s = 0;
    for (size_t j = 0; j < n; j++) s += (double)a[j] * (double)b[j];
    return s;
}

double kern_sumsq(const float *a, size_t n) {
    double s = 0;
    for (size_t j = 0; j < n; j++) s += (double)a[j] * (double)a[j];
    return s;
}

void kern_weighted_sum(const float *const *xs, const double *w, size_t n_models,
                       double divisor, float *out, size_t n) {
    for (size_t j = 0; j < n; j++) {
        double acc = 0;
        for (size_t i = 0; i < n_models; i++) acc += w[i] * (double)xs[i][j];
        out[j] = (float)(acc / divisor);
    }
}

void kern_slerp(const float *a, const float *b, double t, float *out, size_t n) {
    const double eps = 1e-8, dot_threshold = 0.9995;
    double na = sqrt(kern_sumsq(a, n)), nb = sqrt(kern_sumsq(b, n));
    double ua = na > eps ? na : 1.0, ub = nb > eps ? nb : 1.0;
    double dot = kern_dot(a, b, n) / (ua * ub);
    double s0, s1;
    if (fabs(dot) > dot_threshold) {
        s0 = 1.0 - t;
        s1 = t;
    } else {
        double theta = acos(dot), st = sin(theta);
        s0 = sin(theta - theta * t) / st;
        s1 = sin(theta * t) / st;
    }
    for (size_t j = 0; j < n; j++) out[j] = (float)(s0 * (double)a[j] + s1 * (double)b[j]);
}
