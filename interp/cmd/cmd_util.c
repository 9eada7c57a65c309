/* cmd_util.c - helpers shared by inspect and diff; see cmd_util.h. */
#include "interp/cmd/cmd_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/io/hfnames.h"

char *cmd_count_text(uint64_t n, char *buf, size_t len) {
    char digits[24], grouped[32];
    int k = snprintf(digits, sizeof digits, "%llu", (unsigned long long)n);
    size_t w = 0;
    for (int i = 0; i < k; i++) {
        if (i > 0 && (k - i) % 3 == 0) grouped[w++] = ',';
        grouped[w++] = digits[i];
    }
    grouped[w] = '\0';
    snprintf(buf, len, "%s", grouped);
    return buf;
}

char *cmd_bytes_text(uint64_t n, char *buf, size_t len) {
    static const char *const units[] = { "kB", "MB", "GB", "TB", "PB" };
    if (n < 1000) {
        snprintf(buf, len, "%llu B", (unsigned long long)n);
        return buf;
    }
    double v = (double)n / 1000.0;
    size_t u = 0;
    /* 999.95 kB would print as "1000.0 kB": move up a unit before that. */
    while (v >= 999.95 && u + 1 < sizeof units / sizeof units[0]) {
        v /= 1000.0;
        u++;
    }
    snprintf(buf, len, "%.1f %s", v, units[u]);
    return buf;
}

static int cmp_natural(const void *a, const void *b) {
    const CkptTensor *x = *(const CkptTensor *const *)a;
    const CkptTensor *y = *(const CkptTensor *const *)b;
    return hfname_cmp(x->name, y->name);
}

const CkptTensor **cmd_natural_order(const Ckpt *c) {
    const CkptTensor **order = malloc((c->n_tensors ? c->n_tensors : 1) * sizeof *order);
    if (!order) return NULL;
    for (size_t i = 0; i < c->n_tensors; i++) order[i] = &c->tensors[i];
    qsort(order, c->n_tensors, sizeof *order, cmp_natural);
    return order;
}

const char *cmd_base_name(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}
