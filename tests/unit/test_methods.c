/* test_methods.c - the kernels of methods.h against naive float64
 * re-implementations of mergekit's formulas (written here straight from
 * the reference, one model and one element at a time), plus the edge cases
 * each method defines: zero and colinear vectors, endpoints, fallbacks,
 * dropped models, empty selections. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/kernels/methods.h"
#include "tests/unit/check.h"

static const double PI = 3.14159265358979323846;

static float frand(uint64_t *s) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(*s >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static void fill(float *x, size_t n, uint64_t seed) {
    for (size_t i = 0; i < n; i++) x[i] = frand(&seed);
}

/* x = base + scale * noise: a fine-tuned model near its base. */
static void fill_near(float *x, const float *base, size_t n, double scale, uint64_t seed) {
    for (size_t i = 0; i < n; i++) x[i] = (float)(base[i] + scale * frand(&seed));
}

static float *fbuf(size_t n) {
    float *p = calloc(n ? n : 1, sizeof *p);
    if (!p) abort();
    return p;
}

static double *dbuf(size_t n) {
    double *p = calloc(n ? n : 1, sizeof *p);
    if (!p) abort();
    return p;
}

/* |got - want| <= atol + rtol |want| everywhere; reports the first miss. */
static int close_to(const float *got, const double *want, size_t n, double rtol, double atol) {
    for (size_t j = 0; j < n; j++) {
        if (!(fabs(got[j] - want[j]) <= atol + rtol * fabs(want[j]))) {
            printf("  [%zu]: got %.9g, want %.9g\n", j, got[j], want[j]);
            return 0;
        }
    }
    return 1;
}

static int same_floats(const float *a, const float *b, size_t n) {
    for (size_t j = 0; j < n; j++) {
        if (a[j] != b[j]) {
            printf("  [%zu]: %.9g != %.9g\n", j, a[j], b[j]);
            return 0;
        }
    }
    return 1;
}

/* ---- nuslerp -------------------------------------------------------------- */

/* One vector of len entries at off, off + stride, ... */
static void ref_nuslerp_vec(const float *v0, const float *v1, size_t off, size_t stride,
                            size_t len, double t, double *out) {
    double n0 = 0, n1 = 0, c = 0;
    for (size_t q = 0; q < len; q++) {
        n0 += (double)v0[off + q * stride] * v0[off + q * stride];
        n1 += (double)v1[off + q * stride] * v1[off + q * stride];
    }
    n0 = fmax(sqrt(n0), 1e-7);
    n1 = fmax(sqrt(n1), 1e-7);
    for (size_t q = 0; q < len; q++) c += (v0[off + q * stride] / n0) * (v1[off + q * stride] / n1);
    double th = acos(fmin(1, fmax(-1, c))), s = sin(th);
    for (size_t q = 0; q < len; q++) {
        size_t j = off + q * stride;
        out[j] = fabs(s) < 1e-8 ? (1 - t) * v0[j] + t * v1[j]
                                : (sin((1 - t) * th) * v0[j] + sin(t * th) * v1[j]) / s;
    }
}

static void test_nuslerp_flat(void) {
    enum { R = 10, C = 100, N = R * C };
    float *a = fbuf(N), *b = fbuf(N), *out = fbuf(N);
    double *ref = dbuf(N);
    fill(a, N, 1);
    fill(b, N, 2);
    meth_nuslerp(a, b, R, C, 0, 0.3, out);
    ref_nuslerp_vec(a, b, 0, 1, N, 0.3, ref);
    CHECK(close_to(out, ref, N, 1e-6, 1e-7));
    /* A zero vector is not "colinear": cos 0, theta pi/2. */
    memset(a, 0, N * sizeof *a);
    meth_nuslerp(a, b, R, C, 0, 0.3, out);
    for (size_t j = 0; j < N; j++) ref[j] = sin(0.3 * PI / 2) * b[j];
    CHECK(close_to(out, ref, N, 1e-6, 1e-7));
    free(a), free(b), free(out), free(ref);
}

/* Rows: 0 random, 1 zero in v0, 2 v1 = 2 v0 (colinear), 3 v1 = -v0
 * (antiparallel), 4 both zero, 5 random. */
static void colinear_rows(float *a, float *b, size_t rows, size_t cols) {
    fill(a, rows * cols, 3);
    fill(b, rows * cols, 4);
    for (size_t q = 0; q < cols; q++) {
        a[1 * cols + q] = 0;
        b[2 * cols + q] = 2 * a[2 * cols + q];
        b[3 * cols + q] = -a[3 * cols + q];
        a[4 * cols + q] = b[4 * cols + q] = 0;
    }
}

static void test_nuslerp_rows(void) {
    enum { R = 6, C = 50, N = R * C };
    float *a = fbuf(N), *b = fbuf(N), *out = fbuf(N);
    double *ref = dbuf(N);
    const double t = 0.35;
    colinear_rows(a, b, R, C);
    meth_nuslerp(a, b, R, C, 1, t, out);
    for (size_t r = 0; r < R; r++) ref_nuslerp_vec(a, b, r * C, 1, C, t, ref);
    CHECK(close_to(out, ref, 3 * C, 1e-6, 1e-7));
    CHECK(close_to(out + 4 * C, ref + 4 * C, 2 * C, 1e-6, 1e-7));
    for (size_t q = 0; q < C; q++) {
        CHECK_NEAR(out[1 * C + q], sin(t * PI / 2) * b[1 * C + q], 1e-7);
        CHECK_NEAR(out[2 * C + q], (1 + t) * a[2 * C + q], 1e-7);
        CHECK_NEAR(out[3 * C + q], (1 - 2 * t) * a[3 * C + q], 1e-7);
        CHECK(out[4 * C + q] == 0);
    }
    free(a), free(b), free(out), free(ref);
}

/* Columns, transposed: more than one block of columns, with column 1 zero
 * in v0, column 2 colinear, column 3 antiparallel. */
