/* gta.h - kernels of the generalized task-arithmetic family (task_arithmetic,
 * ties, dare_ties, dare_linear, breadcrumbs, breadcrumbs_ties, della,
 * della_linear): sparsifying one task vector, electing signs and merging.
 *
 * Semantics follow mergekit (../shared/reference/mergekit.md, sections 1.6
 * and 1.7). All work on float32 arrays in place or into `out`, accumulate in
 * float64, and never allocate: callers pass scratch space. A "row" is the
 * last dimension of the tensor (a 1-D tensor is one row). */
#ifndef MERGELANG_GTA_H
#define MERGELANG_GTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Sum of |d[j]| in float64. */
double gta_l1(const float *d, size_t n);

/* How many entries a top-k trim of m entries keeps: floor(density * m) in
 * double, 0 for density <= 0 (or NaN), m at most. */
size_t gta_kept_count(double density, size_t m);

/* TIES trim: keeps the k = floor(density * m) entries of largest |d| and
 * zeroes the rest, where m = n (per_row false: over the whole tensor, as
 * mergekit) or m = row_len for each row separately (per_row true). Ties at
 * the cutoff: among equal magnitudes the lower index is kept (a stable
 * rule). density >= 1 leaves d unchanged; k == 0 zeroes everything (mergekit
 * asserts there; we document it). O(n) expected time (selection, not a full
 * sort). scratch: n floats. Returns the number of entries kept. */
size_t gta_trim_magnitude(float *d, size_t n, size_t row_len, bool per_row, double density,
                          float *scratch);

/* DARE: keeps each entry independently with probability `density` (drawn
 * from rng_uniform(stream, j) < density), zeroes the rest. density >= 1
 * leaves d unchanged; density <= 0 zeroes everything. Returns kept count. */
size_t gta_drop_random(float *d, size_t n, double density, uint64_t stream);
/* The same for entries first .. first + n - 1 of a larger tensor (a row
 * range): each entry draws with its index in the whole tensor. */
size_t gta_drop_random_from(float *d, size_t n, double density, uint64_t stream, uint64_t first);

/* Breadcrumbs: with N = n, target = floor(density*N), n_top = floor(gamma*N),
 * n_bot = N - target - n_top (if negative: n_top += n_bot, n_bot = 0), sorts
 * |d| ascending (stable: lower index first among equals) and keeps ranks
 * [n_bot, N - n_top): drops the smallest n_bot and the largest n_top.
 * Reproduces mergekit's quirk: when n_top == 0 nothing is kept (its slice
 * [n_bot:-0] is empty). density >= 1 leaves d unchanged. scratch: n
 * floats + n uint32 (pass both). Returns kept count. */
size_t gta_trim_outliers(float *d, size_t n, double density, double gamma, float *scratch_f,
                         uint32_t *scratch_idx);
/* The ranks [*start, *end) breadcrumbs keeps of n entries (empty: *start
 * == *end; everything: 0 and n), for a trim done in parts. */
void gta_outlier_range(size_t n, double density, double gamma, size_t *start, size_t *end);

/* DELLA magnitude-ranked drop: within each row (row_len entries), rank
 * entries 1..row_len by |d| ascending (ties: lower index gets the lower
 * rank), rank_norm = (r - 1)/(row_len - 1) (0 when row_len == 1), keep
 * probability p = (density - epsilon) + 2*epsilon*rank_norm, kept when
 * rng_uniform(stream, j) < p. density >= 1 leaves d unchanged; density <= 0
 * zeroes everything. Requires 0 < density - epsilon and density + epsilon < 1
 * otherwise (the caller checks; returns (size_t)-1 if violated). scratch:
 * row_len uint32. Returns kept count. */
size_t gta_drop_della(float *d, size_t n, size_t row_len, double density, double epsilon,
                      uint64_t stream, uint32_t *scratch_idx);
/* The same for whole rows starting at entry `first` of a larger tensor. */
size_t gta_drop_della_from(float *d, size_t n, size_t row_len, double density, double epsilon,
                           uint64_t stream, uint64_t first, uint32_t *scratch_idx);

/* L1 rescale after sparsifying: when orig_l1 >= 1e-7 and l1(d) >= 1e-7,
 * multiplies d by orig_l1 / l1(d) (mergekit's tensor-level rescale, not the
 * DARE paper's per-element 1/p). */
void gta_rescale_l1(float *d, size_t n, double orig_l1);
/* The same with the sparsified L1 norm given (summed over a whole tensor
 * seen in parts). */
void gta_rescale_by(float *d, size_t n, double orig_l1, double l1);

typedef enum GtaConsensus {
    GTA_CONSENSUS_NONE,   /* task_arithmetic, dare_linear, breadcrumbs, della_linear */
    GTA_CONSENSUS_SUM,    /* elected sign = sign of the sum of the (weighted) deltas: mergekit */
    GTA_CONSENSUS_COUNT   /* elected sign = sign of (#positive - #negative) */
} GtaConsensus;

typedef struct GtaOptions {
    GtaConsensus consensus;
    bool elect_weighted;  /* true (mergekit): elect on w_i * d_i; false (TIES paper): on d_i */
    bool divide_by_count; /* false (mergekit): divisor = sum of agreeing weights;
                             true: divisor = number of agreeing models */
    bool normalize;
    double lambda;
} GtaOptions;

/* out[j] = base[j] + lambda * mixed[j] (/ divisor[j] when normalize), with
 * WD_i = (float)(w[i] * d_i[j]) and, under consensus, only the deltas whose
 * sign equals the elected sign (>= 0 elects +; a zero delta never matches):
 *   mixed = sum of matching WD_i; divisor = sum of matching w_i (or their
 *   count with divide_by_count), 1 where nothing matches.
 * Without consensus: mixed = sum of all WD_i; divisor = sum w_i, replaced
 * by 1 when |sum w_i| < 1e-8. out may alias base. */
void gta_merge(const float *base, const float *const *deltas, const double *w, size_t n_models,
               size_t n, const GtaOptions *opt, float *out);

#endif
