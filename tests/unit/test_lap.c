/* test_lap.c - the assignment solver (runtime/kernels/lap.c) against brute force on
 * every size up to 7 (random integer costs, so ties abound, and random real
 * costs), against a plain Hungarian method written here for sizes where
 * brute force is out of reach, and on the edge cases: n = 0 and 1, all
 * costs equal, NaN, a planted unique optimum, determinism. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "tests/unit/check.h"
#include "runtime/kernels/lap.h"

static uint64_t rng_state = 0x1234567887654321ull;

static uint64_t next_u64(void) {
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double uniform(void) { return (double)(next_u64() >> 11) * 0x1p-53; }

/* The best total over all n! permutations (Heap-free: plain recursion). */
static double brute(size_t n, const double *c, LapSense sense, size_t row, bool *used, double acc) {
    if (row == n) return acc;
    double best = sense == LAP_MINIMIZE ? INFINITY : -INFINITY;
    for (size_t j = 0; j < n; j++) {
        if (used[j]) continue;
        used[j] = true;
        double t = brute(n, c, sense, row + 1, used, acc + c[row * n + j]);
        used[j] = false;
        if (sense == LAP_MINIMIZE ? t < best : t > best) best = t;
    }
    return best;
}

static bool is_permutation(size_t n, const int32_t *col) {
    bool seen[4096] = { false };
    for (size_t i = 0; i < n; i++) {
        if (col[i] < 0 || (size_t)col[i] >= n || seen[col[i]]) return false;
        seen[col[i]] = true;
    }
    return true;
}

static double total_of(size_t n, const double *c, const int32_t *col) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += c[i * n + (size_t)col[i]];
    return s;
}

/* The textbook O(n^3) Hungarian method with potentials (minimisation), as a
 * reference independent of lap.c's phases. */