static void test_nuslerp_columns(void) {
    enum { R = 7, C = 150, N = R * C };
    float *a = fbuf(N), *b = fbuf(N), *out = fbuf(N);
    double *ref = dbuf(N);
    const double t = 0.6;
    fill(a, N, 5);
    fill(b, N, 6);
    for (size_t r = 0; r < R; r++) {
        a[r * C + 1] = 0;
        b[r * C + 2] = 2 * a[r * C + 2];
        b[r * C + 3] = -a[r * C + 3];
    }
    meth_nuslerp(a, b, R, C, 2, t, out);
    for (size_t c = 0; c < C; c++) ref_nuslerp_vec(a, b, c, C, R, t, ref);
    for (size_t r = 0; r < R; r++) {
        CHECK(close_to(out + r * C, ref + r * C, 3, 1e-6, 1e-7));
        CHECK(close_to(out + r * C + 4, ref + r * C + 4, C - 4, 1e-6, 1e-7));
        CHECK_NEAR(out[r * C + 1], sin(t * PI / 2) * b[r * C + 1], 1e-7);
        CHECK_NEAR(out[r * C + 2], (1 + t) * a[r * C + 2], 1e-7);
        CHECK_NEAR(out[r * C + 3], (1 - 2 * t) * a[r * C + 3], 1e-7);
    }
    /* A column is not a row: mode 1 on the same data differs. */
    float *rows = fbuf(N);
    meth_nuslerp(a, b, R, C, 1, t, rows);
    CHECK(fabs(rows[5] - out[5]) > 1e-6);
    free(a), free(b), free(out), free(ref), free(rows);
}

static void test_nuslerp_endpoints(void) {
    enum { R = 6, C = 80, N = R * C };
    float *a = fbuf(N), *b = fbuf(N), *out = fbuf(N);
    colinear_rows(a, b, R, C);
    for (int mode = 0; mode < 3; mode++) {
        meth_nuslerp(a, b, R, C, mode, 0.0, out);
        CHECK(same_floats(out, a, N));
        meth_nuslerp(a, b, R, C, mode, 1.0, out);
        CHECK(same_floats(out, b, N));
    }
    free(a), free(b), free(out);
}

/* ---- multislerp ----------------------------------------------------------- */

/* Returns -1 where mergekit raises. */
static int ref_multislerp(const float *const *vs, const double *w0, size_t k, const float *base,
                          size_t n, bool normalize, double eps, double *out) {
    double *d = dbuf(k * n), *w = dbuf(k), *nrm = dbuf(k), *m = dbuf(n), *tv = dbuf(n);
    double wsum = 0;
    for (size_t i = 0; i < k; i++) wsum += w0[i];
    for (size_t i = 0; i < k; i++) {
        w[i] = normalize ? w0[i] / wsum : w0[i];
        for (size_t j = 0; j < n; j++) {
            d[i * n + j] = base ? (double)(vs[i][j] - base[j]) : vs[i][j];
            nrm[i] += d[i * n + j] * d[i * n + j];
        }
        nrm[i] = sqrt(nrm[i]);
    }
    double mn = 0;
    for (size_t j = 0; j < n; j++) {
        for (size_t i = 0; i < k; i++) m[j] += w[i] * d[i * n + j] / (nrm[i] + eps);
        mn += m[j] * m[j];
    }
    mn = sqrt(mn);
    int rc = 0;
    if (mn < eps) {
        if (k == 2) {
            for (size_t j = 0; j < n; j++)
                out[j] = w[0] * d[j] + w[1] * d[n + j] + (base ? base[j] : 0);
        } else {
            rc = -1;
        }
    } else {
        double tn = 0, avg = 0;
        for (size_t j = 0; j < n; j++) m[j] /= mn;
        for (size_t i = 0; i < k; i++) {
            double dot = 0;
            for (size_t j = 0; j < n; j++) dot += d[i * n + j] / (nrm[i] + eps) * m[j];
            for (size_t j = 0; j < n; j++) tv[j] += w[i] * (d[i * n + j] / (nrm[i] + eps) - dot * m[j]);
            avg += w[i] * nrm[i];
        }
        for (size_t j = 0; j < n; j++) tn += tv[j] * tv[j];
        tn = sqrt(tn) + eps;
        for (size_t j = 0; j < n; j++)
            out[j] = (m[j] * cos(tn) + tv[j] * sin(tn) / tn) * avg + (base ? base[j] : 0);
    }
    free(d), free(w), free(nrm), free(m), free(tv);
    return rc;
}

static void test_multislerp_formula(void) {
    enum { N = 600 };
    float *base = fbuf(N), *x[4], *out = fbuf(N), *scratch = fbuf(2 * N);
    double *ref = dbuf(N);
    fill(base, N, 10);
    for (int i = 0; i < 4; i++) {
        x[i] = fbuf(N);
        fill_near(x[i], base, N, 0.05, 11 + (uint64_t)i);
    }
    const float *xs[4] = { x[0], x[1], x[2], x[3] };
    double w[4] = { 1.0, 2.0, 1.5, 0.7 };
    const char *why = NULL;
    for (int with_base = 0; with_base < 2; with_base++) {
        for (int norm = 0; norm < 2; norm++) {
            const float *b = with_base ? base : NULL;
            CHECK(meth_multislerp(xs, w, 4, b, N, norm, 1e-8, out, scratch, &why) == 0);
            CHECK(ref_multislerp(xs, w, 4, b, N, norm, 1e-8, ref) == 0);
            CHECK(close_to(out, ref, N, 1e-6, 1e-7));
        }
    }
    for (int i = 0; i < 4; i++) free(x[i]);
    free(base), free(out), free(scratch), free(ref);
}

