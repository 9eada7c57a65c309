/* test_gta.c - the task-arithmetic kernels and the counter RNG against
 * naive references written here (full sorts, explicit per-element loops),
 * statistical checks of the random masks, and hand-computed mergekit
 * examples. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "runtime/kernels/gta.h"
#include "runtime/core/rng.h"
#include "tests/unit/check.h"

/* ---- helpers ------------------------------------------------------------- */

static double urand(uint64_t *s) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(*s >> 11) * 0x1p-53;
}

/* Uniform in (-1, 1); with `levels` > 0 quantised to that many magnitudes so
 * that ties are common. */
static void fill(float *x, size_t n, uint64_t seed, int levels) {
    for (size_t j = 0; j < n; j++) {
        double u = urand(&seed) * 2 - 1;
        if (levels > 0) u = round(u * levels) / levels;
        x[j] = (float)u;
    }
}

static float *alloc_f(size_t n) {
    float *p = calloc(n ? n : 1, sizeof *p);
    if (!p) abort();
    return p;
}

static uint32_t *alloc_u(size_t n) {
    uint32_t *p = calloc(n ? n : 1, sizeof *p);
    if (!p) abort();
    return p;
}

static void copy(float *dst, const float *src, size_t n) {
    memcpy(dst, src, n * sizeof *src);
}

typedef struct Mag {
    float a;
    size_t i;
} Mag;

/* Ascending |d|, lower index first among equals: the stable order. */
static int mag_cmp(const void *x, const void *y) {
    const Mag *p = x, *q = y;
    if (p->a != q->a) return p->a < q->a ? -1 : 1;
    return p->i < q->i ? -1 : p->i > q->i;
}

/* order[r] = index of the element with stable ascending rank r. */
static void stable_order(const float *d, size_t n, size_t *order) {
    Mag *m = malloc((n ? n : 1) * sizeof *m);
    if (!m) abort();
    for (size_t j = 0; j < n; j++) m[j] = (Mag){ fabsf(d[j]), j };
    qsort(m, n, sizeof *m, mag_cmp);
    for (size_t r = 0; r < n; r++) order[r] = m[r].i;
    free(m);
}

/* Reference top-k: the k last of the stable ascending order would drop the
 * lower index among equals, so sort descending by |d| with ascending index. */
static void ref_top_k(float *d, size_t n, size_t k) {
    Mag *m = malloc((n ? n : 1) * sizeof *m);
    if (!m) abort();
    for (size_t j = 0; j < n; j++) m[j] = (Mag){ -fabsf(d[j]), j };
    qsort(m, n, sizeof *m, mag_cmp);
    for (size_t r = k; r < n; r++) d[m[r].i] = 0.0f;
    free(m);
}

static bool same(const float *a, const float *b, size_t n) {
    return memcmp(a, b, n * sizeof *a) == 0;
}

static size_t count_nonzero(const float *d, size_t n) {
    size_t c = 0;
    for (size_t j = 0; j < n; j++) c += d[j] != 0;
    return c;
}

/* ---- rng ------------------------------------------------------------------ */

static void test_rng_uniform_stats(void) {
    const size_t n = 1000000;
    uint64_t s = rng_stream(42, "model.layers.0.mlp.up_proj.weight", 0);
    double sum = 0, sxy = 0, sx = 0, sxx = 0;
    double bins[16] = { 0 }, pairs[16][16] = { { 0 } };
    double prev = rng_uniform(s, 0);
    for (size_t j = 0; j < n; j++) {
        double u = rng_uniform(s, j);
        CHECK(u >= 0 && u < 1);
        sum += u;
        bins[(int)(u * 16)]++;
        if (j > 0) {
            sxy += (prev - 0.5) * (u - 0.5);
            sx += prev - 0.5;
            sxx += (prev - 0.5) * (prev - 0.5);
            pairs[(int)(prev * 16)][(int)(u * 16)]++;
        }
        prev = u;
    }
    double mean = sum / n;
    CHECK(fabs(mean - 0.5) < 5 * sqrt(1.0 / 12 / n));
    double chi = 0, e = n / 16.0;
    for (int b = 0; b < 16; b++) chi += (bins[b] - e) * (bins[b] - e) / e;
    CHECK(chi < 15 + 5 * sqrt(30.0)); /* df 15: mean 15, sd sqrt(30) */
    double chi2 = 0, e2 = (n - 1) / 256.0;
    for (int a = 0; a < 16; a++)
        for (int b = 0; b < 16; b++) chi2 += (pairs[a][b] - e2) * (pairs[a][b] - e2) / e2;
    CHECK(chi2 < 255 + 5 * sqrt(510.0)); /* adjacent pairs, df 255 */
    double corr = (sxy / (n - 1) - (sx / (n - 1)) * (sx / (n - 1))) / (sxx / (n - 1));
    CHECK(fabs(corr) < 5 / sqrt((double)n));
}

