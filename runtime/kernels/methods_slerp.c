/* methods_slerp.c - the spherical merge kernels of methods.h: nuslerp (two
 * vectors: the whole tensor, each row or each column), multislerp (k
 * vectors, one tangent-space step at their weighted mean) and karcher (the
 * iterated Riemannian mean on the unit sphere).
 *
 * Implementation notes. Norms, dots and angles are float64 and every
 * output element is rounded to float32 once, so results agree with
 * mergekit's float32 torch code to float32 noise, not bit for bit. Sums
 * over models are formed per element in float64. They need one scalar per
 * model (a norm, a weight); since kernels take no per-model scratch, models
 * are taken GROUP at a time with those scalars on the stack. A tensor with
 * more than GROUP models has its partial sums rounded to float32 between
 * groups, as torch rounds every step. */
#include "runtime/kernels/methods.h"

#include <math.h>
#include <string.h>

enum { GROUP = 32, COL_BLOCK = 64 };

static double clamp1(double c) {
    /* NaN stays NaN, as torch.clamp leaves it. */
    return c > 1 ? 1 : c < -1 ? -1 : c;
}

static size_t min_size(size_t a, size_t b) {
    return a < b ? a : b;
}

/* ---- nuslerp ------------------------------------------------------------ */

/* The coefficients (c0, c1) of out = c0 v0 + c1 v1 for two vectors with
 * this dot product and these squared norms. */
static void nuslerp_coef(double dot, double ss0, double ss1, double t, double *c0,
                         double *c1) {
    double n0 = sqrt(ss0), n1 = sqrt(ss1), den;
    if (n0 < 1e-7 || n1 < 1e-7) {
        /* mergekit divides each vector by max(|v|, 1e-7) before the dot,
         * so a zero vector has cos 0 (theta = pi/2), not the lerp. */
        den = (n0 < 1e-7 ? 1e-7 : n0) * (n1 < 1e-7 ? 1e-7 : n1);
    } else {
        /* sqrt(ss0 ss1) rather than n0 n1: for v1 = +-2^j v0 it is exactly
         * |dot|, so cos is exactly +-1 and the lerp is taken. n0 n1 can land
         * an ulp off, which puts |sin theta| near 1.5e-8, just above the
         * 1e-8 cutoff; for antiparallel vectors the two branches differ. */
        den = sqrt(ss0 * ss1);
    }
    double theta = acos(clamp1(dot / den));
    double s = sin(theta);
    if (fabs(s) < 1e-8) {
        *c0 = 1 - t;
        *c1 = t;
    } else {
        *c0 = sin((1 - t) * theta) / s;
        *c1 = sin(t * theta) / s;
    }
}

static void nuslerp_span(const float *v0, const float *v1, size_t n, double t, float *out) {
    double dot = 0, ss0 = 0, ss1 = 0, c0, c1;
    for (size_t j = 0; j < n; j++) {
        double a = v0[j], b = v1[j];
        dot += a * b;
        ss0 += a * a;
        ss1 += b * b;
    }
    nuslerp_coef(dot, ss0, ss1, t, &c0, &c1);
    for (size_t j = 0; j < n; j++) out[j] = (float)(c0 * v0[j] + c1 * v1[j]);
}

/* Columns are walked COL_BLOCK at a time so every pass reads rows
 * contiguously, with the per-column sums on the stack. */
static void nuslerp_columns(const float *v0, const float *v1, size_t n_rows, size_t row_len,
                            double t, float *out) {
    for (size_t cb = 0; cb < row_len; cb += COL_BLOCK) {
        size_t w = min_size(COL_BLOCK, row_len - cb);
        double dot[COL_BLOCK] = { 0 }, ss0[COL_BLOCK] = { 0 }, ss1[COL_BLOCK] = { 0 };
        double c0[COL_BLOCK], c1[COL_BLOCK];
        for (size_t r = 0; r < n_rows; r++) {
            const float *a = v0 + r * row_len + cb, *b = v1 + r * row_len + cb;
            for (size_t q = 0; q < w; q++) {
                dot[q] += (double)a[q] * b[q];
                ss0[q] += (double)a[q] * a[q];
                ss1[q] += (double)b[q] * b[q];
            }
        }
        for (size_t q = 0; q < w; q++) nuslerp_coef(dot[q], ss0[q], ss1[q], t, &c0[q], &c1[q]);
        for (size_t r = 0; r < n_rows; r++) {
            size_t p = r * row_len + cb;
            for (size_t q = 0; q < w; q++)
                out[p + q] = (float)(c0[q] * v0[p + q] + c1[q] * v1[p + q]);
        }
    }
}

