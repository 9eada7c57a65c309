/* graph.c - lookups in a model's tensor set; see graph.h. */
#include "interp/plan/graph.h"

#include <stdlib.h>
#include <string.h>

#include "runtime/io/hfnames.h"

const TensorInfo *tset_find(const TensorSet *s, const char *name) {
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(s->items[mid].name, name);
        if (c == 0) return &s->items[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

static int natural_cmp(const void *a, const void *b, void *set) {
    const TensorSet *s = set;
    return hfname_cmp(s->items[*(const size_t *)a].name, s->items[*(const size_t *)b].name);
}

size_t *tset_natural_order(const TensorSet *s) {
    size_t *order = malloc((s->n ? s->n : 1) * sizeof *order);
    if (!order) return NULL;
    for (size_t i = 0; i < s->n; i++) order[i] = i;
    qsort_r(order, s->n, sizeof *order, natural_cmp, (void *)s);
    return order;
}