static void test_rng_determinism(void) {
    uint64_t a = rng_stream(7, "w", 3), b = rng_stream(7, "w", 3);
    CHECK(a == b);
    CHECK(rng_stream(7, "w", 4) != a);
    CHECK(rng_stream(8, "w", 3) != a);
    CHECK(rng_stream(7, "v", 3) != a);
    CHECK(rng_stream(7, "", 0) == rng_stream(7, NULL, 0));
    CHECK(rng_bits(a, 12345) == rng_bits(a, 12345));
    CHECK(rng_bits(a, 0) != rng_bits(a, 1));
    CHECK(rng_uniform(a, 99) == (double)(rng_bits(a, 99) >> 11) * 0x1p-53);
    /* Streams of consecutive purposes do not share values at any small shift. */
    uint64_t c = rng_stream(7, "w", 0), d = rng_stream(7, "w", 1);
    int shared = 0;
    for (uint64_t i = 0; i < 64; i++)
        for (uint64_t j = 0; j < 64; j++) shared += rng_bits(c, i) == rng_bits(d, j);
    CHECK(shared == 0);
}

/* ---- TIES top-k ---------------------------------------------------------- */

static void test_trim_magnitude_hand(void) {
    /* |d| = 1 2 2 0.5 2 1: three 2s tie. */
    float d[6] = { 1, -2, 2, 0.5f, 2, -1 }, s[6];
    CHECK(gta_trim_magnitude(d, 6, 6, false, 0.5, s) == 3);
    float want3[6] = { 0, -2, 2, 0, 2, 0 };
    CHECK(same(d, want3, 6));
    float e[6] = { 1, -2, 2, 0.5f, 2, -1 };
    /* k = floor(0.34 * 6) = 2: the two lower-indexed 2s survive. */
    CHECK(gta_trim_magnitude(e, 6, 6, false, 0.34, s) == 2);
    float want2[6] = { 0, -2, 2, 0, 0, 0 };
    CHECK(same(e, want2, 6));
    float f[6] = { 1, -2, 2, 0.5f, 2, -1 };
    /* k = 4: all 2s plus the first 1 (index 0, not index 5). */
    CHECK(gta_trim_magnitude(f, 6, 6, false, 0.7, s) == 4);
    float want4[6] = { 1, -2, 2, 0, 2, 0 };
    CHECK(same(f, want4, 6));
}

static void test_trim_magnitude_edges(void) {
    enum { N = 100 };
    float d[N], orig[N], s[N];
    fill(orig, N, 11, 0);
    copy(d, orig, N);
    CHECK(gta_trim_magnitude(d, N, N, false, 1.0, s) == N);
    CHECK(same(d, orig, N));
    CHECK(gta_trim_magnitude(d, N, N, false, 1.5, s) == N);
    CHECK(same(d, orig, N));
    /* floor(0.009 * 100) = 0: everything goes (mergekit asserts here). */
    CHECK(gta_trim_magnitude(d, N, N, false, 0.009, s) == 0);
    CHECK(count_nonzero(d, N) == 0);
    copy(d, orig, N);
    CHECK(gta_trim_magnitude(d, N, N, false, 0.0, s) == 0);
    CHECK(count_nonzero(d, N) == 0);
    copy(d, orig, N);
    CHECK(gta_trim_magnitude(d, N, N, false, 0.01, s) == 1);
    CHECK(count_nonzero(d, N) == 1);
    /* The count is floor(density * n) in double: 0.29 * 100 = 28.999999999999996. */
    copy(d, orig, N);
    CHECK(gta_trim_magnitude(d, N, N, false, 0.29, s) == 28);
    /* Empty tensors. */
    CHECK(gta_trim_magnitude(d, 0, 0, true, 0.5, s) == 0);
    CHECK(gta_trim_magnitude(d, 0, 0, false, 0.5, s) == 0);
    uint32_t si[1];
    CHECK(gta_trim_outliers(d, 0, 0.5, 0.1, s, si) == 0);
    CHECK(gta_drop_della(d, 0, 0, 0.5, 0.1, 1, si) == 0);
}

static void test_trim_magnitude_vs_sort(void) {
    const size_t sizes[] = { 1, 2, 3, 17, 100, 1000, 4099 };
    const double dens[] = { 0.05, 0.1, 0.3, 0.5, 0.77, 0.99 };
    const int levels[] = { 0, 3, 20 };
    for (size_t a = 0; a < sizeof sizes / sizeof *sizes; a++)
        for (size_t b = 0; b < sizeof dens / sizeof *dens; b++)
            for (size_t c = 0; c < sizeof levels / sizeof *levels; c++) {
                size_t n = sizes[a];
                float *d = alloc_f(n), *r = alloc_f(n), *s = alloc_f(n);
                fill(d, n, 100 + a * 31 + b * 7 + c, levels[c]);
                copy(r, d, n);
                size_t k = (size_t)floor(dens[b] * (double)n);
                ref_top_k(r, n, k);
                CHECK(gta_trim_magnitude(d, n, n, false, dens[b], s) == k);
                CHECK(same(d, r, n));
                free(d), free(r), free(s);
            }
}

