/* gta.c - sparsifiers and the sign-elected merge of the generalized
 * task-arithmetic family; see gta.h.
 *
 * Implementation notes:
 * - Top-k and the breadcrumbs cutoffs use selection (introselect: quickselect
 *   with a three-way partition, so runs of equal magnitudes cost one pass,
 *   falling back to heap sort when the work passes a budget), then one pass
 *   that applies the stable tie rule. Sorting the whole tensor would be
 *   O(n log n) for no gain.
 * - mergekit's orderings come from torch's unstable argsort, so which of
 *   several equal magnitudes survive a cutoff is not defined there. We always
 *   order equal magnitudes by index (lower index = smaller), which keeps the
 *   lowest indices at a top-k cutoff and drops the lowest indices at a
 *   bottom cutoff.
 * - DELLA needs full ranks, so each row is sorted (introsort of indices keyed
 *   by (|d|, index), a total order, so an unstable sort gives stable ranks).
 * - Inputs are NaN-free; magnitudes are compared as floats. */
#include "runtime/kernels/gta.h"

#include <assert.h>
#include <math.h>

#include "runtime/core/rng.h"
#include "runtime/core/simd.h"

/* Eight running sums, entry j into sum j % 8, added up in order at the
 * end: a fixed order (the same result on every machine and for any -j),
 * and one the compiler vectorises, where a single running sum is a chain
 * of dependent additions. */
SIMD_CLONES
double gta_l1(const float *d, size_t n) {
    double lane[8] = { 0 };
    size_t j = 0;
    for (; j + 8 <= n; j += 8)
        for (int l = 0; l < 8; l++) lane[l] += fabs((double)d[j + l]);
    double s = 0;
    for (int l = 0; l < 8; l++) s += lane[l];
    for (; j < n; j++) s += fabs((double)d[j]);
    return s;
}

static void zero(float *d, size_t n) {
    for (size_t j = 0; j < n; j++) d[j] = 0.0f;
}

/* ---- selection on floats ------------------------------------------------ */

static void swap_f(float *a, size_t i, size_t j) {
    float t = a[i];
    a[i] = a[j];
    a[j] = t;
}

static void sift_down_f(float *a, size_t root, size_t n) {
    for (;;) {
        size_t c = 2 * root + 1;
        if (c >= n) return;
        if (c + 1 < n && a[c + 1] > a[c]) c++;
        if (!(a[c] > a[root])) return;
        swap_f(a, root, c);
        root = c;
    }
}

static void heapsort_f(float *a, size_t n) {
    for (size_t i = n / 2; i-- > 0;) sift_down_f(a, i, n);
    for (size_t end = n; end > 1; end--) {
        swap_f(a, 0, end - 1);
        sift_down_f(a, 0, end - 1);
    }
}

static float median3(float x, float y, float z) {
    if (x > y) { float t = x; x = y; y = t; }
    if (y > z) y = z;
    return x > y ? x : y;
}

/* The value at ascending position nth (< n) of a, which it permutes.
 * Pivots are the median of three positions drawn from a counter RNG keyed
 * by n, so no fixed input pattern is slow; a work budget of 8n still bounds
 * the worst case at O(n log n). */
static float select_nth(float *a, size_t n, size_t nth) {
    size_t lo = 0, hi = n, work = 0;
    uint64_t draw = 0;
    while (hi - lo > 1) {
        size_t m = hi - lo;
        work += m;
        if (work > 8 * n + 64) {
            heapsort_f(a + lo, m);
            return a[nth];
        }
        size_t pos[3];
        for (int t = 0; t < 3; t++) pos[t] = lo + (size_t)(rng_bits(n, draw++) % m);
        float p = median3(a[pos[0]], a[pos[1]], a[pos[2]]);
        /* Three-way partition: [lo,lt) < p, [lt,gt) == p, [gt,hi) > p. */
        size_t lt = lo, i = lo, gt = hi;
        while (i < gt) {
            if (a[i] < p) swap_f(a, lt++, i++);
            else if (a[i] > p) swap_f(a, i, --gt);
            else i++;
        }
        if (nth < lt) hi = lt;
        else if (nth >= gt) lo = gt;
        else return p;
    }
    return a[nth];
}

/* ---- TIES top-k ---------------------------------------------------------- */

/* Keeps the k largest |d| of d[0..m), lower index first among equals. */
static size_t keep_top_k(float *d, size_t m, size_t k, float *scratch) {
    if (k >= m) return m;
    if (k == 0) {
        zero(d, m);
        return 0;
    }
    for (size_t j = 0; j < m; j++) scratch[j] = fabsf(d[j]);
    float t = select_nth(scratch, m, m - k);
    size_t above = 0;
    for (size_t j = 0; j < m; j++) above += fabsf(d[j]) > t;
    size_t ties_kept = k - above;
    for (size_t j = 0; j < m; j++) {
        float a = fabsf(d[j]);
        if (a > t) continue;
        if (a == t && ties_kept > 0) {
            ties_kept--;
            continue;
        }
        d[j] = 0.0f;
    }
    return k;
}