static void test_multislerp_edges(void) {
    enum { N = 300 };
    float *base = fbuf(N), *a = fbuf(N), *b = fbuf(N), *z = fbuf(N), *out = fbuf(N);
    float *scratch = fbuf(2 * N);
    double *ref = dbuf(N);
    const char *why = NULL;
    fill(base, N, 20);
    fill(a, N, 21);
    /* k = 1 returns the model itself, base or not. */
    const float *one[1] = { a };
    double w1[1] = { 0.4 };
    CHECK(meth_multislerp(one, w1, 1, base, N, true, 1e-8, out, scratch, &why) == 0);
    CHECK(same_floats(out, a, N));

    /* Two antipodal vectors with equal weights: the linear fallback, 0. */
    for (size_t j = 0; j < N; j++) b[j] = -a[j];
    const float *two[2] = { a, b };
    double w2[2] = { 1, 1 };
    CHECK(meth_multislerp(two, w2, 2, NULL, N, true, 1e-8, out, scratch, &why) == 0);
    for (size_t j = 0; j < N; j++) CHECK(out[j] == 0);
    /* The same around a base (exact task vectors +-0.25), with
     * unnormalized weights: 2 * 0.25 - 2 * 0.25 + base. */
    for (size_t j = 0; j < N; j++) {
        base[j] = (float)(j % 16) / 8;
        a[j] = base[j] + 0.25f;
        b[j] = base[j] - 0.25f;
    }
    double w3[2] = { 2, 2 };
    CHECK(meth_multislerp(two, w3, 2, base, N, false, 1e-8, out, scratch, &why) == 0);
    CHECK(same_floats(out, base, N));
    CHECK(ref_multislerp(two, w3, 2, base, N, false, 1e-8, ref) == 0);
    CHECK(close_to(out, ref, N, 0, 0));

    /* More than two models whose units cancel: an error, with a reason. */
    fill(a, N, 22);
    for (size_t j = 0; j < N; j++) b[j] = -a[j];
    const float *three[3] = { a, b, z };
    double w4[3] = { 1, 1, 1 };
    why = NULL;
    CHECK(meth_multislerp(three, w4, 3, NULL, N, true, 1e-8, out, scratch, &why) == -1);
    CHECK(why != NULL && strstr(why, "zero") != NULL);
    CHECK(ref_multislerp(three, w4, 3, NULL, N, true, 1e-8, ref) == -1);
    free(base), free(a), free(b), free(z), free(out), free(scratch), free(ref);
}

/* ---- karcher -------------------------------------------------------------- */

static void ref_karcher(const float *const *vs, size_t k, size_t n, int max_iter, double tol,
                        double *out) {
    double *nrm = dbuf(k), *u = dbuf(k * n), *mean = dbuf(n), *tang = dbuf(n);
    size_t nv = 0;
    for (size_t i = 0; i < k; i++) {
        for (size_t j = 0; j < n; j++) nrm[i] += (double)vs[i][j] * vs[i][j];
        nrm[i] = sqrt(nrm[i]);
        for (size_t j = 0; j < n; j++) u[i * n + j] = nrm[i] > 0 ? vs[i][j] / nrm[i] : 0;
        nv += nrm[i] > tol;
    }
    if (nv == 0) {
        for (size_t j = 0; j < n; j++) out[j] = 0;
        goto done;
    }
    double mn = 0;
    for (size_t j = 0; j < n; j++) {
        for (size_t i = 0; i < k; i++)
            if (nrm[i] > tol) mean[j] += u[i * n + j] / (double)nv;
        mn += mean[j] * mean[j];
    }
    mn = sqrt(mn);
    size_t first = 0;
    while (!(nrm[first] > tol)) first++;
    for (size_t j = 0; j < n; j++) mean[j] = mn < tol ? u[first * n + j] : mean[j] / mn;
    for (int it = 0; it < max_iter; it++) {
        for (size_t j = 0; j < n; j++) tang[j] = 0;
        for (size_t i = 0; i < k; i++) {
            if (!(nrm[i] > tol)) continue;
            double dot = 0;
            for (size_t j = 0; j < n; j++) dot += mean[j] * u[i * n + j];
            dot = fmin(1, fmax(-1, dot));
            double th = acos(dot);
            if (th < tol) continue;
            for (size_t j = 0; j < n; j++)
                tang[j] += (1.0 / (double)nv) * (th / sin(th)) * (u[i * n + j] - dot * mean[j]);
        }
        double tn = 0, un = 0;
        for (size_t j = 0; j < n; j++) tn += tang[j] * tang[j];
        tn = sqrt(tn);
        if (tn < tol) break;
        for (size_t j = 0; j < n; j++) {
            mean[j] = cos(tn) * mean[j] + sin(tn) * tang[j] / tn;
            un += mean[j] * mean[j];
        }
        un = sqrt(un);
        if (un > tol)
            for (size_t j = 0; j < n; j++) mean[j] /= un;
    }
    double scale = 0;
    for (size_t i = 0; i < k; i++) scale += nrm[i] / (double)k;
    for (size_t j = 0; j < n; j++) out[j] = scale * mean[j];
done:
    free(nrm), free(u), free(mean), free(tang);
}