static void test_trim_magnitude_adversarial(void) {
    /* Sorted, reversed, constant and two-valued inputs: selection must stay
     * correct (and fast) on all of them. */
    const size_t n = 200000;
    float *d = alloc_f(n), *r = alloc_f(n), *s = alloc_f(n);
    for (int kind = 0; kind < 4; kind++) {
        for (size_t j = 0; j < n; j++) {
            switch (kind) {
            case 0: d[j] = (float)j; break;
            case 1: d[j] = (float)(n - j); break;
            case 2: d[j] = -0.25f; break;
            default: d[j] = (j % 3) ? 1.0f : -2.0f; break;
            }
        }
        copy(r, d, n);
        ref_top_k(r, n, n / 2);
        CHECK(gta_trim_magnitude(d, n, n, false, 0.5, s) == n / 2);
        CHECK(same(d, r, n));
    }
    free(d), free(r), free(s);
}

static void test_trim_magnitude_per_row(void) {
    const size_t rows = 13, cols = 37, n = rows * cols;
    float *d = alloc_f(n), *r = alloc_f(n), *s = alloc_f(n);
    fill(d, n, 5, 7);
    copy(r, d, n);
    size_t k = (size_t)floor(0.4 * (double)cols);
    for (size_t i = 0; i < rows; i++) ref_top_k(r + i * cols, cols, k);
    CHECK(gta_trim_magnitude(d, n, cols, true, 0.4, s) == k * rows);
    CHECK(same(d, r, n));
    for (size_t i = 0; i < rows; i++) CHECK(count_nonzero(d + i * cols, cols) <= k);
    free(d), free(r), free(s);
}

/* ---- breadcrumbs ----------------------------------------------------------- */

/* Python's slice [n_bot : -n_top] of the stable ascending order, with
 * mergekit's count arithmetic, written out with a full sort. */
static size_t ref_outliers(float *d, size_t n, double density, double gamma) {
    if (density >= 1) return n;
    long long N = (long long)n;
    long long target = (long long)(density * (double)N), n_top = (long long)(gamma * (double)N);
    long long n_bot = N - target - n_top;
    if (n_bot < 0) {
        n_top += n_bot;
        n_bot = 0;
    }
    long long start = n_bot, end = n_top == 0 ? 0 : N - n_top;
    if (start > N) start = N;
    if (end < start) end = start;
    size_t *order = malloc((n ? n : 1) * sizeof *order);
    if (!order) abort();
    stable_order(d, n, order);
    for (long long r = 0; r < N; r++)
        if (r < start || r >= end) d[order[r]] = 0.0f;
    free(order);
    return (size_t)(end - start);
}

static void test_trim_outliers_hand(void) {
    /* N = 10, density 0.6, gamma 0.2: target 6, n_top 2, n_bot 2.
     * |d| ascending (ties by index): 0.1(0) 0.1(9) 0.2(1) 0.3(2) 0.3(8)
     * 0.4(3) 0.5(4) 0.5(7) 0.9(5) 0.9(6): drop ranks 0,1 and 8,9. */
    float d[10] = { 0.1f, -0.2f, 0.3f, 0.4f, -0.5f, 0.9f, -0.9f, 0.5f, 0.3f, -0.1f };
    float sf[10];
    uint32_t si[10];
    CHECK(gta_trim_outliers(d, 10, 0.6, 0.2, sf, si) == 6);
    float want[10] = { 0, -0.2f, 0.3f, 0.4f, -0.5f, 0, 0, 0.5f, 0.3f, 0 };
    CHECK(same(d, want, 10));
    /* Ties straddling both cutoffs: |d| = 1 everywhere, keep ranks [2, 8). */
    float e[10], we[10];
    for (int j = 0; j < 10; j++) e[j] = we[j] = (j & 1) ? -1.0f : 1.0f;
    we[0] = we[1] = we[8] = we[9] = 0;
    CHECK(gta_trim_outliers(e, 10, 0.6, 0.2, sf, si) == 6);
    CHECK(same(e, we, 10));
}

static void test_trim_outliers_quirk(void) {
    /* N = 50, gamma 0.01: n_top = int(0.5) = 0 and mergekit's slice [n_bot:-0]
     * is empty, so nothing survives. */
    enum { N = 50 };
    float d[N], sf[N];
    uint32_t si[N];
    fill(d, N, 3, 0);
    CHECK(gta_trim_outliers(d, N, 0.9, 0.01, sf, si) == 0);
    CHECK(count_nonzero(d, N) == 0);
    fill(d, N, 3, 0);
    CHECK(gta_trim_outliers(d, N, 0.5, 0.0, sf, si) == 0);
    CHECK(count_nonzero(d, N) == 0);
    /* N = 100: n_top = 1, so the tensor is pruned normally. */
    float e[100], r[100], sf2[100];
    uint32_t si2[100];
    fill(e, 100, 4, 0);
    copy(r, e, 100);
    CHECK(gta_trim_outliers(e, 100, 0.9, 0.01, sf2, si2) == 90);
    ref_outliers(r, 100, 0.9, 0.01);
    CHECK(same(e, r, 100));
    /* density >= 1 is a no-op even where n_top would be 0. */
    fill(d, N, 3, 0);
    float o[N];
    copy(o, d, N);
    CHECK(gta_trim_outliers(d, N, 1.0, 0.01, sf, si) == N);
    CHECK(same(d, o, N));
}

