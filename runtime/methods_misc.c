/* methods_misc.c - the remaining kernels of methods.h: model_stock,
 * nearswap, sce, ram / ramplus_tl and arcee_fusion.
 *
 * Implementation notes. Task vectors x - base are rounded to float32 (as
 * mergekit subtracts in the tensor dtype); sums, norms and weights are
 * float64; each output element is rounded to float32 once. Sums over
 * models that need a per-model scalar (sce's weights) take the models
 * GROUP at a time with those scalars on the stack, since kernels take no
 * per-model scratch.
 *
 * Selections (sce's top-k, arcee_fusion's quantiles) use an O(n) expected
 * quickselect with a heapsort fallback, ordering floats by their bits so
 * that NaN and -0 have a fixed place and no input can upset the loop. */
#include "methods.h"

#include <math.h>
#include <string.h>

#include "rng.h"

enum { GROUP = 32 };

static size_t min_size(size_t a, size_t b) {
    return a < b ? a : b;
}

/* ---- selection ------------------------------------------------------------ */

/* A total order on floats as unsigned integers: -NaN < -inf < ... < -0 <
 * +0 < ... < +inf < +NaN. */
static uint32_t fkey(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return (u & 0x80000000u) ? ~u : u | 0x80000000u;
}

static void fswap(float *a, size_t i, size_t j) {
    float t = a[i];
    a[i] = a[j];
    a[j] = t;
}

static void sift_down(float *a, size_t root, size_t len) {
    for (;;) {
        size_t c = 2 * root + 1;
        if (c >= len) return;
        if (c + 1 < len && fkey(a[c + 1]) > fkey(a[c])) c++;
        if (fkey(a[root]) >= fkey(a[c])) return;
        fswap(a, root, c);
        root = c;
    }
}

static void heap_sort(float *a, size_t len) {
    for (size_t i = len / 2; i-- > 0;) sift_down(a, i, len);
    for (size_t end = len; end > 1; end--) {
        fswap(a, 0, end - 1);
        sift_down(a, 0, end - 1);
    }
}

/* Rearranges a[0..len) so that a[nth] holds the element of rank nth in
 * ascending fkey order, with nothing larger before it and nothing smaller
 * after it. Three-way partitions keep runs of equal values linear; after
 * 2 log2(len) rounds the rest is heap-sorted, bounding the worst case. */
static void select_nth(float *a, size_t len, size_t nth) {
    size_t lo = 0, hi = len, budget = 2;
    for (size_t m = len; m > 1; m >>= 1) budget += 2;
    while (hi - lo > 1) {
        if (budget-- == 0) {
            heap_sort(a + lo, hi - lo);
            return;
        }
        uint32_t k0 = fkey(a[lo]), k1 = fkey(a[lo + (hi - lo) / 2]), k2 = fkey(a[hi - 1]);
        uint32_t p = k0 < k1 ? (k1 < k2 ? k1 : k0 < k2 ? k2 : k0)
                             : (k0 < k2 ? k0 : k1 < k2 ? k2 : k1);
        size_t lt = lo, i = lo, gt = hi;
        while (i < gt) {
            uint32_t k = fkey(a[i]);
            if (k < p) fswap(a, lt++, i++);
            else if (k > p) fswap(a, i, --gt);
            else i++;
        }
        if (nth < lt) hi = lt;
        else if (nth >= gt) lo = gt;
        else return;
    }
}

/* ---- model_stock ---------------------------------------------------------- */

/* t = N cos / (1 + (N-1) cos), cos the mean pairwise cosine of the task
 * vectors of one span. */