size_t gta_kept_count(double density, size_t m) {
    if (!(density > 0)) return 0;
    double k = floor(density * (double)m);
    return k >= (double)m ? m : (size_t)k;
}

size_t gta_trim_magnitude(float *d, size_t n, size_t row_len, bool per_row, double density,
                          float *scratch) {
    if (density >= 1) return n;
    if (!per_row) return keep_top_k(d, n, gta_kept_count(density, n), scratch);
    if (n == 0) return 0;
    assert(row_len > 0 && n % row_len == 0);
    size_t kept = 0, k = gta_kept_count(density, row_len);
    for (size_t off = 0; off < n; off += row_len) kept += keep_top_k(d + off, row_len, k, scratch);
    return kept;
}

/* ---- DARE ---------------------------------------------------------------- */

size_t gta_drop_random(float *d, size_t n, double density, uint64_t stream) {
    return gta_drop_random_from(d, n, density, stream, 0);
}

/* rng_uniform(s, i) < density, decided on the integer: u = m * 2^-53 with
 * m = bits >> 11, and m * 2^-53 < density exactly when m < ceil(density *
 * 2^53) (a product by a power of two, exact in double). The loop is then
 * integer-only and branch-free, which vectorises (64-bit multiplies are
 * native with AVX-512DQ). */
SIMD_CLONES_WIDE
size_t gta_drop_random_from(float *d, size_t n, double density, uint64_t stream, uint64_t first) {
    if (density >= 1) return n;
    double scaled = ceil((density > 0 ? density : 0) * 0x1p53);
    uint64_t below = (uint64_t)scaled;
    size_t kept = 0;
    for (size_t j = 0; j < n; j++) {
        bool keep = (rng_bits(stream, first + j) >> 11) < below;
        kept += keep;
        d[j] = keep ? d[j] : 0.0f;
    }
    return kept;
}

/* ---- breadcrumbs --------------------------------------------------------- */

/* Python's int(x) for x = fraction * N, clamped far enough out that the
 * slice arithmetic below gives the same result as the unclamped value. */
static int64_t py_int(double x, int64_t N) {
    double lim = 2.0 * (double)N + 2.0;
    if (x != x) return 0;
    if (x > lim) x = lim;
    if (x < -lim) x = -lim;
    return (int64_t)x;
}

void gta_outlier_range(size_t n, double density, double gamma, size_t *start_out, size_t *end_out) {
    int64_t N = (int64_t)n;
    int64_t target = py_int(density * (double)N, N);
    int64_t n_top = py_int(gamma * (double)N, N);
    int64_t n_bot = N - target - n_top;
    if (n_bot < 0) {
        n_top += n_bot;
        n_bot = 0;
    }
    /* mergekit keeps sorted[n_bot : -n_top] with Python slice rules; -0 is
     * 0, so n_top == 0 keeps nothing (its quirk, reproduced on purpose). */
    int64_t start = n_bot, end = -n_top;
    if (start < 0) start += N;
    if (end < 0) end += N;
    if (start < 0) start = 0;
    if (start > N) start = N;
    if (end < 0) end = 0;
    if (end > N) end = N;
    *start_out = (size_t)start;
    *end_out = (size_t)(end > start ? end : start);
}

size_t gta_trim_outliers(float *d, size_t n, double density, double gamma, float *scratch_f,
                         uint32_t *scratch_idx) {
    (void)scratch_idx; /* selection needs no index array */
    if (density >= 1) return n;
    size_t start, end;
    gta_outlier_range(n, density, gamma, &start, &end);
    if (start >= end) {
        zero(d, n);
        return 0;
    }
    if (start == 0 && end == n) return n;

    for (size_t j = 0; j < n; j++) scratch_f[j] = fabsf(d[j]);
    float lo = select_nth(scratch_f, n, start);
    float hi = select_nth(scratch_f, n, end - 1);
    size_t below_lo = 0, below_hi = 0;
    for (size_t j = 0; j < n; j++) {
        float a = fabsf(d[j]);
        below_lo += a < lo;
        below_hi += a < hi;
    }
    /* Among the entries equal to lo, the first (start - below_lo) by index
     * rank below `start`; among those equal to hi, the first
     * (end - below_hi) rank below `end`. */
    size_t drop_lo = start - below_lo, keep_hi = end - below_hi;
    size_t seen_lo = 0, seen_hi = 0;
    for (size_t j = 0; j < n; j++) {
        float a = fabsf(d[j]);
        bool keep = a > lo || (a == lo && seen_lo >= drop_lo);
        if (a == lo) seen_lo++;
        keep = keep && (a < hi || (a == hi && seen_hi < keep_hi));
        if (a == hi) seen_hi++;
        if (!keep) d[j] = 0.0f;
    }
    return end - start;
}