void meth_nuslerp(const float *v0, const float *v1, size_t n_rows, size_t row_len, int mode,
                  double t, float *out) {
    if (mode == 0) {
        nuslerp_span(v0, v1, n_rows * row_len, t, out);
    } else if (mode == 1) {
        for (size_t r = 0; r < n_rows; r++)
            nuslerp_span(v0 + r * row_len, v1 + r * row_len, row_len, t, out + r * row_len);
    } else {
        nuslerp_columns(v0, v1, n_rows, row_len, t, out);
    }
}

/* ---- shared by multislerp and karcher ----------------------------------- */

/* Units are rounded to float32 as mergekit materializes them in the tensor
 * dtype. This also keeps opposite inputs exactly opposite (unit(-v) =
 * -unit(v)), so antipodal sets cancel exactly, as they do in mergekit. */
static double unit(const float *v, const float *base, double inv, size_t j) {
    /* The task vector is rounded to float32 first too: mergekit subtracts
     * the base in the tensor dtype. */
    float d = base ? v[j] - base[j] : v[j];
    return (float)(d * inv);
}

static double norm_of(const float *v, const float *base, size_t n) {
    double s = 0;
    for (size_t j = 0; j < n; j++) {
        double d = base ? v[j] - base[j] : v[j];
        s += d * d;
    }
    return sqrt(s);
}

static double unit_dot(const float *v, const float *base, double inv, const float *ref,
                       size_t n) {
    double s = 0;
    for (size_t j = 0; j < n; j++) s += unit(v, base, inv, j) * ref[j];
    return s;
}

static double sumsq(const float *v, size_t n) {
    double s = 0;
    for (size_t j = 0; j < n; j++) s += (double)v[j] * v[j];
    return s;
}

/* acc[j] = (first ? 0 : acc[j]) + sum_q w[q] (u_q[j] - dot[q] ref[j] / ref_norm)
 * over gn models, u_q = (vs[q] - base) * inv[q]: a weighted sum of units,
 * each minus its component along the unit vector ref / ref_norm (dot NULL:
 * no such term). */
static void accumulate(float *acc, bool first, const float *const *vs, size_t gn,
                       const float *base, const double *w, const double *inv,
                       const double *dot, const float *ref, double ref_norm, size_t n) {
    for (size_t j = 0; j < n; j++) {
        double s = first ? 0 : acc[j];
        double r = dot ? ref[j] / ref_norm : 0;
        for (size_t q = 0; q < gn; q++)
            s += w[q] * (unit(vs[q], base, inv[q], j) - (dot ? dot[q] * r : 0));
        acc[j] = (float)s;
    }
}

/* ---- multislerp ----------------------------------------------------------- */

int meth_multislerp(const float *const *vs, const double *w, size_t k, const float *base,
                    size_t n, bool normalize_weights, double eps, float *out, float *scratch,
                    const char **why) {
    if (k == 0) {
        *why = "multislerp needs at least one model";
        return -1;
    }
    if (k == 1) {
        /* mergekit returns the input tensor itself, not base + (x - base). */
        memcpy(out, vs[0], n * sizeof *out);
        return 0;
    }
    double wsum = 0;
    for (size_t i = 0; i < k; i++) wsum += w[i];
    double wscale = normalize_weights ? 1 / wsum : 1;
    float *mean = scratch, *tang = scratch + n;

    /* mean = sum_i w_i u_i with u_i = d_i / (|d_i| + eps). */
    double avg_norm = 0;
    for (size_t g = 0; g < k; g += GROUP) {
        size_t gn = min_size(GROUP, k - g);
        double wq[GROUP], inv[GROUP];
        for (size_t q = 0; q < gn; q++) {
            double nrm = norm_of(vs[g + q], base, n);
            wq[q] = w[g + q] * wscale;
            inv[q] = 1 / (nrm + eps);
            avg_norm += wq[q] * nrm;
        }
        accumulate(mean, g == 0, vs + g, gn, base, wq, inv, NULL, NULL, 1, n);
    }
    double mean_norm = sqrt(sumsq(mean, n));
    if (mean_norm < eps) {
        if (k != 2) {
            *why = "multislerp: the weighted mean of the unit vectors is zero (antipodal "
                   "models whose weights cancel); change the weights";
            return -1;
        }
        double w0 = w[0] * wscale, w1 = w[1] * wscale;
        for (size_t j = 0; j < n; j++) {
            float d0 = base ? vs[0][j] - base[j] : vs[0][j];
            float d1 = base ? vs[1][j] - base[j] : vs[1][j];
            double r = w0 * d0 + w1 * d1;
            out[j] = (float)(base ? r + base[j] : r);
        }
        return 0;
    }

    /* Tangent space at m = mean / |mean|: T = sum_i w_i (u_i - (u_i . m) m). */
    for (size_t g = 0; g < k; g += GROUP) {
        size_t gn = min_size(GROUP, k - g);
        double wq[GROUP], inv[GROUP], dot[GROUP];
        for (size_t q = 0; q < gn; q++) {
            wq[q] = w[g + q] * wscale;
            inv[q] = 1 / (norm_of(vs[g + q], base, n) + eps);
            dot[q] = unit_dot(vs[g + q], base, inv[q], mean, n) / mean_norm;
        }
        accumulate(tang, g == 0, vs + g, gn, base, wq, inv, dot, mean, mean_norm, n);
    }

    /* Exponential map back to the sphere, then the weighted mean norm. */
    double tn = sqrt(sumsq(tang, n)) + eps;
    double cm = cos(tn) / mean_norm, ct = sin(tn) / tn;
    for (size_t j = 0; j < n; j++) {
        double r = (mean[j] * cm + tang[j] * ct) * avg_norm;
        out[j] = (float)(base ? r + base[j] : r);
    }
    return 0;
}