static double stock_ratio(const float *base, const float *const *xs, size_t k, size_t off,
                          size_t len) {
    if (k < 2) return 1; /* no pair: the caller guarantees k >= 2 */
    double cos_sum = 0;
    size_t pairs = 0;
    for (size_t i = 0; i < k; i++) {
        for (size_t m = i + 1; m < k; m++) {
            const float *a = xs[i] + off, *b = xs[m] + off, *o = base + off;
            double dot = 0, sa = 0, sb = 0;
            for (size_t j = 0; j < len; j++) {
                double da = a[j] - o[j], db = b[j] - o[j];
                dot += da * db;
                sa += da * da;
                sb += db * db;
            }
            double np = sqrt(sa) * sqrt(sb);
            double c = dot / (np < 1e-6 ? 1e-6 : np);
            cos_sum += c > 1 ? 1 : c < -1 ? -1 : c;
            pairs++;
        }
    }
    double c = cos_sum / (double)pairs, nn = (double)k;
    return nn * c / (1 + (nn - 1) * c);
}

static void stock_apply(const float *base, const float *const *xs, size_t k, size_t off,
                        size_t len, double t, float *out) {
    for (size_t j = off; j < off + len; j++) {
        double s = 0;
        for (size_t i = 0; i < k; i++) s += xs[i][j];
        out[j] = (float)(t * (s / (double)k) + (1 - t) * base[j]);
    }
}

void meth_model_stock(const float *base, const float *const *xs, size_t k, size_t n_rows,
                      size_t row_len, bool filter_wise, float *out) {
    size_t n = n_rows * row_len;
    if (k == 0) {
        memcpy(out, base, n * sizeof *out);
        return;
    }
    if (!filter_wise) {
        stock_apply(base, xs, k, 0, n, stock_ratio(base, xs, k, 0, n), out);
        return;
    }
    for (size_t r = 0; r < n_rows; r++) {
        size_t off = r * row_len;
        stock_apply(base, xs, k, off, row_len, stock_ratio(base, xs, k, off, row_len), out);
    }
}

/* ---- nearswap ------------------------------------------------------------- */

void meth_nearswap(const float *base, const float *x, size_t n, double t, float *out) {
    for (size_t j = 0; j < n; j++) {
        double d = fabsf(base[j] - x[j]);
        double w = t / (d < 1e-6 ? 1e-6 : d);
        w = w < 0 ? 0 : w > 1 ? 1 : w;
        out[j] = (float)(w * x[j] + (1 - w) * base[j]);
    }
}

/* ---- sce ------------------------------------------------------------------ */

enum { SCE_KEEP = 1, SCE_PLUS = 2 };

/* Marks the k positions of largest variance with SCE_KEEP. Among equal
 * variances at the cutoff the lower index wins, a stable rule where
 * torch.topk leaves the choice to its implementation. */
static void sce_select(const float *base, const float *const *xs, size_t k, size_t n,
                       double select_topk, float *vals, uint32_t *keys, uint8_t *mask) {
    memset(mask, 0, n);
    if (select_topk <= 0) return;
    size_t nz = 0;
    for (size_t j = 0; j < n; j++) {
        double mean = 0, var = 0;
        for (size_t i = 0; i < k; i++) mean += (double)(xs[i][j] - base[j]);
        mean /= (double)k;
        for (size_t i = 0; i < k; i++) {
            double d = (double)(xs[i][j] - base[j]) - mean;
            var += d * d;
        }
        float v = (float)(var / (double)k);
        keys[j] = fkey(v);
        if (v != 0) vals[nz++] = v;
    }
    size_t top = (size_t)floor((double)nz * select_topk);
    if (top == 0) return;
    if (top > nz) top = nz;
    select_nth(vals, nz, nz - top);
    uint32_t cut = fkey(vals[nz - top]);
    size_t above = 0;
    for (size_t j = 0; j < n; j++) above += keys[j] > cut;
    size_t at_cut = top - above;
    for (size_t j = 0; j < n; j++) {
        if (keys[j] > cut) mask[j] = SCE_KEEP;
        else if (keys[j] == cut && at_cut > 0) { mask[j] = SCE_KEEP; at_cut--; }
    }
}

