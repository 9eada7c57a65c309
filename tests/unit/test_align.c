/* test_align.c - weight matching (runtime/kernels/rebasin.c), the core of align():
 *
 * - a Llama-style MLP and grouped-query attention block whose hidden units
 *   are shuffled compute the same function (forward passes in this file),
 *   so the shuffles are the symmetries align() may use; moving query heads
 *   without their key/value head breaks it, so the check has teeth;
 * - matching the shuffled block to the original recovers the shuffle
 *   exactly, also when the shuffled block is a lightly fine-tuned copy, and
 *   applying it restores the original bit for bit;
 * - the blocked similarity kernel agrees with a plain float64 computation
 *   on awkward sizes (tile edges, runs longer than one block, odd lengths). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "tests/unit/check.h"
#include "runtime/kernels/rebasin.h"

enum { D = 24, H = 6, KV = 3, HD = 4, F = 40, T = 5, R = H / KV };

static uint64_t rng_state = 0x0123456789abcdefull;

static uint64_t next_u64(void) {
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static float gauss(void) {
    double s = 0;
    for (int i = 0; i < 4; i++) s += (double)(next_u64() >> 11) * 0x1p-53;
    return (float)((s - 2.0) * 1.7320508075688772);
}

static void fill(float *w, size_t n, float scale) {
    for (size_t i = 0; i < n; i++) w[i] = scale * gauss();
}

static void shuffle(int32_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) p[i] = (int32_t)i;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = next_u64() % (i + 1);
        int32_t t = p[i];
        p[i] = p[j];
        p[j] = t;
    }
}

/* A transformer block's coupled weights (no RoPE: it rotates within each
 * head alike, so moving whole heads commutes with it). */
typedef struct Block {
    float gate[F * D], up[F * D], down[D * F];
    float q[H * HD * D], k[KV * HD * D], v[KV * HD * D], o[D * H * HD];
    float qb[H * HD], kb[KV * HD], vb[KV * HD];
} Block;

/* Unit j of the result is unit mlp[j] (MLP) / group heads[j] (a key/value
 * head with its R query heads) of b. Written out here, independently of
 * rebasin_permute. */
static void permute_block(const Block *b, Block *out, const int32_t *mlp, const int32_t *heads) {
    for (int j = 0; j < F; j++) {
        for (int c = 0; c < D; c++) {
            out->gate[j * D + c] = b->gate[mlp[j] * D + c];
            out->up[j * D + c] = b->up[mlp[j] * D + c];
            out->down[c * F + j] = b->down[c * F + mlp[j]];
        }
    }
    for (int g = 0; g < KV; g++) {
        int from = heads[g];
        for (int r = 0; r < R * HD; r++) {
            out->qb[g * R * HD + r] = b->qb[from * R * HD + r];
            for (int c = 0; c < D; c++) out->q[(g * R * HD + r) * D + c] = b->q[(from * R * HD + r) * D + c];
            for (int c = 0; c < D; c++) out->o[c * H * HD + g * R * HD + r] = b->o[c * H * HD + from * R * HD + r];
        }
        for (int r = 0; r < HD; r++) {
            out->kb[g * HD + r] = b->kb[from * HD + r];
            out->vb[g * HD + r] = b->vb[from * HD + r];
            for (int c = 0; c < D; c++) {
                out->k[(g * HD + r) * D + c] = b->k[(from * HD + r) * D + c];
                out->v[(g * HD + r) * D + c] = b->v[(from * HD + r) * D + c];
            }
        }
    }
}

static void matvec(const float *w, const float *bias, const float *x, int rows, int cols, double *y) {
    for (int i = 0; i < rows; i++) {
        double s = bias ? bias[i] : 0;
        for (int c = 0; c < cols; c++) s += (double)w[i * cols + c] * x[c];
        y[i] = s;
    }
}

/* down(silu(gate x) * up x) */
static void mlp_forward(const Block *b, const float *x, double *y) {
    double g[F], u[F];
    float h[F];
    matvec(b->gate, NULL, x, F, D, g);
    matvec(b->up, NULL, x, F, D, u);
    for (int i = 0; i < F; i++) h[i] = (float)(g[i] / (1 + exp(-g[i])) * u[i]);
    matvec(b->down, NULL, h, D, F, y);
}

/* Causal softmax attention over T positions; query head h reads key/value
 * head h / R (transformers' repeat_kv); o_proj of the concatenated heads. */
