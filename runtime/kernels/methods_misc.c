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
 * Selections (sce's top-k, arcee_fusion's quantiles) are radix selects on
 * the bits of the floats: O(n) for any input, and NaN and -0 have a fixed
 * place in the order. */
#include "runtime/kernels/methods.h"

#include <math.h>
#include <string.h>

#include "runtime/core/rng.h"

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

static float key_float(uint32_t k) {
    uint32_t u = (k & 0x80000000u) ? k & 0x7fffffffu : ~k;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* The key of the element of rank `rank` (0 = smallest) of a[0..len), by
 * fkey order: a radix select, one byte of the key per pass, so four passes
 * whatever the data, and `a` is left as it is. */
static uint32_t kth_key(const float *a, size_t len, size_t rank) {
    uint32_t prefix = 0, fixed = 0;
    for (int shift = 24; shift >= 0; shift -= 8) {
        size_t hist[256] = { 0 };
        for (size_t j = 0; j < len; j++) {
            uint32_t k = fkey(a[j]);
            if ((k & fixed) == prefix) hist[(k >> shift) & 0xffu]++;
        }
        uint32_t d = 0;
        while (d < 255 && rank >= hist[d]) rank -= hist[d++];
        prefix |= d << shift;
        fixed |= 0xffu << shift;
    }
    return prefix;
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
 * torch.topk leaves the choice to its implementation. var: n floats. */
static void sce_select(const float *base, const float *const *xs, size_t k, size_t n,
                       double select_topk, float *var, uint8_t *mask) {
    memset(mask, 0, n);
    if (select_topk <= 0) return;
    size_t nz = 0;
    for (size_t j = 0; j < n; j++) {
        double mean = 0, v = 0;
        for (size_t i = 0; i < k; i++) mean += (double)(xs[i][j] - base[j]);
        mean /= (double)k;
        for (size_t i = 0; i < k; i++) {
            double d = (double)(xs[i][j] - base[j]) - mean;
            v += d * d;
        }
        /* fabsf gives a NaN (from inf or NaN inputs) the + sign, so it
         * ranks above every number, as torch.topk ranks NaN. */
        var[j] = fabsf((float)(v / (double)k));
        nz += var[j] != 0;
    }
    size_t top = (size_t)floor((double)nz * select_topk);
    if (top == 0) return;
    if (top > nz) top = nz;
    /* Variances are >= +0, so the zero ones rank lowest and the cut, of
     * rank n - top >= n - nz, is never zero. */
    uint32_t cut = kth_key(var, n, n - top);
    size_t above = 0;
    for (size_t j = 0; j < n; j++) above += fkey(var[j]) > cut;
    size_t at_cut = top - above;
    for (size_t j = 0; j < n; j++) {
        uint32_t key = fkey(var[j]);
        if (key > cut) {
            mask[j] = SCE_KEEP;
        } else if (key == cut && at_cut > 0) {
            mask[j] = SCE_KEEP;
            at_cut--;
        }
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
    if (select_topk < 1) sce_select(base, xs, k, n, select_topk, scratch_f, mask);
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
            } else {
                /* mergekit multiplies inactive deltas by a 0 mask, which
                 * turns a NaN or inf delta into NaN in the output. */
                s += d * 0.0f;
            }
        }
        scratch[j] = c == 0 ? RAM_NONE : c == 1 ? RAM_UNIQUE : RAM_SHARED;
        out[j] = (float)(base[j] + (c ? s / (double)c : s));
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
            if (scratch[j] == RAM_UNIQUE && fabsf(d) > eps && out[j] == out[j])
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
    float v = (float)((double)fabsf(x[j] - base[j]) * kl);
    /* torch.sort puts NaN last whatever its sign; so does fkey with +NaN. */
    return v != v ? fabsf(v) : v;
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
        for (size_t i = 0; i < m; i++) {
            size_t p = i + (size_t)(rng_bits(stream, i) % (uint64_t)(n - i));
            float t = s[i];
            s[i] = s[p];
            s[p] = t;
        }
    }
    /* Ranks floor(q (m-1)) for q = 1/4, 1/2, 3/4, exact in integers. */
    float q1 = key_float(kth_key(s, m, (m - 1) / 4));
    float med = key_float(kth_key(s, m, (m - 1) / 2));
    float q3 = key_float(kth_key(s, m, 3 * (m - 1) / 4));
    /* float32 arithmetic, as torch forms the threshold. */
    float thr = med + 1.5f * (q3 - q1);
    for (size_t j = 0; j < n; j++) {
        float keep = importance(base, x, j, kl[j / row_len]) >= thr ? 1.0f : 0.0f;
        out[j] = base[j] + (x[j] - base[j]) * keep;
    }
}