static void test_trim_outliers_nbot_negative(void) {
    /* N = 100, density 0.99, gamma 0.05: target 99, n_top 5, n_bot -4, so
     * n_top becomes 1 and n_bot 0: only the single largest goes. */
    float d[100], sf[100];
    uint32_t si[100];
    fill(d, 100, 9, 0);
    size_t big = 0;
    for (size_t j = 1; j < 100; j++)
        if (fabsf(d[j]) > fabsf(d[big])) big = j;
    CHECK(gta_trim_outliers(d, 100, 0.99, 0.05, sf, si) == 99);
    CHECK(d[big] == 0);
    CHECK(count_nonzero(d, 100) == 99);
}

static void test_trim_outliers_vs_sort(void) {
    const size_t sizes[] = { 1, 5, 64, 99, 100, 101, 1000, 3001 };
    const double dens[] = { 0.1, 0.5, 0.7, 0.8, 0.95, 0.999 };
    const double gams[] = { 0.0, 0.01, 0.04, 0.1, 0.3 };
    const int levels[] = { 0, 4 };
    for (size_t a = 0; a < sizeof sizes / sizeof *sizes; a++)
        for (size_t b = 0; b < sizeof dens / sizeof *dens; b++)
            for (size_t g = 0; g < sizeof gams / sizeof *gams; g++)
                for (size_t c = 0; c < 2; c++) {
                    size_t n = sizes[a];
                    float *d = alloc_f(n), *r = alloc_f(n), *sf = alloc_f(n);
                    uint32_t *si = alloc_u(n);
                    fill(d, n, 1000 + a * 131 + b * 17 + g * 5 + c, levels[c]);
                    copy(r, d, n);
                    size_t want = ref_outliers(r, n, dens[b], gams[g]);
                    CHECK(gta_trim_outliers(d, n, dens[b], gams[g], sf, si) == want);
                    CHECK(same(d, r, n));
                    free(d), free(r), free(sf), free(si);
                }
}

/* ---- DARE ------------------------------------------------------------------ */

static void test_drop_random(void) {
    const size_t n = 1000000;
    float *d = alloc_f(n), *o = alloc_f(n), *e = alloc_f(n);
    for (size_t j = 0; j < n; j++) o[j] = 1.0f + (float)(j % 7);
    uint64_t s = rng_stream(1234, "model.embed_tokens.weight", 0);
    const double dens[] = { 0.1, 0.3, 0.9 };
    for (int t = 0; t < 3; t++) {
        copy(d, o, n);
        size_t k = gta_drop_random(d, n, dens[t], s);
        CHECK(k == count_nonzero(d, n));
        double mu = dens[t] * n, sd = sqrt(n * dens[t] * (1 - dens[t]));
        CHECK(fabs((double)k - mu) <= 5 * sd + 1);
        bool exact = true;
        for (size_t j = 0; j < n; j++)
            exact &= (d[j] != 0) == (rng_uniform(s, j) < dens[t]) && (d[j] == 0 || d[j] == o[j]);
        CHECK(exact);
    }
    /* Same stream: same mask. Another purpose: another mask. */
    copy(d, o, n);
    copy(e, o, n);
    gta_drop_random(d, n, 0.5, s);
    gta_drop_random(e, n, 0.5, rng_stream(1234, "model.embed_tokens.weight", 0));
    CHECK(same(d, e, n));
    copy(e, o, n);
    gta_drop_random(e, n, 0.5, rng_stream(1234, "model.embed_tokens.weight", 1));
    size_t differ = 0;
    for (size_t j = 0; j < n; j++) differ += (d[j] != 0) != (e[j] != 0);
    CHECK(fabs((double)differ - 0.5 * n) <= 5 * sqrt(n * 0.25)); /* independent masks */
    copy(d, o, n);
    CHECK(gta_drop_random(d, n, 1.0, s) == n);
    CHECK(same(d, o, n));
    CHECK(gta_drop_random(d, n, 0.0, s) == 0);
    CHECK(count_nonzero(d, n) == 0);
    free(d), free(o), free(e);
}

/* ---- DELLA ----------------------------------------------------------------- */