/* ---- DELLA --------------------------------------------------------------- */

/* Index order of a row: by |row[i]|, then by index. */
static bool idx_less(const float *row, uint32_t a, uint32_t b) {
    float x = fabsf(row[a]), y = fabsf(row[b]);
    return x < y || (x == y && a < b);
}

static void swap_u(uint32_t *a, size_t i, size_t j) {
    uint32_t t = a[i];
    a[i] = a[j];
    a[j] = t;
}

static void sift_down_idx(const float *row, uint32_t *a, size_t root, size_t n) {
    for (;;) {
        size_t c = 2 * root + 1;
        if (c >= n) return;
        if (c + 1 < n && idx_less(row, a[c], a[c + 1])) c++;
        if (!idx_less(row, a[root], a[c])) return;
        swap_u(a, root, c);
        root = c;
    }
}

static void sort_idx(const float *row, uint32_t *a, size_t n, int depth) {
    while (n > 16) {
        if (depth-- == 0) {
            for (size_t i = n / 2; i-- > 0;) sift_down_idx(row, a, i, n);
            for (size_t end = n; end > 1; end--) {
                swap_u(a, 0, end - 1);
                sift_down_idx(row, a, 0, end - 1);
            }
            return;
        }
        /* Median of first, middle, last moved to a[0] as the pivot. */
        size_t mid = n / 2, last = n - 1;
        if (idx_less(row, a[mid], a[0])) swap_u(a, mid, 0);
        if (idx_less(row, a[last], a[0])) swap_u(a, last, 0);
        if (idx_less(row, a[last], a[mid])) swap_u(a, last, mid);
        swap_u(a, 0, mid);
        uint32_t p = a[0];
        size_t i = 0, j = n;
        /* Keys are distinct, so Hoare's scan needs no equality handling. */
        for (;;) {
            do i++; while (i < n && idx_less(row, a[i], p));
            do j--; while (idx_less(row, p, a[j]));
            if (i >= j) break;
            swap_u(a, i, j);
        }
        swap_u(a, 0, j);
        /* Recurse into the smaller side to bound the stack. */
        if (j < n - j - 1) {
            sort_idx(row, a, j, depth);
            a += j + 1;
            n -= j + 1;
        } else {
            sort_idx(row, a + j + 1, n - j - 1, depth);
            n = j;
        }
    }
    for (size_t i = 1; i < n; i++) {
        uint32_t v = a[i];
        size_t k = i;
        for (; k > 0 && idx_less(row, v, a[k - 1]); k--) a[k] = a[k - 1];
        a[k] = v;
    }
}

size_t gta_drop_della(float *d, size_t n, size_t row_len, double density, double epsilon,
                      uint64_t stream, uint32_t *scratch_idx) {
    return gta_drop_della_from(d, n, row_len, density, epsilon, stream, 0, scratch_idx);
}

size_t gta_drop_della_from(float *d, size_t n, size_t row_len, double density, double epsilon,
                           uint64_t stream, uint64_t first, uint32_t *scratch_idx) {
    if (density >= 1) return n;
    if (!(density > 0)) {
        zero(d, n);
        return 0;
    }
    if (!(0 < density - epsilon && density + epsilon < 1)) return (size_t)-1;
    if (n == 0) return 0;
    assert(row_len > 0 && n % row_len == 0 && row_len <= UINT32_MAX);
    int depth = 0;
    for (size_t m = row_len; m > 1; m >>= 1) depth += 2;
    double last = row_len > 1 ? (double)(row_len - 1) : 1;
    size_t kept = 0;
    for (size_t off = 0; off < n; off += row_len) {
        float *row = d + off;
        for (size_t i = 0; i < row_len; i++) scratch_idx[i] = (uint32_t)i;
        sort_idx(row, scratch_idx, row_len, depth);
        /* The order is fixed in scratch_idx, so zeroing as we go cannot
         * disturb the ranks still to come. */
        for (size_t r = 0; r < row_len; r++) {
            size_t i = scratch_idx[r];
            double p = (density - epsilon) + 2 * epsilon * ((double)r / last);
            if (rng_uniform(stream, first + off + i) < p) kept++;
            else row[i] = 0.0f;
        }
    }
    return kept;
}

/* ---- rescale and merge --------------------------------------------------- */

void gta_rescale_l1(float *d, size_t n, double orig_l1) {
    gta_rescale_by(d, n, orig_l1, gta_l1(d, n));
}