/* ---- karcher -------------------------------------------------------------- */

void meth_karcher(const float *const *vs, size_t k, size_t n, int max_iter, double tol,
                  float *out, float *scratch) {
    if (k == 0) return;
    if (k == 1) {
        memcpy(out, vs[0], n * sizeof *out);
        return;
    }
    /* Models with norm <= tol drop out of the iteration; the others share
     * alpha = 1/n_valid. The output scale still uses 1/k over all models. */
    double scale = 0;
    size_t n_valid = 0, first_valid = 0;
    for (size_t i = 0; i < k; i++) {
        double nrm = norm_of(vs[i], NULL, n);
        scale += nrm / (double)k;
        if (nrm > tol) {
            if (n_valid == 0) first_valid = i;
            n_valid++;
        }
    }
    if (n_valid == 0) {
        memset(out, 0, n * sizeof *out);
        return;
    }
    double alpha = 1.0 / (double)n_valid;
    float *mean = scratch, *tang = scratch + n;

    /* Start at the normalized mean of the units (the first unit if that
     * mean is shorter than tol). */
    for (size_t g = 0; g < k; g += GROUP) {
        size_t gn = min_size(GROUP, k - g);
        double wq[GROUP], inv[GROUP];
        for (size_t q = 0; q < gn; q++) {
            double nrm = norm_of(vs[g + q], NULL, n);
            bool valid = nrm > tol;
            wq[q] = valid ? alpha : 0;
            inv[q] = valid ? 1 / nrm : 0;
        }
        accumulate(mean, g == 0, vs + g, gn, NULL, wq, inv, NULL, NULL, 1, n);
    }
    double mn = sqrt(sumsq(mean, n));
    if (mn < tol) {
        double inv = 1 / norm_of(vs[first_valid], NULL, n);
        for (size_t j = 0; j < n; j++) mean[j] = (float)unit(vs[first_valid], NULL, inv, j);
    } else {
        for (size_t j = 0; j < n; j++) mean[j] = (float)(mean[j] / mn);
    }

    for (int it = 0; it < max_iter; it++) {
        /* T = sum_i alpha (theta_i / sin theta_i) (u_i - cos theta_i u), over
         * the units at least tol away from u. */
        for (size_t g = 0; g < k; g += GROUP) {
            size_t gn = min_size(GROUP, k - g);
            double wq[GROUP], inv[GROUP], dot[GROUP];
            for (size_t q = 0; q < gn; q++) {
                double nrm = norm_of(vs[g + q], NULL, n);
                wq[q] = inv[q] = dot[q] = 0;
                if (!(nrm > tol)) continue;
                double c = clamp1(unit_dot(vs[g + q], NULL, 1 / nrm, mean, n));
                double theta = acos(c);
                if (theta < tol) continue;
                wq[q] = alpha * theta / sin(theta);
                inv[q] = 1 / nrm;
                dot[q] = c;
            }
            accumulate(tang, g == 0, vs + g, gn, NULL, wq, inv, dot, mean, 1, n);
        }
        double tn = sqrt(sumsq(tang, n));
        if (tn < tol) break;
        double ct = cos(tn), st = sin(tn) / tn;
        for (size_t j = 0; j < n; j++) mean[j] = (float)(ct * mean[j] + st * tang[j]);
        double un = sqrt(sumsq(mean, n));
        if (un > tol)
            for (size_t j = 0; j < n; j++) mean[j] = (float)(mean[j] / un);
    }
    for (size_t j = 0; j < n; j++) out[j] = (float)(scale * mean[j]);
}
