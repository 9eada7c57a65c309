/* lapbench.c - times the two costs of align() on this machine, for the
 * figures in docs/methods.md: the similarity matrix of n units of k
 * weights each (rebasin_add_similarity, one of the three products an MLP
 * needs) and the assignment solver (lap_solve) on it, for two kinds of
 * instance:
 *   unrelated  the units of two independently drawn random models (no
 *              permutation is much better than another: the hard case);
 *   permuted   the second model is the first with its units shuffled and
 *              5% noise added (two fine-tunes of one model: the easy case);
 * and on uniform random costs, the textbook benchmark.
 *
 * usage: lapbench N [K]   (K = 256 by default: the solver's time does not
 * depend on K, the similarity's is linear in it) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "runtime/kernels/lap.h"
#include "runtime/kernels/rebasin.h"

static uint64_t state = 42;

static uint64_t next_u64(void) {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double uniform(void) { return (double)(next_u64() >> 11) * 0x1p-53; }

/* Roughly normal: a sum of four uniforms, centred. */
static float normalish(void) { return (float)(uniform() + uniform() + uniform() + uniform() - 2.0); }

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double time_lap(size_t n, const double *S, LapSense sense, int32_t *col) {
    double t = now();
    if (lap_solve(n, S, sense, col, NULL) != 0) {
        fprintf(stderr, "lapbench: lap_solve failed\n");
        exit(1);
    }
    return now() - t;
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: lapbench N [K]\n");
        return 2;
    }
    size_t n = strtoul(argv[1], NULL, 10), k = argc == 3 ? strtoul(argv[2], NULL, 10) : 256;
    if (n < 1 || n > 65536 || k < 1) {
        fprintf(stderr, "lapbench: N must be 1..65536 and K at least 1\n");
        return 2;
    }
    float *a = malloc(n * k * sizeof *a), *b = malloc(n * k * sizeof *b);
    double *S = malloc(n * n * sizeof *S);
    int32_t *col = malloc(n * sizeof *col), *perm = malloc(n * sizeof *perm);
    if (!a || !b || !S || !col || !perm) {
        fprintf(stderr, "lapbench: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < n * k; i++) {
        a[i] = normalish();
        b[i] = normalish();
    }

    for (size_t i = 0; i < n * n; i++) S[i] = 0;
    double t = now();
    rebasin_add_similarity(S, n, a, b, n, k, REBASIN_ROWS);
    double t_sim = now() - t;
    double t_unrelated = time_lap(n, S, LAP_MAXIMIZE, col);

    /* b = a with its rows shuffled, plus noise. */
    for (size_t i = 0; i < n; i++) perm[i] = (int32_t)i;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = next_u64() % (i + 1);
        int32_t x = perm[i];
        perm[i] = perm[j];
        perm[j] = x;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < k; j++) b[i * k + j] = a[(size_t)perm[i] * k + j] + 0.05f * normalish();
    for (size_t i = 0; i < n * n; i++) S[i] = 0;
    rebasin_add_similarity(S, n, a, b, n, k, REBASIN_ROWS);
    double t_permuted = time_lap(n, S, LAP_MAXIMIZE, col);
    size_t wrong = 0;
    for (size_t i = 0; i < n; i++) wrong += perm[col[i]] != (int32_t)i;

    for (size_t i = 0; i < n * n; i++) S[i] = uniform();
    double t_uniform = time_lap(n, S, LAP_MINIMIZE, col);

    double macs = (double)n * (double)n * (double)k;
    printf("n=%zu k=%zu\n", n, k);
    printf("similarity   %8.3f s  (%.1f GMAC/s)\n", t_sim, macs / t_sim / 1e9);
    printf("lap unrelated %7.3f s\n", t_unrelated);
    printf("lap permuted  %7.3f s  (%zu units matched wrongly)\n", t_permuted, wrong);
    printf("lap uniform   %7.3f s\n", t_uniform);
    free(a);
    free(b);
    free(S);
    free(col);
    free(perm);
    return 0;
}
