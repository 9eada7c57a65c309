/* graph.c - lookups in a model's tensor set; see graph.h. */
#include "graph.h"

#include <string.h>

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
