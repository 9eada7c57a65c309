/* output.c - writing the saved models; see output.h. */
#include "output.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../runtime/hfconfig.h"
#include "../runtime/hfnames.h"
#include "exec.h"

static int natural_order(const void *a, const void *b, void *set_arg) {
    const TensorSet *set = set_arg;
    const TensorInfo *x = &set->items[*(const size_t *)a];
    const TensorInfo *y = &set->items[*(const size_t *)b];
    return hfname_cmp(x->name, y->name);
}

/* The dtype config.json advertises: the one asked for, else the stored dtype
 * of the first float tensor. */
static const char *config_dtype(const SaveRequest *r, const TensorSet *set) {
    if (r->has_dtype) return dtype_torch_name(r->dtype);
    for (size_t i = 0; i < set->n; i++)
        if (dtype_is_computable(set->items[i].dtype)) return dtype_torch_name(set->items[i].dtype);
    return NULL;
}

/* Computes tensor `info` and writes it as tensor i of w. */
static int write_one(Plan *p, const SaveRequest *r, StWriter *w, size_t i, const TensorInfo *info,
                     DType out_dtype, long n_layers) {
    Arena arena;
    arena_init(&arena);
    Exec x;
    int rc = -1;
    if (exec_init(&x, &arena, p->n_nodes, info, n_layers) != 0) {
        diag_error(p->diag, r->span, "out of memory computing tensor '%s'", info->name);
        goto done;
    }
    Value v = exec_force(&x, r->model);
    if (x.failed) {
        diag_error(p->diag, x.fail_at.file ? x.fail_at : r->span, "tensor '%s': %s", info->name, x.fail_msg);
        goto done;
    }
    if (v.kind != V_TENSOR || !shape_equal(&v.u.tensor->shape, &info->shape)) {
        diag_error(p->diag, r->span, "tensor '%s': the saved expression gave %s of another shape",
                   info->name, val_kind_name(v.kind));
        goto done;
    }
    const Tensor *t = v.u.tensor;
    ErrBuf err;
    if (!t->f) {
        rc = stw_write(w, i, t->raw, &err);
    } else {
        void *buf = arena_array(&arena, (size_t)t->numel ? (size_t)t->numel : 1, dtype_size(out_dtype));
        if (!buf) {
            diag_error(p->diag, r->span, "out of memory writing tensor '%s'", info->name);
            goto done;
        }
        dtype_encode_f32(out_dtype, t->f, buf, (size_t)t->numel);
        rc = stw_write(w, i, buf, &err);
    }
    if (rc != 0) diag_error(p->diag, r->span, "%s", err.msg);
done:
    arena_free(&arena);
    return rc;
}

static int run_save(Plan *p, const SaveRequest *r, const OutputOptions *opt) {
    const TensorSet *set = r->model.u.node->set;
    size_t n = set->n;
    if (n == 0) {
        diag_error(p->diag, r->span, "the saved model has no tensors");
        return -1;
    }
    size_t *order = malloc(n * sizeof *order);
    StwSpec *specs = malloc(n * sizeof *specs);
    int rc = -1;
    StWriter *w = NULL;
    if (!order || !specs) {
        diag_error(p->diag, r->span, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) order[i] = i;
    qsort_r(order, n, sizeof *order, natural_order, (void *)set);
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        const TensorInfo *t = &set->items[order[i]];
        specs[i].name = t->name;
        specs[i].shape = t->shape;
        specs[i].dtype = r->has_dtype && dtype_is_computable(t->dtype) ? r->dtype : t->dtype;
        total += (uint64_t)shape_numel(&t->shape) * dtype_size(specs[i].dtype);
    }
    static const char *const meta[] = { "producer", "mergelang", NULL };
    ErrBuf err;
    w = stw_create(r->path, specs, n, r->shard_bytes, meta, p->overwrite, &err);
    if (!w) {
        diag_error(p->diag, r->span, "%s", err.msg);
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        if (write_one(p, r, w, i, &set->items[order[i]], specs[i].dtype, set->n_layers) != 0) goto done;
    if (r->config) {
        char *json = NULL;
        size_t len = 0;
        int c = hfconfig_rewrite(r->config->dir, config_dtype(r, set), -1, &json, &len, &err);
        if (c < 0) {
            diag_error(p->diag, r->span, "%s", err.msg);
            goto done;
        }
        if (c == 0) {
            int a = stw_add_file(w, "config.json", json, len, &err);
            free(json);
            if (a != 0) {
                diag_error(p->diag, r->span, "%s", err.msg);
                goto done;
            }
        }
    }
    size_t shards = stw_shard_count(w);
    if (stw_commit(w, &err) != 0) {
        w = NULL;
        diag_error(p->diag, r->span, "%s", err.msg);
        goto done;
    }
    w = NULL;
    if (!opt->quiet)
        fprintf(stderr, "mergelang: wrote %s (%zu tensors, %.1f MB, %zu shard%s)\n", r->path, n,
                (double)total / 1e6, shards, shards == 1 ? "" : "s");
    rc = 0;
done:
    if (w) stw_abort(w);
    free(order);
    free(specs);
    return rc;
}

int output_run(Plan *p, const OutputOptions *opt) {
    for (size_t i = 0; i < p->n_saves; i++)
        if (run_save(p, &p->saves[i], opt) != 0) return -1;
    return 0;
}
