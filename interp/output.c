/* output.c - writing the saved models; see output.h.
 *
 * All saves of a recipe are written in one pass. Every output tensor is a
 * "slot" (save, position); slots with the same tensor context (name, block
 * count, shape, dtype) form a group, computed by one Exec whose memo table
 * all of them share, so a step used by several outputs is computed once per
 * tensor. Worker threads take groups in natural tensor order; each slot is
 * written at its fixed offset, so the bytes do not depend on -j. */
#include "output.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../runtime/hfconfig.h"
#include "../runtime/hfnames.h"
#include "exec.h"

typedef struct SaveOut {
    const SaveRequest *req;
    const TensorSet *set;
    size_t *order;             /* write position -> index into set */
    StwSpec *specs;            /* by write position */
    StWriter *writer;
    uint64_t bytes;
} SaveOut;

typedef struct Slot {
    size_t save, pos;
    const TensorInfo *info;
} Slot;

/* The first failure, kept by the workers and reported by the main thread
 * (diagnostics are not thread-safe). */
typedef struct Failure {
    bool set;
    size_t group;              /* to report the earliest */
    SrcSpan at;
    char msg[1200];
} Failure;

typedef struct Job {
    Plan *plan;
    SaveOut *saves;
    Slot *slots;               /* sorted into groups */
    size_t *group_start;       /* n_groups + 1 offsets into slots */
    size_t n_groups;
    size_t next;               /* next group to claim (atomic) */
    int stop;                  /* set after a failure (atomic) */
    long evaluated;            /* graph nodes computed, all tensors (atomic) */
    pthread_mutex_t lock;
    Failure fail;
} Job;

static int natural_order(const void *a, const void *b, void *set_arg) {
    const TensorSet *set = set_arg;
    const TensorInfo *x = &set->items[*(const size_t *)a];
    const TensorInfo *y = &set->items[*(const size_t *)b];
    return hfname_cmp(x->name, y->name);
}

