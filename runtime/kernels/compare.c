/* compare.c - cosine similarity and relative difference (compare.h). */
#include "runtime/kernels/compare.h"

#include <math.h>

void cmp_add(CmpSums *s, const float *a, const float *b, size_t n) {
    double dot = s->dot, aa = s->aa, bb = s->bb, dd = s->dd;
    for (size_t j = 0; j < n; j++) {
        double x = a[j], y = b[j], z = x - y;
        dot += x * y;
        aa += x * x;
        bb += y * y;
        dd += z * z;
    }
    s->dot = dot;
    s->aa = aa;
    s->bb = bb;
    s->dd = dd;
}

void cmp_merge(CmpSums *into, const CmpSums *part) {
    into->dot += part->dot;
    into->aa += part->aa;
    into->bb += part->bb;
    into->dd += part->dd;
}

void cmp_figures(const CmpSums *s, double *cos, double *rel) {
    double dot = s->dot, aa = s->aa, bb = s->bb, dd = s->dd;
    *cos = *rel = NAN;
    if (isnan(dot) || isnan(dd) || isinf(aa) || isinf(bb) || isnan(aa) || isnan(bb)) return;
    if (aa == 0 && bb == 0) *cos = 1;
    else if (aa > 0 && bb > 0) *cos = fmax(-1.0, fmin(1.0, dot / (sqrt(aa) * sqrt(bb))));
    *rel = aa > 0 ? sqrt(dd) / sqrt(aa) : dd == 0 ? 0 : INFINITY;
}
