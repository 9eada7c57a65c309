/* lap.h - the dense linear assignment problem: given an n x n cost matrix,
 * the permutation assigning each row one column that minimises (or
 * maximises) the summed cost. Exact, O(n^3) in the worst case: the
 * Jonker-Volgenant method (column reduction, reduction transfer, augmenting
 * row reduction, then shortest augmenting paths), used by align() to match
 * hidden units of two models (runtime/kernels/rebasin.h).
 *
 * Deterministic: no randomness and a fixed scanning order, so equal inputs
 * give equal assignments on every run and thread. Among several optimal
 * assignments (ties) the one returned is whichever that order reaches
 * first; it is not specified further. */
#ifndef MERGELANG_LAP_H
#define MERGELANG_LAP_H

#include <stddef.h>
#include <stdint.h>

typedef enum LapSense { LAP_MINIMIZE, LAP_MAXIMIZE } LapSense;

/* Largest n accepted (indices are int32_t). */
#define LAP_MAX_N ((size_t)1 << 30)

/* cost: n x n, row-major (cost[i * n + j]). On success stores in col[i] the
 * column given to row i (a permutation of 0..n-1), in *total (when not NULL)
 * the summed cost of the assignment, and returns 0. Returns -1 when out of
 * memory, -2 when a cost is NaN or infinite, -3 when n exceeds LAP_MAX_N;
 * col is unspecified then. n = 0 is the empty assignment. */
int lap_solve(size_t n, const double *cost, LapSense sense, int32_t *col, double *total);

#endif
