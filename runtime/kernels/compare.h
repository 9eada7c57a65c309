/* compare.h - how far apart two tensors are: the cosine similarity and the
 * relative difference ||a - b|| / ||a||, the one metric `mergelang diff`
 * and the REPL's :diff report.
 *
 * Sums are float64 and ||a - b|| is summed directly: the expansion
 * ||a||^2 + ||b||^2 - 2a.b cancels to noise for the nearly equal tensors one
 * most often compares. Sums of several tensors (a block, a whole model)
 * add up, so one tensor, a layer and a model are compared the same way.
 *
 * Degenerate cases (docs/commands.md): two all-zero tensors have cosine 1
 * and difference 0; when only one is all-zero the cosine is undefined (NaN)
 * and the difference is 1 (a nonzero) or infinite (a zero); a NaN or
 * infinity in the data makes both NaN. */
#ifndef MERGELANG_COMPARE_H
#define MERGELANG_COMPARE_H

#include <stddef.h>

typedef struct CmpSums {
    double dot;   /* a . b */
    double aa;    /* ||a||^2 */
    double bb;    /* ||b||^2 */
    double dd;    /* ||a - b||^2 */
} CmpSums;

/* Adds n entries of a and b to s. */
void cmp_add(CmpSums *s, const float *a, const float *b, size_t n);
/* Adds the sums of another part (a tensor to its block's sums). */
void cmp_merge(CmpSums *into, const CmpSums *part);
/* The cosine similarity and relative difference of the summed entries. */
void cmp_figures(const CmpSums *s, double *cos, double *rel);

#endif