/* p for every element from ranks by a full stable sort of each row. */
static void ref_della_p(const float *d, size_t n, size_t row_len, double density, double eps,
                        double *p) {
    size_t *order = malloc(row_len * sizeof *order);
    if (!order) abort();
    for (size_t off = 0; off < n; off += row_len) {
        stable_order(d + off, row_len, order);
        for (size_t r = 0; r < row_len; r++) {
            double norm = row_len > 1 ? (double)r / (double)(row_len - 1) : 0;
            p[off + order[r]] = (density - eps) + 2 * eps * norm;
        }
    }
    free(order);
}

static void test_della_exact(void) {
    /* The mask is exactly rng_uniform(stream, j) < p(rank): compare against
     * ranks from a full sort, with ties (levels) and 1-long rows. */
    const size_t shapes[][2] = { { 7, 33 }, { 1, 100 }, { 50, 1 }, { 4, 1000 } };
    for (size_t t = 0; t < 4; t++) {
        size_t rows = shapes[t][0], cols = shapes[t][1], n = rows * cols;
        float *d = alloc_f(n), *o = alloc_f(n);
        uint32_t *si = alloc_u(cols);
        double *p = malloc(n * sizeof *p);
        if (!p) abort();
        fill(o, n, 77 + t, t == 3 ? 0 : 5);
        copy(d, o, n);
        uint64_t s = rng_stream(9, "della", t);
        size_t k = gta_drop_della(d, n, cols, 0.4, 0.2, s, si);
        ref_della_p(o, n, cols, 0.4, 0.2, p);
        size_t want = 0;
        bool ok = true;
        for (size_t j = 0; j < n; j++) {
            bool keep = rng_uniform(s, j) < p[j];
            want += keep;
            ok &= keep ? d[j] == o[j] : d[j] == 0;
        }
        CHECK(ok);
        CHECK(k == want);
        free(d), free(o), free(si), free(p);
    }
}

static void test_della_stats(void) {
    const size_t rows = 400, cols = 2500, n = rows * cols;
    const double density = 0.5, eps = 0.3;
    float *d = alloc_f(n), *o = alloc_f(n);
    uint32_t *si = alloc_u(cols);
    double *p = malloc(n * sizeof *p);
    if (!p) abort();
    fill(o, n, 2024, 0);
    copy(d, o, n);
    size_t k = gta_drop_della(d, n, cols, density, eps, rng_stream(5, "x", 0), si);
    ref_della_p(o, n, cols, density, eps, p);
    double E = 0, V = 0;
    double bin_k[10] = { 0 }, bin_e[10] = { 0 }, bin_v[10] = { 0 };
    double half_k[2] = { 0 }, half_e[2] = { 0 }, half_v[2] = { 0 };
    for (size_t j = 0; j < n; j++) {
        E += p[j];
        V += p[j] * (1 - p[j]);
        int b = (int)((p[j] - (density - eps)) / (2 * eps) * 10);
        if (b > 9) b = 9;
        int h = p[j] >= density;
        bool kept = d[j] != 0;
        bin_k[b] += kept, bin_e[b] += p[j], bin_v[b] += p[j] * (1 - p[j]);
        half_k[h] += kept, half_e[h] += p[j], half_v[h] += p[j] * (1 - p[j]);
    }
    CHECK(fabs((double)k - E) <= 5 * sqrt(V) + 1);
    for (int b = 0; b < 10; b++) CHECK(fabs(bin_k[b] - bin_e[b]) <= 5 * sqrt(bin_v[b]) + 1);
    for (int h = 0; h < 2; h++) CHECK(fabs(half_k[h] - half_e[h]) <= 5 * sqrt(half_v[h]) + 1);
    /* Magnitude-ranked, not uniform: the top bin keeps clearly more. */
    CHECK(bin_k[9] > bin_k[0] * 2);
    free(d), free(o), free(si), free(p);
}

static void test_della_edges(void) {
    float d[20], o[20];
    uint32_t si[10];
    fill(o, 20, 8, 0);
    copy(d, o, 20);
    CHECK(gta_drop_della(d, 20, 10, 1.0, 0.15, 1, si) == 20);
    CHECK(same(d, o, 20));
    CHECK(gta_drop_della(d, 20, 10, 0.1, 0.15, 1, si) == (size_t)-1);
    CHECK(gta_drop_della(d, 20, 10, 0.9, 0.15, 1, si) == (size_t)-1);
    CHECK(gta_drop_della(d, 20, 10, 0.5, 0.5, 1, si) == (size_t)-1);
    CHECK(same(d, o, 20)); /* refused calls leave d alone */
    CHECK(gta_drop_della(d, 20, 10, 0.0, 0.15, 1, si) == 0);
    CHECK(count_nonzero(d, 20) == 0);
    copy(d, o, 20);
    CHECK(gta_drop_della(d, 20, 10, 0.5, 0.0, 1, si) != (size_t)-1); /* epsilon 0 is plain DARE */
}

/* ---- rescale --------------------------------------------------------------- */