static double sce_tau(const float *base, const float *x, const uint8_t *mask, size_t j) {
    return (mask[j] & SCE_KEEP) ? (double)(x[j] - base[j]) : 0.0;
}

/* mean(tau^2) of one (selected) task vector: the matrix-level weight. */
static double sce_weight(const float *base, const float *x, const uint8_t *mask, size_t n) {
    double s = 0;
    for (size_t j = 0; j < n; j++) {
        double d = sce_tau(base, x, mask, j);
        s += d * d;
    }
    return n ? s / (double)n : 0;
}

void meth_sce(const float *base, const float *const *xs, size_t k, size_t n, double select_topk,
              float *out, float *scratch_f, uint32_t *scratch_idx, uint8_t *scratch_mask) {
    uint8_t *mask = scratch_mask;
    if (k == 0) {
        memcpy(out, base, n * sizeof *out);
        return;
    }
    if (select_topk < 1) sce_select(base, xs, k, n, select_topk, scratch_f, scratch_idx, mask);
    else memset(mask, SCE_KEEP, n);

    /* TIES "sum" election on the unweighted (selected) task vectors. */
    for (size_t j = 0; j < n; j++) {
        double s = 0;
        for (size_t i = 0; i < k; i++) s += sce_tau(base, xs[i], mask, j);
        if (s >= 0) mask[j] |= SCE_PLUS;
    }

    double wsum = 0;
    for (size_t i = 0; i < k; i++) wsum += sce_weight(base, xs[i], mask, n);
    bool uniform = fabs(wsum) < 1e-6;

    /* out and scratch_f carry the numerator and the divisor between groups. */
    float *num = out, *den = scratch_f;
    for (size_t g = 0; g < k; g += GROUP) {
        size_t gn = min_size(GROUP, k - g);
        bool first = g == 0, last = g + gn == k;
        double s[GROUP];
        for (size_t q = 0; q < gn; q++)
            s[q] = uniform ? 1.0 / (double)k : sce_weight(base, xs[g + q], mask, n) / wsum;
        for (size_t j = 0; j < n; j++) {
            double nu = first ? 0 : num[j], de = first ? 0 : den[j];
            bool plus = mask[j] & SCE_PLUS;
            for (size_t q = 0; q < gn; q++) {
                double d = sce_tau(base, xs[g + q], mask, j);
                if (plus ? d > 0 : d < 0) {
                    nu += s[q] * d;
                    de += s[q];
                }
            }
            if (last) out[j] = (float)(base[j] + nu / (de < 1e-6 ? 1e-6 : de));
            else { num[j] = (float)nu; den[j] = (float)de; }
        }
    }
}

/* ---- ram / ramplus_tl ----------------------------------------------------- */

enum { RAM_NONE = 0, RAM_UNIQUE = 1, RAM_SHARED = 2 };

void meth_ram(const float *base, const float *const *xs, size_t k, size_t n, double epsilon,
              bool plus, double r, double alpha, float *out, uint8_t *scratch) {
    /* The threshold is compared in float32, as torch compares a float32
     * tensor with a Python scalar. */
    float eps = (float)epsilon;
    for (size_t j = 0; j < n; j++) {
        double s = 0;
        size_t c = 0;
        for (size_t i = 0; i < k; i++) {
            float d = xs[i][j] - base[j];
            if (fabsf(d) > eps) {
                s += d;
                c++;
            }
        }
        scratch[j] = c == 0 ? RAM_NONE : c == 1 ? RAM_UNIQUE : RAM_SHARED;
        out[j] = c == 0 ? base[j] : (float)(base[j] + s / (double)c);
    }
    if (!plus) return;
    /* RAM+ (tensor-local): a model's unique entries grow by
     * lambda = 1 + r clamp(shared / max(unique, eps), 0, alpha), with its
     * counts of active entries that are shared and unique in this tensor. */
    for (size_t i = 0; i < k; i++) {
        size_t n_shared = 0, n_unique = 0;
        for (size_t j = 0; j < n; j++) {
            if (!(fabsf(xs[i][j] - base[j]) > eps)) continue;
            if (scratch[j] == RAM_UNIQUE) n_unique++;
            else n_shared++;
        }
        double rho = (double)n_shared / fmax((double)n_unique, epsilon);
        double lambda = 1 + r * (rho < 0 ? 0 : rho > alpha ? alpha : rho);
        if (n_unique == 0 || lambda == 1) continue;
        for (size_t j = 0; j < n; j++) {
            float d = xs[i][j] - base[j];
            if (scratch[j] == RAM_UNIQUE && fabsf(d) > eps)
                out[j] = (float)(base[j] + lambda * d);
        }
    }
}