static void test_karcher_formula(void) {
    enum { N = 500 };
    float *x[4], *out = fbuf(N), *scratch = fbuf(3 * N);
    double *ref = dbuf(N);
    float *base = fbuf(N);
    fill(base, N, 30);
    for (int i = 0; i < 4; i++) {
        x[i] = fbuf(N);
        fill_near(x[i], base, N, 0.6, 31 + (uint64_t)i);
    }
    const float *xs[4] = { x[0], x[1], x[2], x[3] };
    meth_karcher(xs, 3, N, 10, 1e-5, out, scratch);
    ref_karcher(xs, 3, N, 10, 1e-5, ref);
    CHECK(close_to(out, ref, N, 1e-6, 1e-7));
    /* A zero model drops out of the iteration but still counts in the
     * scale (1/k of its norm 0). */
    memset(x[3], 0, N * sizeof *x[3]);
    meth_karcher(xs, 4, N, 10, 1e-5, out, scratch);
    ref_karcher(xs, 4, N, 10, 1e-5, ref);
    CHECK(close_to(out, ref, N, 1e-6, 1e-7));
    /* A model of norm below tol (but not 0) is dropped the same way. */
    for (size_t j = 0; j < N; j++) x[3][j] = 1e-8f;
    meth_karcher(xs, 4, N, 10, 1e-5, out, scratch);
    ref_karcher(xs, 4, N, 10, 1e-5, ref);
    CHECK(close_to(out, ref, N, 1e-6, 1e-7));
    /* Fewer iterations stop earlier, the same way in both. */
    meth_karcher(xs, 4, N, 1, 1e-5, out, scratch);
    ref_karcher(xs, 4, N, 1, 1e-5, ref);
    CHECK(close_to(out, ref, N, 1e-6, 1e-7));
    for (int i = 0; i < 4; i++) free(x[i]);
    free(out), free(scratch), free(ref), free(base);
}

static void test_karcher_edges(void) {
    enum { N = 400 };
    float *a = fbuf(N), *z = fbuf(N), *out = fbuf(N), *scratch = fbuf(3 * N);
    fill(a, N, 40);
    /* Identical inputs are their own mean. */
    const float *same[3] = { a, a, a };
    meth_karcher(same, 3, N, 10, 1e-5, out, scratch);
    for (size_t j = 0; j < N; j++) CHECK_NEAR(out[j], a[j], 1e-6);
    /* One model: returned as is. */
    meth_karcher(same, 1, N, 10, 1e-5, out, scratch);
    CHECK(same_floats(out, a, N));
    /* a and a zero model: direction of a, scale |a| / 2. */
    const float *az[2] = { z, a };
    meth_karcher(az, 2, N, 10, 1e-5, out, scratch);
    for (size_t j = 0; j < N; j++) CHECK_NEAR(out[j], 0.5 * a[j], 1e-6);
    /* Antipodal pair: the mean of the units vanishes, so the iteration
     * starts at the first unit, where the other (theta = pi, u_1 = -u_0)
     * adds nothing: mean norm |a| times the first unit, -a. */
    for (size_t j = 0; j < N; j++) z[j] = -a[j];
    meth_karcher(az, 2, N, 10, 1e-5, out, scratch);
    for (size_t j = 0; j < N; j++) CHECK_NEAR(out[j], -a[j], 1e-6);
    memset(z, 0, N * sizeof *z);
    /* All zero: zeros. */
    const float *zz[2] = { z, z };
    meth_karcher(zz, 2, N, 10, 1e-5, out, scratch);
    for (size_t j = 0; j < N; j++) CHECK(out[j] == 0);
    free(a), free(z), free(out), free(scratch);
}

/* ---- model_stock ---------------------------------------------------------- */

static double ref_stock_t(const float *base, const float *const *xs, size_t k, size_t off,
                          size_t len) {
    double cs = 0;
    size_t pairs = 0;
    for (size_t i = 0; i < k; i++) {
        for (size_t m = i + 1; m < k; m++) {
            double dot = 0, a = 0, b = 0;
            for (size_t j = off; j < off + len; j++) {
                double oi = (double)(xs[i][j] - base[j]), om = (double)(xs[m][j] - base[j]);
                dot += oi * om;
                a += oi * oi;
                b += om * om;
            }
            cs += fmin(1, fmax(-1, dot / fmax(sqrt(a) * sqrt(b), 1e-6)));
            pairs++;
        }
    }
    double c = cs / (double)pairs;
    return (double)k * c / (1 + ((double)k - 1) * c);
}

static void ref_stock(const float *base, const float *const *xs, size_t k, size_t rows,
                      size_t cols, bool filter_wise, double *out) {
    size_t spans = filter_wise ? rows : 1, len = filter_wise ? cols : rows * cols;
    for (size_t s = 0; s < spans; s++) {
        double t = ref_stock_t(base, xs, k, s * len, len);
        for (size_t j = s * len; j < (s + 1) * len; j++) {
            double avg = 0;
            for (size_t i = 0; i < k; i++) avg += xs[i][j] / (double)k;
            out[j] = t * avg + (1 - t) * base[j];
        }
    }
}

static void test_model_stock(void) {
    enum { R = 8, C = 64, N = R * C };
    float *base = fbuf(N), *x[3], *out = fbuf(N);
    double *ref = dbuf(N);
    fill(base, N, 50);
    for (int i = 0; i < 3; i++) {
        x[i] = fbuf(N);
        fill_near(x[i], base, N, 0.02, 51 + (uint64_t)i);
    }
    /* Correlated task vectors, so t is well away from 0. */
    for (size_t j = 0; j < N; j++) {
        x[1][j] += x[0][j] - base[j];
        x[2][j] += 0.5f * (x[0][j] - base[j]);
    }
    const float *xs[3] = { x[0], x[1], x[2] };
    meth_model_stock(base, xs, 3, R, C, false, out);
    ref_stock(base, xs, 3, R, C, false, ref);
    CHECK(close_to(out, ref, N, 1e-6, 1e-7));
    double t = ref_stock_t(base, xs, 3, 0, N);
    CHECK(t > 0.3 && t < 1);

    /* k = 2, per row; row 2 has zero task vectors (cos 0, so t = 0: base)
     * and row 5 identical ones (cos 1, t = 1: the models). */
    for (size_t q = 0; q < C; q++) {
        x[0][2 * C + q] = x[1][2 * C + q] = base[2 * C + q];
        x[1][5 * C + q] = x[0][5 * C + q];
    }
    meth_model_stock(base, xs, 2, R, C, true, out);
    ref_stock(base, xs, 2, R, C, true, ref);
    CHECK(close_to(out, ref, N, 1e-6, 1e-7));
    CHECK(same_floats(out + 2 * C, base + 2 * C, C));
    for (size_t q = 0; q < C; q++) CHECK_NEAR(out[5 * C + q], x[0][5 * C + q], 1e-6);
    /* Per row is not per tensor. */
    float *whole = fbuf(N);
    meth_model_stock(base, xs, 2, R, C, false, whole);
    CHECK(fabs(whole[0] - out[0]) > 1e-7 || fabs(whole[C] - out[C]) > 1e-7);
    for (int i = 0; i < 3; i++) free(x[i]);
    free(base), free(out), free(ref), free(whole);
}