static double hungarian(size_t n, const double *c) {
    double *u = calloc(n + 1, sizeof *u), *v = calloc(n + 1, sizeof *v), *minv = malloc((n + 1) * sizeof *minv);
    size_t *p = calloc(n + 1, sizeof *p), *way = calloc(n + 1, sizeof *way);
    bool *used = malloc(n + 1);
    for (size_t i = 1; i <= n; i++) {
        p[0] = i;
        size_t j0 = 0;
        for (size_t j = 0; j <= n; j++) {
            minv[j] = INFINITY;
            used[j] = false;
        }
        do {
            used[j0] = true;
            size_t i0 = p[j0], j1 = 0;
            double delta = INFINITY;
            for (size_t j = 1; j <= n; j++) {
                if (used[j]) continue;
                double cur = c[(i0 - 1) * n + (j - 1)] - u[i0] - v[j];
                if (cur < minv[j]) {
                    minv[j] = cur;
                    way[j] = j0;
                }
                if (minv[j] < delta) {
                    delta = minv[j];
                    j1 = j;
                }
            }
            for (size_t j = 0; j <= n; j++) {
                if (used[j]) {
                    u[p[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
        } while (p[j0] != 0);
        do {
            size_t j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
        } while (j0);
    }
    double total = 0;
    for (size_t j = 1; j <= n; j++) total += c[(p[j] - 1) * n + (j - 1)];
    free(u);
    free(v);
    free(minv);
    free(p);
    free(way);
    free(used);
    return total;
}

static void test_brute_force_small(void) {
    double c[49];
    int32_t col[7], again[7];
    bool used[7] = { false };
    int bad = 0;
    for (size_t n = 1; n <= 7; n++) {
        for (int trial = 0; trial < 300; trial++) {
            /* Integer costs from a small range: many ties, exact sums. */
            bool integer = trial % 2 == 0;
            for (size_t k = 0; k < n * n; k++)
                c[k] = integer ? (double)(next_u64() % 5) - 2 : uniform() * 10 - 5;
            for (int s = 0; s < 2; s++) {
                LapSense sense = s ? LAP_MAXIMIZE : LAP_MINIMIZE;
                double total = NAN;
                int rc = lap_solve(n, c, sense, col, &total);
                double want = brute(n, c, sense, 0, used, 0);
                bool ok = rc == 0 && is_permutation(n, col) && total == total_of(n, c, col) &&
                          (integer ? total == want : fabs(total - want) <= 1e-9);
                /* Deterministic: the same assignment again. */
                ok = ok && lap_solve(n, c, sense, again, NULL) == 0 && memcmp(col, again, n * sizeof *col) == 0;
                if (!ok && bad++ < 5) printf("  n=%zu trial %d sense %d: got %g want %g\n", n, trial, s, total, want);
            }
        }
    }
    CHECK(bad == 0);
}

static void test_against_hungarian(void) {
    static const size_t sizes[] = { 8, 13, 32, 64, 100, 257 };
    int bad = 0;
    for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
        size_t n = sizes[t];
        double *c = malloc(n * n * sizeof *c);
        int32_t *col = malloc(n * sizeof *col);
        for (int trial = 0; trial < 6; trial++) {
            for (size_t k = 0; k < n * n; k++) {
                switch (trial % 3) {
                case 0: c[k] = (double)(next_u64() % 1000); break;           /* integers */
                case 1: c[k] = (double)(next_u64() % 3); break;              /* heavy ties */
                default: c[k] = (double)((k / n) * (k % n) % 17); break;      /* structured */
                }
            }
            double total;
            if (lap_solve(n, c, LAP_MINIMIZE, col, &total) != 0 || !is_permutation(n, col) ||
                total != hungarian(n, c)) {
                if (bad++ < 5) printf("  n=%zu trial %d: %g vs %g\n", n, trial, total, hungarian(n, c));
            }
        }
        free(c);
        free(col);
    }
    CHECK(bad == 0);
}

static void test_edge_cases(void) {
    int32_t col[16];
    double total = -1;
    CHECK(lap_solve(0, NULL, LAP_MINIMIZE, col, &total) == 0 && total == 0);
    double one = 3.5;
    CHECK(lap_solve(1, &one, LAP_MAXIMIZE, col, &total) == 0 && col[0] == 0 && total == 3.5);
    /* All costs equal: every permutation is optimal; any one will do. */
    double same[16 * 16];
    for (size_t k = 0; k < 256; k++) same[k] = 1;
    CHECK(lap_solve(16, same, LAP_MINIMIZE, col, &total) == 0 && is_permutation(16, col) && total == 16);
    double withnan[4] = { 1, 2, NAN, 4 };
    CHECK(lap_solve(2, withnan, LAP_MINIMIZE, col, NULL) == -2);
    double withinf[4] = { 1, 2, 3, -INFINITY };
    CHECK(lap_solve(2, withinf, LAP_MAXIMIZE, col, NULL) == -2);
    /* Large magnitudes with small differences. */
    double big[9] = { 1e12, 1e12 + 1, 1e12 + 2, 1e12 + 2, 1e12, 1e12 + 1, 1e12 + 1, 1e12 + 2, 1e12 };
    CHECK(lap_solve(3, big, LAP_MINIMIZE, col, &total) == 0 && col[0] == 0 && col[1] == 1 && col[2] == 2);
}

/* A similarity with its maximum at a known permutation, as align sees it:
 * the planted pairs score 1, everything else less. */
static void test_planted_permutation(void) {
    size_t n = 500;
    double *c = malloc(n * n * sizeof *c);
    int32_t *pi = malloc(n * sizeof *pi), *col = malloc(n * sizeof *col);
    for (size_t i = 0; i < n; i++) pi[i] = (int32_t)i;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = next_u64() % (i + 1);
        int32_t t = pi[i];
        pi[i] = pi[j];
        pi[j] = t;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) c[i * n + j] = (int32_t)j == pi[i] ? 1.0 : uniform() * 0.9;
    CHECK(lap_solve(n, c, LAP_MAXIMIZE, col, NULL) == 0);
    CHECK(memcmp(col, pi, n * sizeof *col) == 0);
    free(c);
    free(pi);
    free(col);
}

int main(void) {
    RUN_TEST(test_brute_force_small);
    RUN_TEST(test_against_hungarian);
    RUN_TEST(test_edge_cases);
    RUN_TEST(test_planted_permutation);
    return CHECK_DONE();
}
