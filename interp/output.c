/* output.c - writing the saved models; see output.h. */
#include "output.h"

#include <pthread.h>
#include <stdarg.h>
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

/* The first failure of a save, kept by the workers and reported by the main
 * thread (diagnostics are not thread-safe). */
typedef struct Failure {
    bool set;
    size_t index;              /* tensor position, to report the earliest */
    SrcSpan at;
    char msg[1200];
} Failure;

typedef struct SaveJob {
    Plan *plan;
    const SaveRequest *req;
    StWriter *writer;
    const TensorSet *set;
    const size_t *order;       /* write position -> index into set */
    const StwSpec *specs;
    size_t n;
    size_t next;               /* next position to claim (atomic) */
    int stop;                  /* set after a failure (atomic) */
    pthread_mutex_t lock;
    Failure fail;
} SaveJob;

static void record_failure(SaveJob *job, size_t i, SrcSpan at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void record_failure(SaveJob *job, size_t i, SrcSpan at, const char *fmt, ...) {
    pthread_mutex_lock(&job->lock);
    if (!job->fail.set || i < job->fail.index) {
        job->fail.set = true;
        job->fail.index = i;
        job->fail.at = at;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(job->fail.msg, sizeof job->fail.msg, fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&job->lock);
    __atomic_store_n(&job->stop, 1, __ATOMIC_RELAXED);
}

/* Computes the tensor at write position i and writes it. Each call has its
 * own arena and Exec, so calls run concurrently. */
static void write_one(SaveJob *job, size_t i) {
    const TensorInfo *info = &job->set->items[job->order[i]];
    DType out_dtype = job->specs[i].dtype;
    SrcSpan at = job->req->span;
    Arena arena;
    arena_init(&arena);
    Exec x;
    if (exec_init(&x, &arena, job->plan->n_nodes, info, job->set->n_layers) != 0) {
        record_failure(job, i, at, "out of memory computing tensor '%s'", info->name);
        goto done;
    }
    Value v = exec_force(&x, job->req->model);
    if (x.failed) {
        record_failure(job, i, x.fail_at.file ? x.fail_at : at, "tensor '%s': %s", info->name,
                       x.fail_msg);
        goto done;
    }
    if (v.kind != V_TENSOR || !shape_equal(&v.u.tensor->shape, &info->shape)) {
        record_failure(job, i, at, "tensor '%s': the saved expression gave %s of another shape",
                       info->name, val_kind_name(v.kind));
        goto done;
    }
    const Tensor *t = v.u.tensor;
    ErrBuf err;
    int rc;
    if (!t->f) {
        rc = stw_write(job->writer, i, t->raw, &err);
    } else {
        void *buf = arena_array(&arena, (size_t)t->numel ? (size_t)t->numel : 1, dtype_size(out_dtype));
        if (!buf) {
            record_failure(job, i, at, "out of memory writing tensor '%s'", info->name);
            goto done;
        }
        dtype_encode_f32(out_dtype, t->f, buf, (size_t)t->numel);
        rc = stw_write(job->writer, i, buf, &err);
    }
    if (rc != 0) record_failure(job, i, at, "%s", err.msg);
done:
    arena_free(&arena);
}

static void *worker(void *arg) {
    SaveJob *job = arg;
    for (;;) {
        if (__atomic_load_n(&job->stop, __ATOMIC_RELAXED)) break;
        size_t i = __atomic_fetch_add(&job->next, 1, __ATOMIC_RELAXED);
        if (i >= job->n) break;
        write_one(job, i);
    }
    return NULL;
}

/* Runs the workers (the calling thread is one of them). */
static void compute_all(SaveJob *job, int threads) {
    if (threads < 1) threads = 1;
    if ((size_t)threads > job->n) threads = (int)job->n;
    pthread_t *tids = calloc((size_t)threads, sizeof *tids);
    int started = 0;
    for (int t = 1; tids && t < threads; t++) {
        if (pthread_create(&tids[t], NULL, worker, job) != 0) break;
        started++;
    }
    worker(job);
    for (int t = 1; t <= started; t++) pthread_join(tids[t], NULL);
    free(tids);
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
    SaveJob job = { .plan = p, .req = r, .writer = w, .set = set, .order = order, .specs = specs,
                    .n = n };
    pthread_mutex_init(&job.lock, NULL);
    compute_all(&job, opt->threads);
    pthread_mutex_destroy(&job.lock);
    if (job.fail.set) {
        diag_error(p->diag, job.fail.at, "%s", job.fail.msg);
        goto done;
    }
    if (r->config) {
        char *json = NULL;
        size_t len = 0;
        int c = hfconfig_rewrite(r->config->dir, config_dtype(r, set), set->n_layers > 0 ? set->n_layers : -1,
                                &json, &len, &err);
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
        fprintf(stderr, "mergelang: wrote %s (%zu tensor%s, %.1f MB, %zu shard%s)\n", r->path, n,
                n == 1 ? "" : "s", (double)total / 1e6, shards, shards == 1 ? "" : "s");
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
