/* rebasin.h - weight matching (Git Re-Basin: Ainsworth, Hayase & Srinivasa,
 * ICLR 2023): the permutation of one model's hidden units that best matches
 * another model's, and its application to a weight matrix.
 *
 * A "unit" is a block of a weight matrix that moves as one when hidden units
 * are permuted: a row (an MLP unit's row of gate_proj), a column (its
 * column of down_proj), or a block of rows or columns (an attention head's
 * rows of q_proj). The similarity of unit i of model A and unit j of model
 * B is the summed inner product of their blocks over every matrix coupled
 * to the hidden units; the matching maximises the summed similarity of the
 * pairs with an exact assignment solver (lap.h). Independent of the
 * interpreter: float32 matrices in, permutations out. */
#ifndef MERGELANG_REBASIN_H
#define MERGELANG_REBASIN_H

#include <stddef.h>
#include <stdint.h>

typedef enum RebasinAxis {
    REBASIN_ROWS,              /* the units are n equal blocks of rows */
    REBASIN_COLS               /* the units are n equal blocks of columns */
} RebasinAxis;

/* S (n x n, row-major) += the inner products of the units of a and b, two
 * rows x cols row-major float32 matrices cut into n units along axis:
 * S[i * n + j] += <unit i of a, unit j of b> (the Frobenius product of the
 * blocks). rows (REBASIN_ROWS) or cols (REBASIN_COLS) must be a multiple of
 * n. Products are summed in float32 over runs of up to 1024 entries and
 * the runs in float64. Returns 0, or -1 when out of memory (column units
 * are transposed into scratch memory first). */
int rebasin_add_similarity(double *S, size_t n, const float *a, const float *b, size_t rows, size_t cols,
                           RebasinAxis axis);

/* The matching: perm[j] is the unit of A that takes position j, the
 * permutation maximising sum_j S[perm[j] * n + j]. Returns 0, or lap_solve's
 * error code (-1 out of memory, -2 a non-finite similarity). */
int rebasin_match(const double *S, size_t n, int32_t *perm);

/* out = in (rows x cols) with its n units along axis rearranged: unit j of
 * out is unit perm[j] of in. */
void rebasin_permute(const float *in, float *out, size_t n, size_t rows, size_t cols, RebasinAxis axis,
                     const int32_t *perm);

#endif