SIMD_CLONES
void gta_rescale_by(float *d, size_t n, double orig_l1, double l1) {
    if (!(orig_l1 >= 1e-7 && l1 >= 1e-7)) return;
    double s = orig_l1 / l1;
    for (size_t j = 0; j < n; j++) d[j] = (float)((double)d[j] * s);
}

/* One entry at a time with every model's delta for it in registers: the
 * vote, the matching sum and the divisor never go through memory. Sums add
 * the models in order 0..k-1 for every entry; a term that does not match
 * adds +-0.0, which changes no float64 sum that starts at +0.0. Model i
 * elects with we[i * we_step] and divides by wd[i * wd_step] (step 0: a
 * constant 1). Inlined with k, the consensus and normalize constant, the
 * model loops unroll and the entry loop vectorises without branches. */
static inline __attribute__((always_inline)) void merge_entries(
    const float *base, const float *const *deltas, const double *w, const double *we, size_t we_step,
    const double *wd, size_t wd_step, size_t k, size_t n, GtaConsensus consensus, bool normalize,
    double plain_div, double lambda, float *out) {
    for (size_t j = 0; j < n; j++) {
        double mixed = 0, div = plain_div;
        if (consensus == GTA_CONSENSUS_NONE) {
            for (size_t i = 0; i < k; i++) mixed += (float)(w[i] * (double)deltas[i][j]);
        } else {
            double vote = 0;
            for (size_t i = 0; i < k; i++) {
                float e = (float)(we[i * we_step] * (double)deltas[i][j]);
                vote += consensus == GTA_CONSENSUS_SUM ? (double)e : (double)((e > 0) - (e < 0));
            }
            int up = vote >= 0;
            div = 0;
            for (size_t i = 0; i < k; i++) {
                float wdj = (float)(w[i] * (double)deltas[i][j]);
                float e = (float)(we[i * we_step] * (double)deltas[i][j]);
                int gt = e > 0, lt = e < 0;
                double match = (double)((up & gt) | ((up ^ 1) & lt));
                mixed += match * (double)wdj;
                div += match * wd[i * wd_step];
            }
            /* mergekit replaces a zero divisor by 1: nothing matched, or the
             * matching weights cancel exactly. (Adding rather than selecting
             * keeps the loop free of branches; a nonzero div gains +0.) */
            div += (double)(div == 0);
        }
        if (normalize) mixed /= div;
        out[j] = (float)((double)base[j] + lambda * mixed);
    }
}

/* Copies of merge_entries with k fixed, for up to this many models. */
#define MERGE_FIXED_K 8

SIMD_CLONES
void gta_merge(const float *base, const float *const *deltas, const double *w, size_t n_models,
               size_t n, const GtaOptions *opt, float *out) {
    double plain_div = 1;
    if (opt->consensus == GTA_CONSENSUS_NONE) {
        double sw = 0;
        for (size_t i = 0; i < n_models; i++) sw += w[i];
        plain_div = opt->divide_by_count ? (double)n_models : sw;
        if (fabs(plain_div) < 1e-8) plain_div = 1;
    }
    static const double one = 1.0;
    const double *we = opt->elect_weighted ? w : &one, *wd = opt->divide_by_count ? &one : w;
    size_t we_step = opt->elect_weighted, wd_step = !opt->divide_by_count;
    const double lambda = opt->lambda;
    size_t k = n_models > MERGE_FIXED_K ? 0 : n_models;
    /* Every (k, consensus, normalize) gets its own copy; k = 0 stands for
     * more than MERGE_FIXED_K models, with k known only at run time. */
#define MERGE_COPY(K, C, NZ) \
    merge_entries(base, deltas, w, we, we_step, wd, wd_step, (K) ? (K) : n_models, n, C, NZ, plain_div, lambda, out)
#define MERGE_CONSENSUS(K, NZ) \
    switch (opt->consensus) { \
    case GTA_CONSENSUS_NONE: MERGE_COPY(K, GTA_CONSENSUS_NONE, NZ); break; \
    case GTA_CONSENSUS_SUM: MERGE_COPY(K, GTA_CONSENSUS_SUM, NZ); break; \
    case GTA_CONSENSUS_COUNT: MERGE_COPY(K, GTA_CONSENSUS_COUNT, NZ); break; \
    }
#define MERGE_K(K) \
    case K: \
        if (opt->normalize) MERGE_CONSENSUS(K, true) else MERGE_CONSENSUS(K, false) \
        break;
    switch (k) {
    MERGE_K(0) MERGE_K(1) MERGE_K(2) MERGE_K(3) MERGE_K(4) MERGE_K(5) MERGE_K(6) MERGE_K(7) MERGE_K(8)
    }
#undef MERGE_K
#undef MERGE_CONSENSUS
#undef MERGE_COPY
}