/* ---- nearswap ------------------------------------------------------------- */

static void test_nearswap(void) {
    enum { N = 1000 };
    float *base = fbuf(N), *x = fbuf(N), *out = fbuf(N);
    double *ref = dbuf(N);
    fill(base, N, 60);
    fill_near(x, base, N, 0.05, 61);
    for (size_t j = 0; j < 10; j++) x[j] = base[j]; /* |b - x| = 0 takes x */
    meth_nearswap(base, x, N, 0.01, out);
    for (size_t j = 0; j < N; j++) {
        double w = 0.01 / fmax(fabs((double)base[j] - x[j]), 1e-6);
        w = fmin(1, fmax(0, w));
        ref[j] = w * x[j] + (1 - w) * base[j];
    }
    CHECK(close_to(out, ref, N, 1e-6, 1e-7));
    meth_nearswap(base, x, N, 0.0, out);
    CHECK(same_floats(out, base, N));
    meth_nearswap(base, x, N, 1e30, out);
    CHECK(same_floats(out, x, N));
    free(base), free(x), free(out), free(ref);
}

/* ---- sce ------------------------------------------------------------------ */

typedef struct Ranked {
    double key;
    size_t idx;
} Ranked;

/* Descending key; among equal keys the lower index first. */
static int by_key_desc(const void *pa, const void *pb) {
    const Ranked *a = pa, *b = pb;
    if (a->key != b->key) return a->key > b->key ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static Ranked *rank_desc(const double *key, size_t n) {
    Ranked *r = calloc(n ? n : 1, sizeof *r);
    if (!r) abort();
    for (size_t j = 0; j < n; j++) r[j] = (Ranked){ key[j], j };
    qsort(r, n, sizeof *r, by_key_desc);
    return r;
}

static void ref_sce(const float *base, const float *const *xs, size_t k, size_t n, double topk,
                    double *out) {
    double *tau = dbuf(k * n), *var = dbuf(n), *s = dbuf(k);
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < n; j++) tau[i * n + j] = (double)(xs[i][j] - base[j]);
    if (topk < 1) {
        size_t nz = 0;
        for (size_t j = 0; j < n; j++) {
            double m = 0;
            for (size_t i = 0; i < k; i++) m += tau[i * n + j] / (double)k;
            for (size_t i = 0; i < k; i++) var[j] += pow(tau[i * n + j] - m, 2) / (double)k;
            var[j] = (float)var[j]; /* ranked in float32, as torch has them */
            nz += var[j] != 0;
        }
        size_t keep = topk > 0 ? (size_t)floor((double)nz * topk) : 0;
        Ranked *rk = rank_desc(var, n);
        for (size_t r = keep; r < n; r++)
            for (size_t i = 0; i < k; i++) tau[i * n + rk[r].idx] = 0;
        free(rk);
    }
    double wsum = 0;
    for (size_t i = 0; i < k; i++) {
        for (size_t j = 0; j < n; j++) s[i] += tau[i * n + j] * tau[i * n + j] / (double)n;
        wsum += s[i];
    }
    for (size_t i = 0; i < k; i++) s[i] = fabs(wsum) < 1e-6 ? 1.0 / (double)k : s[i] / wsum;
    for (size_t j = 0; j < n; j++) {
        double sum = 0, num = 0, den = 0;
        for (size_t i = 0; i < k; i++) sum += tau[i * n + j];
        double maj = sum >= 0 ? 1 : -1;
        for (size_t i = 0; i < k; i++) {
            double t = tau[i * n + j], sg = t > 0 ? 1 : t < 0 ? -1 : 0;
            if (sg == maj) {
                num += s[i] * t;
                den += s[i];
            }
        }
        out[j] = base[j] + num / fmax(den, 1e-6);
    }
    free(tau), free(var), free(s);
}

static void sce_run(const float *base, const float *const *xs, size_t k, size_t n, double topk,
                    float *out) {
    float *sf = fbuf(n);
    uint32_t *si = calloc(n, sizeof *si);
    uint8_t *sm = calloc(n, 1);
    meth_sce(base, xs, k, n, topk, out, sf, si, sm);
    free(sf), free(si), free(sm);
}

static void test_sce_formula(void) {
    enum { N = 2000 };
    float *base = fbuf(N), *x[3], *out = fbuf(N);
    double *ref = dbuf(N);
    fill(base, N, 70);
    for (int i = 0; i < 3; i++) {
        x[i] = fbuf(N);
        fill_near(x[i], base, N, 0.1, 71 + (uint64_t)i);
    }
    /* Some positions no model changes (variance 0: never selected). */
    for (size_t j = 0; j < N; j += 7)
        for (int i = 0; i < 3; i++) x[i][j] = base[j];
    const float *xs[3] = { x[0], x[1], x[2] };
    const double topks[] = { 1.0, 0.5, 0.1, 0.999 };
    for (size_t c = 0; c < sizeof topks / sizeof *topks; c++) {
        sce_run(base, xs, 3, N, topks[c], out);
        ref_sce(base, xs, 3, N, topks[c], ref);
        CHECK(close_to(out, ref, N, 1e-6, 1e-7));
    }
    /* Tiny task vectors: sum of mean(tau^2) below 1e-6, uniform weights. */
    for (int i = 0; i < 3; i++) fill_near(x[i], base, N, 1e-4 * (i + 1), 75 + (uint64_t)i);
    sce_run(base, xs, 3, N, 1.0, out);
    ref_sce(base, xs, 3, N, 1.0, ref);
    CHECK(close_to(out, ref, N, 1e-6, 1e-9));
    /* x0 tiny next to x1, and x1 unchanged at every third position: there
     * only x0 matches, with a divisor s0 ~ 1e-8 clamped to 1e-6. */
    fill_near(x[0], base, N, 1e-5, 76);
    fill_near(x[1], base, N, 1.0, 77);
    for (size_t j = 0; j < N; j += 3) x[1][j] = base[j];
    sce_run(base, xs, 2, N, 1.0, out);
    ref_sce(base, xs, 2, N, 1.0, ref);
    CHECK(close_to(out, ref, N, 1e-6, 1e-9));
    CHECK(fabs(out[3] - base[3]) < 0.01 * fabs(x[0][3] - base[3]));
    for (int i = 0; i < 3; i++) free(x[i]);
    free(base), free(out), free(ref);
}