static void test_rescale_l1(void) {
    const size_t n = 100000;
    float *d = alloc_f(n);
    fill(d, n, 31, 0);
    double l1 = gta_l1(d, n), ref = 0;
    for (size_t j = 0; j < n; j++) ref += fabs(d[j]);
    CHECK_NEAR(l1, ref, 1e-9 * ref);
    gta_drop_random(d, n, 0.3, rng_stream(0, "r", 0));
    double kept = gta_l1(d, n);
    CHECK(kept < 0.4 * l1);
    gta_rescale_l1(d, n, l1);
    CHECK_NEAR(gta_l1(d, n), l1, 1e-6 * l1);
    /* Guards: a tiny original norm or an empty mask leaves d unchanged. */
    float e[4] = { 1e-9f, 0, 0, 0 }, we[4] = { 1e-9f, 0, 0, 0 };
    gta_rescale_l1(e, 4, 5e-8);
    CHECK(same(e, we, 4));
    float z[4] = { 0 }, wz[4] = { 0 };
    gta_rescale_l1(z, 4, 3.0);
    CHECK(same(z, wz, 4));
    float f[2] = { 0.5f, -0.25f };
    gta_rescale_l1(f, 2, 1.5);
    CHECK(f[0] == 1.0f && f[1] == -0.5f);
    free(d);
}

/* ---- merge ----------------------------------------------------------------- */

/* Per element, explicitly: weighted deltas, election, matching, divisor. */
static void ref_merge(const float *base, const float *const *deltas, const double *w, size_t nm,
                      size_t n, const GtaOptions *o, float *out) {
    for (size_t j = 0; j < n; j++) {
        float wd[8], ev[8];
        for (size_t i = 0; i < nm; i++) {
            wd[i] = (float)(w[i] * deltas[i][j]);
            ev[i] = o->elect_weighted ? wd[i] : deltas[i][j];
        }
        double mixed = 0, div = 0;
        if (o->consensus == GTA_CONSENSUS_NONE) {
            for (size_t i = 0; i < nm; i++) {
                mixed += wd[i];
                div += o->divide_by_count ? 1 : w[i];
            }
            if (fabs(div) < 1e-8) div = 1;
        } else {
            int sign;
            if (o->consensus == GTA_CONSENSUS_SUM) {
                double s = 0;
                for (size_t i = 0; i < nm; i++) s += ev[i];
                sign = s >= 0 ? 1 : -1;
            } else {
                int pos = 0, neg = 0;
                for (size_t i = 0; i < nm; i++) pos += ev[i] > 0, neg += ev[i] < 0;
                sign = pos - neg >= 0 ? 1 : -1;
            }
            for (size_t i = 0; i < nm; i++) {
                int si = ev[i] > 0 ? 1 : ev[i] < 0 ? -1 : 0;
                if (si != sign) continue;
                mixed += wd[i];
                div += o->divide_by_count ? 1 : w[i];
            }
            if (div == 0) div = 1;
        }
        if (o->normalize) mixed /= div;
        out[j] = (float)(base[j] + o->lambda * mixed);
    }
}

static void test_merge_vs_reference(void) {
    enum { N = 3000, M = 4 };
    static float base[N], d[M][N], out[N], ref[N];
    fill(base, N, 50, 0);
    for (int i = 0; i < M; i++) {
        fill(d[i], N, 60 + i, 6);
        for (size_t j = i; j < N; j += 5) d[i][j] = 0; /* zeros, as after trimming */
    }
    const float *ds[M] = { d[0], d[1], d[2], d[3] };
    const double wsets[][M] = { { 0.5, 0.3, 0.4, 0.2 }, { 1.0, -0.5, 0.7, 0.25 },
                                { 0.5, -0.5, 0.25, -0.25 } };
    const double lambdas[] = { 1.0, 0.7 };
    const GtaConsensus cons[] = { GTA_CONSENSUS_NONE, GTA_CONSENSUS_SUM, GTA_CONSENSUS_COUNT };
    for (int ws = 0; ws < 3; ws++)
        for (int c = 0; c < 3; c++)
            for (int bits = 0; bits < 8; bits++)
                for (int l = 0; l < 2; l++)
                    for (size_t nm = 1; nm <= M; nm++) {
                        GtaOptions o = { cons[c], bits & 1, (bits >> 1) & 1, (bits >> 2) & 1,
                                         lambdas[l] };
                        gta_merge(base, ds, wsets[ws], nm, N, &o, out);
                        ref_merge(base, ds, wsets[ws], nm, N, &o, ref);
                        bool ok = true;
                        for (size_t j = 0; j < N; j++)
                            ok &= fabsf(out[j] - ref[j]) <= 1e-6f * (1 + fabsf(ref[j]));
                        CHECK(ok);
                    }
    /* out may alias base. */
    static float b2[N];
    copy(b2, base, N);
    GtaOptions o = { GTA_CONSENSUS_SUM, true, false, true, 1.0 };
    gta_merge(b2, ds, wsets[0], M, N, &o, b2);
    ref_merge(base, ds, wsets[0], M, N, &o, ref);
    CHECK(same(b2, ref, N));
}

