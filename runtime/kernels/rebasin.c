/* rebasin.c - weight matching; see rebasin.h.
 *
 * The similarity matrix is a matrix product A B^T over the units (three of
 * them for a 14336-unit MLP: 2.5e12 multiply-adds), so the kernel is
 * blocked: a tile of 4 units of a against 2 of b keeps its 8 running sums
 * in registers, and runs of 1024 entries of 128 units of b stay in cache
 * while every unit of a passes over them. Each sum has four float32 lanes
 * (entry k goes to lane k mod 4), computed as one vector operation without
 * reassociating anything, so the result is the same bit for bit on every
 * run and machine; the lanes of each run are added in float64. */
#include "runtime/kernels/rebasin.h"

#include <stdlib.h>
#include <string.h>

#include "runtime/kernels/lap.h"

#define RUN 1024        /* entries summed in float32 before going to float64 */
#define BLOCK_B 128     /* units of b kept in cache (128 x 1024 x 4 bytes) */

static size_t min_size(size_t a, size_t b) { return a < b ? a : b; }

/* <a, b> over m entries, in the lanes described above. */
static double dot_run(const float *a, const float *b, size_t m) {
    float l[4] = { 0, 0, 0, 0 };
    size_t k = 0;
    for (; k + 4 <= m; k += 4)
        for (int t = 0; t < 4; t++) l[t] += a[k + t] * b[k + t];
    for (int t = 0; k < m; k++, t++) l[t] += a[k] * b[k];
    return (double)l[0] + l[1] + l[2] + l[3];
}

/* Four float32 lanes. A GNU vector type (gcc and clang): plain C lanes
 * become vector code at -O2 but not at -O3, where gcc and clang vectorise
 * the lane loop instead and keep the sums in memory, 4 to 5 times slower.
 * Lane arithmetic is IEEE per lane, so the results are dot_run's. */
typedef float Lanes __attribute__((vector_size(16)));

static inline Lanes load4(const float *p) {
    Lanes v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* S[r][c] += <a_r, b_c> over m entries for 4 units of a (stride ld) and 2
 * of b: the same sums as dot_run, eight at a time. */
static void tile_4x2(const float *a, const float *b, size_t ld, size_t m, double *S, size_t n) {
    Lanes c[8];
    memset(c, 0, sizeof c);
    const float *a0 = a, *a1 = a + ld, *a2 = a + 2 * ld, *a3 = a + 3 * ld, *b0 = b, *b1 = b + ld;
    size_t k = 0;
    for (; k + 4 <= m; k += 4) {
        Lanes x0 = load4(b0 + k), x1 = load4(b1 + k), r;
        r = load4(a0 + k);
        c[0] += r * x0;
        c[1] += r * x1;
        r = load4(a1 + k);
        c[2] += r * x0;
        c[3] += r * x1;
        r = load4(a2 + k);
        c[4] += r * x0;
        c[5] += r * x1;
        r = load4(a3 + k);
        c[6] += r * x0;
        c[7] += r * x1;
    }
    for (int t = 0; k < m; k++, t++) {
        float x0 = b0[k], x1 = b1[k];
        c[0][t] += a0[k] * x0;
        c[1][t] += a0[k] * x1;
        c[2][t] += a1[k] * x0;
        c[3][t] += a1[k] * x1;
        c[4][t] += a2[k] * x0;
        c[5][t] += a2[k] * x1;
        c[6][t] += a3[k] * x0;
        c[7][t] += a3[k] * x1;
    }
    for (int q = 0; q < 8; q++)
        S[(size_t)(q / 2) * n + (size_t)(q % 2)] += (double)c[q][0] + c[q][1] + c[q][2] + c[q][3];
}

/* S[i][j] += <a + i k, b + j k> over k entries: n contiguous units each. */
static void similarity_units(double *S, size_t n, const float *a, const float *b, size_t k) {
    for (size_t k0 = 0; k0 < k; k0 += RUN) {
        size_t m = min_size(RUN, k - k0);
        for (size_t j0 = 0; j0 < n; j0 += BLOCK_B) {
            size_t j1 = min_size(j0 + BLOCK_B, n);
            for (size_t i = 0; i < n; i += 4) {
                size_t ni = min_size(4, n - i), j = j0;
                if (ni == 4)
                    for (; j + 2 <= j1; j += 2) tile_4x2(a + i * k + k0, b + j * k + k0, k, m, S + i * n + j, n);
                for (; j < j1; j++)
                    for (size_t r = i; r < i + ni; r++) S[r * n + j] += dot_run(a + r * k + k0, b + j * k + k0, m);
            }
        }
    }
}

/* out (cols x rows) = the transpose of m (rows x cols), in cache-sized tiles. */
static void transpose(const float *m, size_t rows, size_t cols, float *out) {
    enum { T = 32 };
    for (size_t r0 = 0; r0 < rows; r0 += T)
        for (size_t c0 = 0; c0 < cols; c0 += T) {
            size_t r1 = min_size(r0 + T, rows), c1 = min_size(c0 + T, cols);
            for (size_t r = r0; r < r1; r++)
                for (size_t c = c0; c < c1; c++) out[c * rows + r] = m[r * cols + c];
        }
}

int rebasin_add_similarity(double *S, size_t n, const float *a, const float *b, size_t rows, size_t cols,
                           RebasinAxis axis) {
    if (n == 0 || rows == 0 || cols == 0) return 0;
    size_t k = rows * cols / n;
    if (axis == REBASIN_ROWS) {
        similarity_units(S, n, a, b, k);
        return 0;
    }
    /* Column units become contiguous rows of the transposes. */
    float *ta = malloc(rows * cols * sizeof *ta), *tb = malloc(rows * cols * sizeof *tb);
    if (!ta || !tb) {
        free(ta);
        free(tb);
        return -1;
    }
    transpose(a, rows, cols, ta);
    transpose(b, rows, cols, tb);
    similarity_units(S, n, ta, tb, k);
    free(ta);
    free(tb);
    return 0;
}

int rebasin_match(const double *S, size_t n, int32_t *perm) {
    if (n == 0) return 0;
    int32_t *col = malloc(n * sizeof *col);
    if (!col) return -1;
    /* Row i of S is unit i of A; it goes to the position of its column. */
    int rc = lap_solve(n, S, LAP_MAXIMIZE, col, NULL);
    if (rc == 0)
        for (size_t i = 0; i < n; i++) perm[col[i]] = (int32_t)i;
    free(col);
    return rc;
}

void rebasin_permute(const float *in, float *out, size_t n, size_t rows, size_t cols, RebasinAxis axis,
                     const int32_t *perm) {
    if (n == 0) return;
    if (axis == REBASIN_ROWS) {
        size_t unit = rows / n * cols;
        for (size_t j = 0; j < n; j++) memcpy(out + j * unit, in + (size_t)perm[j] * unit, unit * sizeof *in);
        return;
    }
    size_t unit = cols / n;
    for (size_t r = 0; r < rows; r++)
        for (size_t j = 0; j < n; j++)
            memcpy(out + r * cols + j * unit, in + r * cols + (size_t)perm[j] * unit, unit * sizeof *in);
}