static void test_sce_edges(void) {
    enum { N = 40 };
    float *base = fbuf(N), *x[2], *out = fbuf(N);
    double *ref = dbuf(N);
    for (int i = 0; i < 2; i++) x[i] = fbuf(N);
    const float *xs[2] = { x[0], x[1] };
    /* Equal variances everywhere (x0 = b + 1, x1 = b - 1 alternating with
     * b + 1 / b + 3): k = floor(40 * 0.25) = 10 positions are kept, the
     * lowest-indexed ones among the ties. */
    for (size_t j = 0; j < N; j++) {
        base[j] = (float)j;
        x[0][j] = base[j] + 1;
        x[1][j] = base[j] + (j % 2 ? 3 : -1);
    }
    sce_run(base, xs, 2, N, 0.25, out);
    ref_sce(base, xs, 2, N, 0.25, ref);
    CHECK(close_to(out, ref, N, 1e-6, 1e-7));
    for (size_t j = 10; j < N; j++) CHECK(out[j] == base[j]);
    size_t changed = 0;
    for (size_t j = 0; j < 10; j++) changed += out[j] != base[j];
    CHECK(changed == 10);
    /* Odd positions agree in sign: the weighted mean of +1 and +3 with
     * weights from mean(tau^2). Even ones disagree; the sum is 0, so the
     * elected sign is + and only x0's +1 survives. */
    CHECK_NEAR(out[0], base[0] + 1, 1e-6);
    /* k = floor(40 * 0.01) = 0: nothing kept, the base comes back. */
    sce_run(base, xs, 2, N, 0.01, out);
    CHECK(same_floats(out, base, N));
    sce_run(base, xs, 2, N, 0.0, out);
    CHECK(same_floats(out, base, N));
    /* All variances zero (identical models): k = 0 as well. */
    sce_run(base, (const float *const[2]){ x[0], x[0] }, 2, N, 0.5, out);
    CHECK(same_floats(out, base, N));
    /* ... but without selection they merge: both +1. */
    sce_run(base, (const float *const[2]){ x[0], x[0] }, 2, N, 1.0, out);
    for (size_t j = 0; j < N; j++) CHECK_NEAR(out[j], base[j] + 1, 1e-6);
    /* A zero delta never matches the elected sign, so it adds nothing to
     * the divisor either: where x0 is unchanged, x1 alone decides. */
    for (size_t j = 0; j < N; j++) {
        x[0][j] = base[j] + (j % 2 ? 0 : 1);
        x[1][j] = base[j] + 2;
    }
    sce_run(base, xs, 2, N, 1.0, out);
    ref_sce(base, xs, 2, N, 1.0, ref);
    CHECK(close_to(out, ref, N, 1e-6, 1e-7));
    for (size_t j = 1; j < N; j += 2) CHECK_NEAR(out[j], base[j] + 2, 1e-6);
    free(x[0]), free(x[1]), free(base), free(out), free(ref);
}

/* ---- ram / ramplus_tl ----------------------------------------------------- */

static void test_ram(void) {
    enum { N = 8 };
    const float base[N] = { 1, 1, 1, 1, 1, 1, 1, 1 };
    /* Positions: 0 none, 1 unique to x0, 2 unique to x1, 3 shared by all,
     * 4 shared by x0 and x2, 5 below epsilon everywhere, 6 unique to x0,
     * 7 unique to x2. */
    const float x0[N] = { 1, 1.5f, 1, 1.25f, 2, 1.000001f, 0.5f, 1 };
    const float x1[N] = { 1, 1, 3, 1.5f, 1, 1, 1, 1 };
    const float x2[N] = { 1, 1, 1, 1.75f, 0, 1, 1, 1.125f };
    const float *xs[3] = { x0, x1, x2 };
    float out[N];
    uint8_t scratch[N];
    meth_ram(base, xs, 3, N, 1e-5, false, 0.1, 0.2, out, scratch);
    const float want[N] = { 1, 1.5f, 3, 1.5f, 1, 1, 0.5f, 1.125f };
    CHECK(same_floats(out, want, N));
    /* RAM+: x0 has 2 shared / 2 unique active entries, rho = 1 clamped to
     * alpha = 0.2: lambda = 1.02. x1: 1 shared, 1 unique: 1.02 as well.
     * x2: 2 shared / 1 unique: 1.02. With alpha 5, lambdas 1.1, 1.1, 1.2. */
    meth_ram(base, xs, 3, N, 1e-5, true, 0.1, 0.2, out, scratch);
    CHECK_NEAR(out[1], 1 + 0.5 * 1.02, 1e-6);
    CHECK_NEAR(out[2], 1 + 2 * 1.02, 1e-6);
    CHECK_NEAR(out[6], 1 - 0.5 * 1.02, 1e-6);
    CHECK_NEAR(out[7], 1 + 0.125 * 1.02, 1e-6);
    CHECK(out[0] == 1 && out[3] == 1.5f && out[4] == 1 && out[5] == 1);
    meth_ram(base, xs, 3, N, 1e-5, true, 0.1, 5, out, scratch);
    CHECK_NEAR(out[1], 1 + 0.5 * 1.1, 1e-6);
    CHECK_NEAR(out[2], 1 + 2 * 1.1, 1e-6);
    CHECK_NEAR(out[7], 1 + 0.125 * 1.2, 1e-6);
    /* A model with shared entries but no unique one: rho = shared / eps,
     * clamped to alpha; nothing of it is scaled. */
    const float *ys[2] = { x1, x1 };
    meth_ram(base, ys, 2, N, 1e-5, true, 0.1, 0.2, out, scratch);
    CHECK(same_floats(out, x1, N));
}