static void test_merge_hand(void) {
    /* mergekit ties, weights 0.5 0.25 0.75 (exact in binary), base 1:
     *  e0: WD = 0.5, -0.5, 0.375: sum 0.375 elects +; 0.875 / (0.5 + 0.75).
     *  e1: WD = 0.5, -0.5, 0: sum exactly 0 elects +; 0.5 / 0.5.
     *  e2: all deltas zero: nothing matches, divisor 1, output = base.
     *  e3: WD = 0, -0.25, 0.75: the zero of model 0 does not count: 0.75 / 0.75. */
    float base[4] = { 1, 1, 1, 1 };
    float d0[4] = { 1, 1, 0, 0 }, d1[4] = { -2, -2, 0, -1 }, d2[4] = { 0.5f, 0, 0, 1 };
    const float *ds[3] = { d0, d1, d2 };
    double w[3] = { 0.5, 0.25, 0.75 };
    float out[4];
    GtaOptions ties = { GTA_CONSENSUS_SUM, true, false, true, 1.0 };
    gta_merge(base, ds, w, 3, 4, &ties, out);
    CHECK_NEAR(out[0], 1.7, 1e-6);
    CHECK_NEAR(out[1], 2.0, 1e-6);
    CHECK(out[2] == 1.0f);
    CHECK_NEAR(out[3], 2.0, 1e-6);
    /* Without normalize and lambda 1.2: base + 1.2 * mixed. */
    GtaOptions nonorm = { GTA_CONSENSUS_SUM, true, false, false, 1.2 };
    gta_merge(base, ds, w, 3, 4, &nonorm, out);
    CHECK_NEAR(out[0], 1 + 1.2 * 0.875, 1e-6);
    CHECK_NEAR(out[3], 1 + 1.2 * 0.75, 1e-6);
    /* Task arithmetic: plain weighted sum; normalised by sum w = 1.5 or by
     * the model count. */
    GtaOptions ta = { GTA_CONSENSUS_NONE, true, false, false, 1.0 };
    gta_merge(base, ds, w, 3, 4, &ta, out);
    CHECK_NEAR(out[0], 1.375, 1e-6);
    ta.normalize = true;
    gta_merge(base, ds, w, 3, 4, &ta, out);
    CHECK_NEAR(out[0], 1.25, 1e-6);
    ta.divide_by_count = true;
    gta_merge(base, ds, w, 3, 4, &ta, out);
    CHECK_NEAR(out[0], 1.125, 1e-6);
}

static void test_merge_count_and_unweighted(void) {
    /* WD = 0.1, 0.1, -5: count elects + (2 vs 1), sum elects -. */
    float base[1] = { 0 }, d0[1] = { 0.1f }, d1[1] = { 0.1f }, d2[1] = { -5 };
    const float *ds[3] = { d0, d1, d2 };
    double w[3] = { 1, 1, 1 };
    float out[1];
    GtaOptions o = { GTA_CONSENSUS_COUNT, true, false, true, 1.0 };
    gta_merge(base, ds, w, 3, 1, &o, out);
    CHECK_NEAR(out[0], 0.1, 1e-7);
    o.consensus = GTA_CONSENSUS_SUM;
    gta_merge(base, ds, w, 3, 1, &o, out);
    CHECK_NEAR(out[0], -5, 1e-6);
    /* divide_by_count: mean of the matching weighted deltas. */
    double w2[3] = { 2, 4, 1 };
    o = (GtaOptions){ GTA_CONSENSUS_COUNT, true, true, true, 1.0 };
    gta_merge(base, ds, w2, 3, 1, &o, out);
    CHECK_NEAR(out[0], (0.2 + 0.4) / 2, 1e-6);
    /* Weighted vs unweighted election: d = 1, -0.5 with w = 0.1, 1:
     * WD sum = -0.4 elects -, d sum = 0.5 elects +. */
    float e0[1] = { 1 }, e1[1] = { -0.5f };
    const float *es[2] = { e0, e1 };
    double we[2] = { 0.1, 1 };
    o = (GtaOptions){ GTA_CONSENSUS_SUM, true, false, true, 1.0 };
    gta_merge(base, es, we, 2, 1, &o, out);
    CHECK_NEAR(out[0], -0.5, 1e-7);
    o.elect_weighted = false;
    gta_merge(base, es, we, 2, 1, &o, out);
    CHECK_NEAR(out[0], 1.0, 1e-7);
}

