/* graph.c - lookups in a model's tensor set; see graph.h. */
#include "interp/plan/graph.h"

#include <stdio.h>
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

static int module_cmp(const void *a, const void *b) {
    return strcmp(((const TensorModule *)a)->prefix, ((const TensorModule *)b)->prefix);
}

static const TensorModule *find_module(const TensorSet *s, const char *prefix, size_t len) {
    for (size_t m = 0; m < s->n_modules; m++)
        if (strlen(s->modules[m].prefix) == len && memcmp(s->modules[m].prefix, prefix, len) == 0)
            return &s->modules[m];
    return NULL;
}

int tset_index_modules(Arena *a, TensorSet *s, const TensorSet *depth_from) {
    TensorModule *mods = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < s->n; i++) {
        size_t plen;
        long l = hfname_block(s->items[i].name, &plen);
        if (l < 0) continue;
        size_t m = 0;
        while (m < n && !(strlen(mods[m].prefix) == plen && memcmp(mods[m].prefix, s->items[i].name, plen) == 0))
            m++;
        if (m == n) {
            if (n == cap) {
                /* Models have a handful of modules: growing in the arena wastes little. */
                size_t nc = cap ? cap * 2 : 4;
                TensorModule *g = arena_array(a, nc, sizeof *g);
                if (!g) return -1;
                if (n) memcpy(g, mods, n * sizeof *g);
                mods = g;
                cap = nc;
            }
            mods[n].prefix = arena_strndup(a, s->items[i].name, plen);
            if (!mods[n].prefix) return -1;
            mods[n].n_blocks = 0;
            n++;
        }
        if (l + 1 > mods[m].n_blocks) mods[m].n_blocks = l + 1;
    }
    if (n) qsort(mods, n, sizeof *mods, module_cmp);
    for (size_t m = 0; depth_from && m < n; m++) {
        const TensorModule *d = find_module(depth_from, mods[m].prefix, strlen(mods[m].prefix));
        if (d) mods[m].n_blocks = d->n_blocks;
    }
    int main_module = n == 1 ? 0 : -1;
    for (size_t m = 0; n > 1 && m < n; m++) {
        if (hfname_is_aux(mods[m].prefix, strlen(mods[m].prefix))) continue;
        if (main_module >= 0) {   /* two language-like stacks: an encoder-decoder */
            main_module = -1;
            break;
        }
        main_module = (int)m;
    }
    long deepest = 0;
    for (size_t m = 0; m < n; m++)
        if (mods[m].n_blocks > deepest) deepest = mods[m].n_blocks;
    s->modules = mods;
    s->n_modules = n;
    s->main_module = main_module;
    s->n_layers = main_module >= 0 ? mods[main_module].n_blocks : deepest;
    return 0;
}

const TensorModule *tset_module_of(const TensorSet *s, const char *name) {
    size_t plen;
    if (hfname_block(name, &plen) < 0) return NULL;
    return find_module(s, name, plen);
}

long tset_depth_of(const TensorSet *s, const char *name) {
    const TensorModule *m = tset_module_of(s, name);
    return m ? m->n_blocks : s->n_layers;
}

long tset_main_block(const TensorSet *s, const char *name) {
    if (s->main_module < 0) return -1;
    size_t plen;
    long l = hfname_block(name, &plen);
    const char *prefix = s->modules[s->main_module].prefix;
    return l >= 0 && strlen(prefix) == plen && memcmp(prefix, name, plen) == 0 ? l : -1;
}

void tset_describe_modules(const TensorSet *s, char *buf, size_t len) {
    size_t at = 0;
    if (len) buf[0] = '\0';
    for (size_t m = 0; m < s->n_modules && at < len; m++) {
        int w = snprintf(buf + at, len - at, "%s%s (%ld block%s)", m ? ", " : "", s->modules[m].prefix,
                         s->modules[m].n_blocks, s->modules[m].n_blocks == 1 ? "" : "s");
        if (w < 0) break;
        at += (size_t)w;
    }
}