/* ---- arcee_fusion --------------------------------------------------------- */

static void ref_arcee(const float *base, const float *x, size_t rows, size_t cols, double *out,
                      double *imp) {
    size_t n = rows * cols;
    for (size_t r = 0; r < rows; r++) {
        double mx = -INFINITY, mb = -INFINITY, zx = 0, zb = 0, kl = 0;
        const float *xr = x + r * cols, *br = base + r * cols;
        for (size_t j = 0; j < cols; j++) mx = fmax(mx, xr[j]), mb = fmax(mb, br[j]);
        for (size_t j = 0; j < cols; j++) zx += exp(xr[j] - mx), zb += exp(br[j] - mb);
        for (size_t j = 0; j < cols; j++) {
            double p = exp(xr[j] - mx) / zx + 1e-8, q = exp(br[j] - mb) / zb + 1e-8;
            kl += p * log(p / q);
        }
        for (size_t j = 0; j < cols; j++) imp[r * cols + j] = fabs((double)xr[j] - br[j]) * kl;
    }
    /* Descending, so ascending index q is rank n-1-q. */
    Ranked *rk = rank_desc(imp, n);
    double q1 = rk[n - 1 - (n - 1) / 4].key, med = rk[n - 1 - (n - 1) / 2].key;
    double q3 = rk[n - 1 - 3 * (n - 1) / 4].key, thr = med + 1.5 * (q3 - q1);
    for (size_t j = 0; j < n; j++) out[j] = imp[j] >= thr ? x[j] : base[j];
    free(rk);
}

static void test_arcee_by_hand(void) {
    /* One row, base 0: importance = |x| KL, so the mask follows |x|. Sorted
     * |x| = .01 .. .08, 1.0 (n = 9): q1 = .03 (index 2), median = .05
     * (index 4), q3 = .07 (index 6): threshold .05 + 1.5 * .04 = .11 (all
     * times KL), which only the 1.0 reaches. */
    enum { N = 9 };
    const float base[N] = { 0 };
    const float x[N] = { 0.03f, -0.01f, 1.0f, 0.08f, -0.05f, 0.02f, 0.07f, -0.04f, 0.06f };
    float out[N], sf[2 * N];
    double rows[3];
    meth_arcee_fusion(base, x, 1, N, 7, out, sf, rows);
    for (size_t j = 0; j < N; j++) CHECK(out[j] == (j == 2 ? x[j] : 0.0f));
    /* n = 8, where floor(q (n-1)) matters: sorted |x| = .01 .02 .10 .11 .12
     * .13 .20 .30, q1 = .02 (rank 1), median = .11 (rank 3), q3 = .13
     * (rank 5): threshold .11 + 1.5 * .11 = .275, so only .30 is kept
     * (ranks 2, 4, 6 would keep .20 too). */
    const float y[8] = { -0.12f, 0.30f, 0.01f, 0.20f, -0.11f, 0.02f, 0.13f, -0.10f };
    meth_arcee_fusion(base, y, 1, 8, 7, out, sf, rows);
    for (size_t j = 0; j < 8; j++) CHECK(out[j] == (j == 1 ? y[j] : 0.0f));
    /* Identical tensors: KL 0, all importances 0 >= threshold 0: x (= base). */
    meth_arcee_fusion(x, x, 3, 3, 7, out, sf, rows);
    CHECK(same_floats(out, x, N));
}

static void test_arcee_formula(void) {
    enum { R = 20, C = 50, N = R * C };
    float *base = fbuf(N), *x = fbuf(N), *out = fbuf(N), *sf = fbuf(2 * N);
    double *ref = dbuf(N), *imp = dbuf(N), *rows = dbuf(R);
    fill(base, N, 80);
    for (size_t j = 0; j < N; j++) base[j] *= 3;
    fill_near(x, base, N, 0.5, 81);
    meth_arcee_fusion(base, x, R, C, 9, out, sf, rows);
    ref_arcee(base, x, R, C, ref, imp);
    CHECK(close_to(out, ref, N, 0, 0));
    size_t kept = 0;
    for (size_t j = 0; j < N; j++) kept += out[j] != base[j];
    CHECK(kept > 0 && kept < N / 4);
    free(base), free(x), free(out), free(sf), free(ref), free(imp), free(rows);
}

/* More than 1e6 entries: quantiles from a subsample. Base 0, so the
 * importance is |x| KL: |x| in [1e-3, 2e-3] except 10 at every 37th entry.
 * Any fair sample puts the threshold near 1.5e-3 + 1.5 * 0.5e-3 = 2.25e-3,
 * so exactly the outliers are kept. */