static void test_merge_negative_weights(void) {
    float base[2] = { 0.5f, 0.5f };
    float d0[2] = { 1, 1 }, d1[2] = { 1, -1 };
    const float *ds[2] = { d0, d1 };
    double w[2] = { 1, -0.5 };
    float out[2];
    /* e0: WD = 1, -0.5: + elected, only model 0 matches: 1 / 1. */
    GtaOptions o = { GTA_CONSENSUS_SUM, true, false, true, 1.0 };
    gta_merge(base, ds, w, 2, 2, &o, out);
    CHECK_NEAR(out[0], 1.5, 1e-7);
    /* e1: WD = 1, 0.5: both match, divisor 1 - 0.5 = 0.5: 1.5 / 0.5. */
    CHECK_NEAR(out[1], 0.5 + 3.0, 1e-6);
    /* Unweighted election on e0: d = 1, 1 elects +, both match by d's sign:
     * mixed 1 - 0.5 = 0.5, divisor 0.5. */
    o.elect_weighted = false;
    gta_merge(base, ds, w, 2, 2, &o, out);
    CHECK_NEAR(out[0], 1.5, 1e-7);
    /* Matching weights that cancel give a zero divisor, replaced by 1. */
    double wc[2] = { 1, -1 };
    o.elect_weighted = true;
    gta_merge(base, ds, wc, 2, 2, &o, out);
    CHECK_NEAR(out[1], 0.5 + 2.0, 1e-7);
    /* Without consensus, sum w below 1e-8 is replaced by 1. */
    GtaOptions ta = { GTA_CONSENSUS_NONE, true, false, true, 1.0 };
    gta_merge(base, ds, wc, 2, 2, &ta, out);
    CHECK_NEAR(out[0], 0.5, 1e-7);
    CHECK_NEAR(out[1], 2.5, 1e-7);
}

static void test_merge_zero_never_matches(void) {
    /* Element 0: deltas 0 and +1 (w 0.5 each). A matching zero would make
     * the divisor 1 instead of 0.5. Element 1: all zero, negative sum
     * impossible, output is base exactly. */
    float base[2] = { 2, -3 }, d0[2] = { 0, 0 }, d1[2] = { 1, 0 };
    const float *ds[2] = { d0, d1 };
    double w[2] = { 0.5, 0.5 };
    float out[2];
    for (int c = 1; c <= 2; c++) {
        GtaOptions o = { (GtaConsensus)c, true, false, true, 1.0 };
        gta_merge(base, ds, w, 2, 2, &o, out);
        CHECK_NEAR(out[0], 3.0, 1e-7);
        CHECK(out[1] == -3.0f);
        o.divide_by_count = true;
        gta_merge(base, ds, w, 2, 2, &o, out);
        CHECK_NEAR(out[0], 2.5, 1e-7);
    }
    /* -0.0 is a zero too. */
    float nz[1] = { -0.0f }, b1[1] = { 1 }, one[1] = { -1 };
    const float *ns[2] = { nz, one };
    double w1[2] = { 1, 1 };
    float o1[1];
    GtaOptions o = { GTA_CONSENSUS_COUNT, true, false, true, 1.0 };
    gta_merge(b1, ns, w1, 2, 1, &o, o1);
    CHECK_NEAR(o1[0], 0.0, 1e-7); /* count -1 elects -, mixed -1 / 1 */
}

static void test_merge_wd_rounding(void) {
    /* WD is rounded to float32 before summing: (float)(0.1 * 3) summed three
     * times, not 0.9 in double. */
    float base[1] = { 0 }, d[1] = { 3 };
    const float *ds[3] = { d, d, d };
    double w[3] = { 0.1, 0.1, 0.1 };
    float out[1];
    GtaOptions o = { GTA_CONSENSUS_NONE, true, false, false, 1.0 };
    gta_merge(base, ds, w, 3, 1, &o, out);
    float wd = (float)(0.1 * 3);
    CHECK(out[0] == (float)(3.0 * (double)wd));
}

int main(void) {
    RUN_TEST(test_rng_uniform_stats);
    RUN_TEST(test_rng_determinism);
    RUN_TEST(test_trim_magnitude_hand);
    RUN_TEST(test_trim_magnitude_edges);
    RUN_TEST(test_trim_magnitude_vs_sort);
    RUN_TEST(test_trim_magnitude_adversarial);
    RUN_TEST(test_trim_magnitude_per_row);
    RUN_TEST(test_trim_outliers_hand);
    RUN_TEST(test_trim_outliers_quirk);
    RUN_TEST(test_trim_outliers_nbot_negative);
    RUN_TEST(test_trim_outliers_vs_sort);
    RUN_TEST(test_drop_random);
    RUN_TEST(test_della_exact);
    RUN_TEST(test_della_stats);
    RUN_TEST(test_della_edges);
    RUN_TEST(test_rescale_l1);
    RUN_TEST(test_merge_vs_reference);
    RUN_TEST(test_merge_hand);
    RUN_TEST(test_merge_count_and_unweighted);
    RUN_TEST(test_merge_negative_weights);
    RUN_TEST(test_merge_zero_never_matches);
    RUN_TEST(test_merge_wd_rounding);
    return CHECK_DONE();
}