static void attention_forward(const Block *b, const float x[T][D], double y[T][D]) {
    double q[T][H * HD], k[T][KV * HD], v[T][KV * HD];
    for (int t = 0; t < T; t++) {
        matvec(b->q, b->qb, x[t], H * HD, D, q[t]);
        matvec(b->k, b->kb, x[t], KV * HD, D, k[t]);
        matvec(b->v, b->vb, x[t], KV * HD, D, v[t]);
    }
    for (int t = 0; t < T; t++) {
        float heads[H * HD];
        for (int h = 0; h < H; h++) {
            int g = h / R;
            double s[T], mx = -INFINITY, z = 0;
            for (int u = 0; u <= t; u++) {
                s[u] = 0;
                for (int e = 0; e < HD; e++) s[u] += q[t][h * HD + e] * k[u][g * HD + e];
                s[u] /= sqrt((double)HD);
                if (s[u] > mx) mx = s[u];
            }
            for (int u = 0; u <= t; u++) z += s[u] = exp(s[u] - mx);
            for (int e = 0; e < HD; e++) {
                double a = 0;
                for (int u = 0; u <= t; u++) a += s[u] / z * v[u][g * HD + e];
                heads[h * HD + e] = (float)a;
            }
        }
        matvec(b->o, NULL, heads, D, H * HD, y[t]);
    }
}

static double max_diff(const double *a, const double *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++)
        if (fabs(a[i] - b[i]) > m) m = fabs(a[i] - b[i]);
    return m;
}

static void random_block(Block *b) {
    fill(b->gate, F * D, 0.3f);
    fill(b->up, F * D, 0.3f);
    fill(b->down, D * F, 0.3f);
    fill(b->q, H * HD * D, 0.3f);
    fill(b->k, KV * HD * D, 0.3f);
    fill(b->v, KV * HD * D, 0.3f);
    fill(b->o, D * H * HD, 0.3f);
    fill(b->qb, H * HD, 0.3f);
    fill(b->kb, KV * HD, 0.3f);
    fill(b->vb, KV * HD, 0.3f);
}

/* The matchings align() computes: m's MLP units and head groups to ref's. */
static void match_block(const Block *m, const Block *ref, int32_t *mlp, int32_t *heads) {
    double *S = calloc(F * F, sizeof *S);
    CHECK(rebasin_add_similarity(S, F, m->gate, ref->gate, F, D, REBASIN_ROWS) == 0);
    CHECK(rebasin_add_similarity(S, F, m->up, ref->up, F, D, REBASIN_ROWS) == 0);
    CHECK(rebasin_add_similarity(S, F, m->down, ref->down, D, F, REBASIN_COLS) == 0);
    CHECK(rebasin_match(S, F, mlp) == 0);
    double A[KV * KV] = { 0 };
    CHECK(rebasin_add_similarity(A, KV, m->q, ref->q, H * HD, D, REBASIN_ROWS) == 0);
    CHECK(rebasin_add_similarity(A, KV, m->k, ref->k, KV * HD, D, REBASIN_ROWS) == 0);
    CHECK(rebasin_add_similarity(A, KV, m->v, ref->v, KV * HD, D, REBASIN_ROWS) == 0);
    CHECK(rebasin_add_similarity(A, KV, m->o, ref->o, D, H * HD, REBASIN_COLS) == 0);
    CHECK(rebasin_add_similarity(A, KV, m->qb, ref->qb, H * HD, 1, REBASIN_ROWS) == 0);
    CHECK(rebasin_add_similarity(A, KV, m->kb, ref->kb, KV * HD, 1, REBASIN_ROWS) == 0);
    CHECK(rebasin_add_similarity(A, KV, m->vb, ref->vb, KV * HD, 1, REBASIN_ROWS) == 0);
    CHECK(rebasin_match(A, KV, heads) == 0);
    free(S);
}

/* Applies a matching with rebasin_permute, as align() does. */
static void apply(const Block *m, Block *out, const int32_t *mlp, const int32_t *heads) {
    rebasin_permute(m->gate, out->gate, F, F, D, REBASIN_ROWS, mlp);
    rebasin_permute(m->up, out->up, F, F, D, REBASIN_ROWS, mlp);
    rebasin_permute(m->down, out->down, F, D, F, REBASIN_COLS, mlp);
    rebasin_permute(m->q, out->q, KV, H * HD, D, REBASIN_ROWS, heads);
    rebasin_permute(m->k, out->k, KV, KV * HD, D, REBASIN_ROWS, heads);
    rebasin_permute(m->v, out->v, KV, KV * HD, D, REBASIN_ROWS, heads);
    rebasin_permute(m->o, out->o, KV, D, H * HD, REBASIN_COLS, heads);
    rebasin_permute(m->qb, out->qb, KV, H * HD, 1, REBASIN_ROWS, heads);
    rebasin_permute(m->kb, out->kb, KV, KV * HD, 1, REBASIN_ROWS, heads);
    rebasin_permute(m->vb, out->vb, KV, KV * HD, 1, REBASIN_ROWS, heads);
}