/* ---- arcee_fusion --------------------------------------------------------- */

enum { QUANTILE_SAMPLE = 1000000 };

/* KL(p || q) of one row, p = softmax(x) + 1e-8, q = softmax(base) + 1e-8. */
static double row_kl(const float *x, const float *base, size_t len) {
    double mx = -INFINITY, mb = -INFINITY, zx = 0, zb = 0, kl = 0;
    for (size_t j = 0; j < len; j++) {
        if (x[j] > mx) mx = x[j];
        if (base[j] > mb) mb = base[j];
    }
    for (size_t j = 0; j < len; j++) {
        zx += exp(x[j] - mx);
        zb += exp(base[j] - mb);
    }
    for (size_t j = 0; j < len; j++) {
        double p = exp(x[j] - mx) / zx + 1e-8, q = exp(base[j] - mb) / zb + 1e-8;
        kl += p * log(p / q);
    }
    return kl;
}

/* One function, so that the sample and the final mask see identical
 * scores. */
static float importance(const float *base, const float *x, size_t j, double kl) {
    return (float)((double)fabsf(x[j] - base[j]) * kl);
}

void meth_arcee_fusion(const float *base, const float *x, size_t n_rows, size_t row_len,
                       uint64_t stream, float *out, float *scratch_f, double *scratch_rows) {
    size_t n = n_rows * row_len;
    if (n == 0) return;
    double *kl = scratch_rows;
    for (size_t r = 0; r < n_rows; r++)
        kl[r] = row_kl(x + r * row_len, base + r * row_len, row_len);
    float *s = scratch_f;
    for (size_t j = 0; j < n; j++) s[j] = importance(base, x, j, kl[j / row_len]);

    /* Quantiles from at most QUANTILE_SAMPLE scores. A larger tensor is
     * subsampled without replacement by the first m steps of a Fisher-Yates
     * shuffle: step i swaps s[i] with s[i + rng_bits(stream, i) % (n - i)]
     * (the modulo bias is below 2^-24 for any real tensor size). */
    size_t m = n;
    if (n > QUANTILE_SAMPLE) {
        m = QUANTILE_SAMPLE;
        for (size_t i = 0; i < m; i++)
            fswap(s, i, i + (size_t)(rng_bits(stream, i) % (uint64_t)(n - i)));
    }
    /* Indices floor(q (m-1)) for q = 1/4, 1/2, 3/4, exact in integers. */
    size_t i1 = (m - 1) / 4, i2 = (m - 1) / 2, i3 = 3 * (m - 1) / 4;
    select_nth(s, m, i2);
    float med = s[i2], q1 = med, q3 = med;
    if (i1 < i2) {
        select_nth(s, i2, i1);
        q1 = s[i1];
    }
    if (i3 > i2) {
        select_nth(s + i2 + 1, m - i2 - 1, i3 - i2 - 1);
        q3 = s[i3];
    }
    /* float32 arithmetic, as torch forms the threshold. */
    float thr = med + 1.5f * (q3 - q1);
    for (size_t j = 0; j < n; j++) {
        float keep = importance(base, x, j, kl[j / row_len]) >= thr ? 1.0f : 0.0f;
        out[j] = base[j] + (x[j] - base[j]) * keep;
    }
}