static void test_arcee_subsample(void) {
    enum { N = 1200000 };
    float *base = fbuf(N), *x = fbuf(N), *out = fbuf(N), *out2 = fbuf(N), *sf = fbuf(2 * N);
    double rows[1];
    uint64_t seed = 90;
    for (size_t j = 0; j < N; j++) {
        double u = (frand(&seed) + 1) / 2;
        x[j] = (float)(j % 37 == 0 ? 10.0 : 1e-3 * (1 + u));
    }
    meth_arcee_fusion(base, x, 1, N, 12345, out, sf, rows);
    size_t wrong = 0;
    for (size_t j = 0; j < N; j++) wrong += out[j] != (j % 37 == 0 ? x[j] : 0.0f);
    CHECK(wrong == 0);
    /* The same stream gives the same result. */
    meth_arcee_fusion(base, x, 1, N, 12345, out2, sf, rows);
    CHECK(memcmp(out, out2, N * sizeof *out) == 0);
    /* The sample covers the whole tensor, not its first 1e6 entries: |x| in
     * [1e-3, 2e-3] there, then 2.4e-3 for the last 2e5. The head alone
     * gives 1.5e-3 + 1.5 * 0.5e-3 = 2.25e-3 and would keep the tail; the
     * whole (5/6 of it uniform) gives 1.6e-3 + 1.5 * 0.6e-3 = 2.5e-3, and
     * nothing is kept. */
    for (size_t j = 1000000; j < N; j++) x[j] = 2.4e-3f;
    for (size_t j = 0; j < 1000000; j++) x[j] = (float)fmin(fabs(x[j]), 2e-3);
    meth_arcee_fusion(base, x, 1, N, 12345, out, sf, rows);
    CHECK(same_floats(out, base, N));
    free(base), free(x), free(out), free(out2), free(sf);
}

/* More models than the kernels sum in one group (32): partial sums
 * carry over between groups. */
static void test_many_models(void) {
    enum { K = 70, N = 300 };
    float *base = fbuf(N), *x[K], *out = fbuf(N), *sf = fbuf(3 * N);
    double *ref = dbuf(N), w[K];
    uint32_t si[N];
    uint8_t sm[N];
    const float *xs[K];
    const char *why = NULL;
    fill(base, N, 110);
    for (size_t i = 0; i < K; i++) {
        x[i] = fbuf(N);
        fill_near(x[i], base, N, 0.05, 111 + i);
        xs[i] = x[i];
        w[i] = 0.5 + (double)(i % 5) / 4;
    }
    CHECK(meth_multislerp(xs, w, K, base, N, true, 1e-8, out, sf, &why) == 0);
    CHECK(ref_multislerp(xs, w, K, base, N, true, 1e-8, ref) == 0);
    CHECK(close_to(out, ref, N, 1e-6, 1e-7));
    meth_karcher(xs, K, N, 10, 1e-5, out, sf);
    ref_karcher(xs, K, N, 10, 1e-5, ref);
    CHECK(close_to(out, ref, N, 1e-6, 1e-7));
    meth_sce(base, xs, K, N, 0.5, out, sf, si, sm);
    ref_sce(base, xs, K, N, 0.5, ref);
    CHECK(close_to(out, ref, N, 1e-6, 1e-7));
    meth_model_stock(base, xs, K, 10, 30, true, out);
    ref_stock(base, xs, K, 10, 30, true, ref);
    CHECK(close_to(out, ref, N, 1e-6, 1e-7));
    for (size_t i = 0; i < K; i++) free(x[i]);
    free(base), free(out), free(sf), free(ref);
}

/* Inputs with inf and NaN (a hostile or broken checkpoint) must not crash
 * or hang any kernel; in elementwise methods they stay where they are. */
static void test_nonfinite_inputs(void) {
    enum { R = 4, C = 16, N = R * C };
    float *base = fbuf(N), *x[3], *out = fbuf(N), *sf = fbuf(3 * N);
    uint32_t si[N];
    uint8_t sm[N];
    double rows[R];
    const char *why = NULL;
    fill(base, N, 100);
    for (int i = 0; i < 3; i++) {
        x[i] = fbuf(N);
        fill_near(x[i], base, N, 0.1, 101 + (uint64_t)i);
    }
    x[0][3] = NAN;
    x[1][3] = -NAN;
    x[1][17] = INFINITY;
    x[2][17] = -INFINITY;
    base[40] = NAN;
    const float *xs[3] = { x[0], x[1], x[2] };
    for (int mode = 0; mode < 3; mode++) meth_nuslerp(x[0], x[1], R, C, mode, 0.4, out);
    meth_multislerp(xs, (const double[3]){ 1, 1, 1 }, 3, base, N, true, 1e-8, out, sf, &why);
    meth_karcher(xs, 3, N, 10, 1e-5, out, sf);
    meth_model_stock(base, xs, 3, R, C, true, out);
    meth_sce(base, xs, 3, N, 0.5, out, sf, si, sm);
    meth_sce(base, xs, 3, N, 1.0, out, sf, si, sm);
    meth_ram(base, xs, 3, N, 1e-5, true, 0.1, 0.2, out, sm);
    CHECK(isnan(out[3]) && isnan(out[40]) && isfinite(out[0]));
    meth_nearswap(base, x[0], N, 0.01, out);
    CHECK(isnan(out[3]) && isfinite(out[0]));
    meth_arcee_fusion(base, x[1], R, C, 3, out, sf, rows);
    CHECK(isfinite(out[0]) || out[0] == base[0]);
    for (int i = 0; i < 3; i++) free(x[i]);
    free(base), free(out), free(sf);
}

int main(void) {
    RUN_TEST(test_nuslerp_flat);
    RUN_TEST(test_nuslerp_rows);
    RUN_TEST(test_nuslerp_columns);
    RUN_TEST(test_nuslerp_endpoints);
    RUN_TEST(test_multislerp_formula);
    RUN_TEST(test_multislerp_edges);
    RUN_TEST(test_karcher_formula);
    RUN_TEST(test_karcher_edges);
    RUN_TEST(test_model_stock);
    RUN_TEST(test_nearswap);
    RUN_TEST(test_sce_formula);
    RUN_TEST(test_sce_edges);
    RUN_TEST(test_ram);
    RUN_TEST(test_arcee_by_hand);
    RUN_TEST(test_arcee_formula);
    RUN_TEST(test_arcee_subsample);
    RUN_TEST(test_many_models);
    RUN_TEST(test_nonfinite_inputs);
    return CHECK_DONE();
}