/* Slots compare by tensor context, then save and position. */
static int slot_order(const void *a, const void *b, void *saves_arg) {
    const SaveOut *saves = saves_arg;
    const Slot *x = a, *y = b;
    int c = hfname_cmp(x->info->name, y->info->name);
    if (c) return c;
    long lx = saves[x->save].set->n_layers, ly = saves[y->save].set->n_layers;
    if (lx != ly) return lx < ly ? -1 : 1;
    const Shape *sx = &x->info->shape, *sy = &y->info->shape;
    if (sx->rank != sy->rank) return sx->rank < sy->rank ? -1 : 1;
    for (int d = 0; d < sx->rank; d++)
        if (sx->dims[d] != sy->dims[d]) return sx->dims[d] < sy->dims[d] ? -1 : 1;
    if (x->info->dtype != y->info->dtype) return x->info->dtype < y->info->dtype ? -1 : 1;
    if (x->save != y->save) return x->save < y->save ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static bool same_context(const SaveOut *saves, const Slot *x, const Slot *y) {
    return strcmp(x->info->name, y->info->name) == 0 &&
           saves[x->save].set->n_layers == saves[y->save].set->n_layers &&
           shape_equal(&x->info->shape, &y->info->shape) && x->info->dtype == y->info->dtype;
}

static void record_failure(Job *job, size_t group, SrcSpan at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void record_failure(Job *job, size_t group, SrcSpan at, const char *fmt, ...) {
    pthread_mutex_lock(&job->lock);
    if (!job->fail.set || group < job->fail.group) {
        job->fail.set = true;
        job->fail.group = group;
        job->fail.at = at;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(job->fail.msg, sizeof job->fail.msg, fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&job->lock);
    __atomic_store_n(&job->stop, 1, __ATOMIC_RELAXED);
}

/* Computes one group's tensor for every save that writes it, in one Exec. */
static void write_group(Job *job, size_t g) {
    const Slot *first = &job->slots[job->group_start[g]];
    const Slot *end = &job->slots[job->group_start[g + 1]];
    const TensorInfo *info = first->info;
    Arena arena;
    arena_init(&arena);
    Exec x;
    if (exec_init(&x, &arena, job->plan->n_nodes, info, job->saves[first->save].set->n_layers) != 0) {
        record_failure(job, g, job->saves[first->save].req->span, "out of memory computing tensor '%s'",
                       info->name);
        goto done;
    }
    for (const Slot *s = first; s < end; s++) {
        const SaveOut *so = &job->saves[s->save];
        SrcSpan at = so->req->span;
        Value v = exec_force(&x, so->req->model);
        if (x.failed) {
            record_failure(job, g, x.fail_at.file ? x.fail_at : at, "tensor '%s': %s", info->name, x.fail_msg);
            goto done;
        }
        if (v.kind != V_TENSOR || !shape_equal(&v.u.tensor->shape, &info->shape)) {
            record_failure(job, g, at, "tensor '%s': the saved expression gave %s of another shape",
                           info->name, val_kind_name(v.kind));
            goto done;
        }
        const Tensor *t = v.u.tensor;
        DType out_dtype = so->specs[s->pos].dtype;
        ErrBuf err;
        int rc;
        if (!t->f) {
            rc = stw_write(so->writer, s->pos, t->raw, &err);
        } else {
            void *buf = arena_array(&arena, (size_t)t->numel ? (size_t)t->numel : 1, dtype_size(out_dtype));
            if (!buf) {
                record_failure(job, g, at, "out of memory writing tensor '%s'", info->name);
                goto done;
            }
            dtype_encode_f32(out_dtype, t->f, buf, (size_t)t->numel);
            rc = stw_write(so->writer, s->pos, buf, &err);
        }
        if (rc != 0) {
            record_failure(job, g, at, "%s", err.msg);
            goto done;
        }
    }
done:
    __atomic_fetch_add(&job->evaluated, x.n_evaluated, __ATOMIC_RELAXED);
    arena_free(&arena);
}

static void *worker(void *arg) {
    Job *job = arg;
    for (;;) {
        if (__atomic_load_n(&job->stop, __ATOMIC_RELAXED)) break;
        size_t g = __atomic_fetch_add(&job->next, 1, __ATOMIC_RELAXED);
        if (g >= job->n_groups) break;
        write_group(job, g);
    }
    return NULL;
}

/* Runs the workers; the calling thread is one of them. */
static void compute_all(Job *job, int threads) {
    if (threads < 1) threads = 1;
    if ((size_t)threads > job->n_groups) threads = job->n_groups ? (int)job->n_groups : 1;
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

/* The dtype config.json advertises: the one asked for, else the stored dtype
 * of the first float tensor. */
static const char *config_dtype(const SaveRequest *r, const TensorSet *set) {
    if (r->has_dtype) return dtype_torch_name(r->dtype);
    for (size_t i = 0; i < set->n; i++)
        if (dtype_is_computable(set->items[i].dtype)) return dtype_torch_name(set->items[i].dtype);
    return NULL;
}

/* Fixes the layout of one save and creates its writer. */
static int prepare(Plan *p, SaveOut *so, const SaveRequest *r) {
    so->req = r;
    so->set = r->model.u.node->set;
    size_t n = so->set->n;
    if (n == 0) {
        diag_error(p->diag, r->span, "the saved model has no tensors");
        return -1;
    }
    so->order = malloc(n * sizeof *so->order);
    so->specs = malloc(n * sizeof *so->specs);
    if (!so->order || !so->specs) {
        diag_error(p->diag, r->span, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) so->order[i] = i;
    qsort_r(so->order, n, sizeof *so->order, natural_order, (void *)so->set);
    for (size_t i = 0; i < n; i++) {
        const TensorInfo *t = &so->set->items[so->order[i]];
        so->specs[i].name = t->name;
        so->specs[i].shape = t->shape;
        so->specs[i].dtype = r->has_dtype && dtype_is_computable(t->dtype) ? r->dtype : t->dtype;
        so->bytes += (uint64_t)shape_numel(&t->shape) * dtype_size(so->specs[i].dtype);
    }
    static const char *const meta[] = { "producer", "mergelang", NULL };
    ErrBuf err;
    so->writer = stw_create(r->path, so->specs, n, r->shard_bytes, meta, p->overwrite, &err);
    if (!so->writer) {
        diag_error(p->diag, r->span, "%s", err.msg);
        return -1;
    }
    return 0;
}

/* Adds config.json and commits; the writer is consumed either way. */
static int finish(Plan *p, SaveOut *so, const OutputOptions *opt) {
    const SaveRequest *r = so->req;
    StWriter *w = so->writer;
    so->writer = NULL;
    ErrBuf err;
    if (r->config) {
        char *json = NULL;
        size_t len = 0;
        long layers = so->set->n_layers > 0 ? so->set->n_layers : -1;
        int c = hfconfig_rewrite(r->config->dir, config_dtype(r, so->set), layers, &json, &len, &err);
        if (c == 0) {
            c = stw_add_file(w, "config.json", json, len, &err);
            free(json);
        }
        if (c < 0) {
            stw_abort(w);
            diag_error(p->diag, r->span, "%s", err.msg);
            return -1;
        }
    }
    size_t shards = stw_shard_count(w);
    if (stw_commit(w, &err) != 0) {
        diag_error(p->diag, r->span, "%s", err.msg);
        return -1;
    }
    if (!opt->quiet)
        fprintf(stderr, "mergelang: wrote %s (%zu tensor%s, %.1f MB, %zu shard%s)\n", r->path, so->set->n,
                so->set->n == 1 ? "" : "s", (double)so->bytes / 1e6, shards, shards == 1 ? "" : "s");
    return 0;
}

int output_run(Plan *p, const OutputOptions *opt) {
    size_t ns = p->n_saves;
    if (ns == 0) return 0;
    SaveOut *saves = calloc(ns, sizeof *saves);
    Job job = { .plan = p };
    int rc = -1;
    if (!saves) {
        diag_plain(p->diag, "out of memory");
        return -1;
    }
    size_t n_slots = 0;
    for (size_t s = 0; s < ns; s++) {
        if (prepare(p, &saves[s], &p->saves[s]) != 0) goto done;
        n_slots += saves[s].set->n;
    }
    job.saves = saves;
    job.slots = malloc(n_slots * sizeof *job.slots);
    job.group_start = malloc((n_slots + 1) * sizeof *job.group_start);
    if (!job.slots || !job.group_start) {
        diag_plain(p->diag, "out of memory");
        goto done;
    }
    size_t k = 0;
    for (size_t s = 0; s < ns; s++)
        for (size_t i = 0; i < saves[s].set->n; i++)
            job.slots[k++] = (Slot){ s, i, &saves[s].set->items[saves[s].order[i]] };
    qsort_r(job.slots, n_slots, sizeof *job.slots, slot_order, saves);
    for (size_t i = 0; i < n_slots; i++)
        if (i == 0 || !same_context(saves, &job.slots[i - 1], &job.slots[i]))
            job.group_start[job.n_groups++] = i;
    job.group_start[job.n_groups] = n_slots;
    pthread_mutex_init(&job.lock, NULL);
    compute_all(&job, opt->threads);
    pthread_mutex_destroy(&job.lock);
    if (opt->evaluated) *opt->evaluated = job.evaluated;
    if (job.fail.set) {
        diag_error(p->diag, job.fail.at, "%s", job.fail.msg);
        goto done;
    }
    rc = 0;
    for (size_t s = 0; s < ns; s++)
        if (finish(p, &saves[s], opt) != 0) rc = -1;
done:
    for (size_t s = 0; s < ns; s++) {
        if (saves[s].writer) stw_abort(saves[s].writer);
        free(saves[s].order);
        free(saves[s].specs);
    }
    free(saves);
    free(job.slots);
    free(job.group_start);
    return rc;
}
