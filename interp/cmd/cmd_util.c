/* cmd_util.c - helpers shared by inspect and diff; see cmd_util.h. */
#include "interp/cmd/cmd_util.h"

#include <stdlib.h>
#include <string.h>

#include "runtime/io/hfnames.h"

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