static void test_permuted_block_same_function(void) {
    static Block b, p, wrong;
    random_block(&b);
    int32_t mlp[F], heads[KV];
    shuffle(mlp, F);
    heads[0] = 2, heads[1] = 0, heads[2] = 1;   /* no fixed point: every group moves */
    permute_block(&b, &p, mlp, heads);
    for (int trial = 0; trial < 5; trial++) {
        float x[T][D];
        for (int t = 0; t < T; t++) fill(x[t], D, 1.0f);
        double y0[D], y1[D];
        mlp_forward(&b, x[0], y0);
        mlp_forward(&p, x[0], y1);
        CHECK(max_diff(y0, y1, D) < 1e-9);
        double a0[T][D], a1[T][D];
        attention_forward(&b, x, a0);
        attention_forward(&p, x, a1);
        CHECK(max_diff(&a0[0][0], &a1[0][0], T * D) < 1e-9);
        /* Query heads moved without their key/value head: another function. */
        wrong = p;
        memcpy(wrong.k, b.k, sizeof b.k);
        memcpy(wrong.kb, b.kb, sizeof b.kb);
        attention_forward(&wrong, x, a1);
        CHECK(max_diff(&a0[0][0], &a1[0][0], T * D) > 1e-3);
    }
}

static void test_matching_recovers_permutation(void) {
    static Block b, ft, p, back;
    for (int trial = 0; trial < 20; trial++) {
        random_block(&b);
        int32_t mlp[F], heads[KV], got_mlp[F], got_heads[KV];
        shuffle(mlp, F);
        shuffle(heads, KV);
        /* Odd trials: the shuffled model is a fine-tune of the reference
         * (10% noise), as when merging two fine-tunes born in different
         * unit orders. */
        ft = b;
        if (trial % 2) {
            float *w = (float *)&ft;
            for (size_t i = 0; i < sizeof ft / sizeof(float); i++) w[i] += 0.03f * gauss();
        }
        permute_block(&ft, &p, mlp, heads);
        match_block(&p, &b, got_mlp, got_heads);
        /* Unit j of the aligned model is unit got[j] of p, which is unit
         * mlp[got[j]] of the unshuffled model: that must be j. */
        bool ok = true;
        for (int j = 0; j < F; j++) ok = ok && mlp[got_mlp[j]] == j;
        for (int j = 0; j < KV; j++) ok = ok && heads[got_heads[j]] == j;
        CHECK(ok);
        apply(&p, &back, got_mlp, got_heads);
        CHECK(memcmp(&back, &ft, sizeof back) == 0);
    }
}

/* The blocked kernel against a plain float64 loop. */
static void test_similarity_kernel(void) {
    static const size_t cases[][3] = {
        /* n, rows, cols */
        { 7, 21, 13 }, { 1, 5, 3 }, { 9, 9, 2500 }, { 130, 130, 3 }, { 6, 12, 1 }, { 5, 4, 35 },
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t n = cases[c][0], rows = cases[c][1], cols = cases[c][2];
        float *a = malloc(rows * cols * sizeof *a), *b = malloc(rows * cols * sizeof *b);
        double *S = calloc(n * n, sizeof *S), *W = calloc(n * n, sizeof *W);
        fill(a, rows * cols, 1.0f);
        fill(b, rows * cols, 1.0f);
        for (int axis = 0; axis < 2; axis++) {
            if (axis == 1 && cols % n != 0) continue;
            if (axis == 0 && rows % n != 0) continue;
            RebasinAxis ax = axis ? REBASIN_COLS : REBASIN_ROWS;
            for (size_t k = 0; k < n * n; k++) S[k] = W[k] = 0;
            CHECK(rebasin_add_similarity(S, n, a, b, rows, cols, ax) == 0);
            size_t ur = axis ? rows : rows / n, uc = axis ? cols / n : cols;
            double worst = 0;
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < n; j++) {
                    double s = 0, mag = 0;
                    for (size_t r = 0; r < ur; r++)
                        for (size_t e = 0; e < uc; e++) {
                            size_t ri = axis ? r : i * ur + r, ci = axis ? i * uc + e : e;
                            size_t rj = axis ? r : j * ur + r, cj = axis ? j * uc + e : e;
                            double prod = (double)a[ri * cols + ci] * b[rj * cols + cj];
                            s += prod;
                            mag += fabs(prod);
                        }
                    double err = fabs(S[i * n + j] - s) / (mag + 1e-30);
                    if (err > worst) worst = err;
                }
            /* float32 partial sums: relative to the sum of magnitudes */
            if (!(worst < 1e-6)) printf("  n=%zu rows=%zu cols=%zu axis=%d: error %g\n", n, rows, cols, axis, worst);
            CHECK(worst < 1e-6);
        }
        free(a);
        free(b);
        free(S);
        free(W);
    }
}

int main(void) {
    RUN_TEST(test_permuted_block_same_function);
    RUN_TEST(test_matching_recovers_permutation);
    RUN_TEST(test_similarity_kernel);
    return CHECK_DONE();
}
