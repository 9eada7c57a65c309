/* output.c - writing the saved models; see output.h.
 *
 * All saves of a recipe are written in one pass. Every output tensor is a
 * "slot" (save, position); slots with the same tensor context (name, block
 * count, shape, dtype) form a group, computed by one Exec whose memo table
 * all of them share, so a step used by several outputs is computed once per
 * tensor. A big tensor whose graph works entry by entry (linear, task
 * arithmetic, arithmetic, conditions on the name, slices) is split into row
 * ranges (ranges.h decides), so memory stays bounded whatever the tensor
 * size and one tensor can keep every thread busy. Worker threads take items in natural tensor
 * order, each with an arena it resets between items; every item is written
 * at its fixed offset, so the bytes do not depend on -j. */
#include "interp/output/output.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runtime/io/hash.h"
#include "runtime/io/hashcache.h"
#include "runtime/io/hfconfig.h"
#include "runtime/io/provenance.h"
#include "runtime/io/hfnames.h"
#include "interp/builtins/builtins.h"
#include "interp/exec/exec.h"
#include "interp/exec/exec_stats.h"
#include "interp/output/model_card.h"
#include "interp/output/ranges.h"

typedef struct SaveOut {
    const SaveRequest *req;
    const TensorSet *set;
    size_t *order;             /* write position -> index into set */
    StwSpec *specs;            /* by write position */
    StWriter *writer;
    uint64_t bytes;
    RangesGraph graph;         /* how its graph can be cut into row ranges */
    size_t tensor_nodes;       /* graph nodes that may hold a tensor, for memory estimates */
} SaveOut;

typedef struct Slot {
    size_t save, pos;
    const TensorInfo *info;
} Slot;

/* The first failure, kept by the workers and reported by the main thread
 * (diagnostics are not thread-safe). */
typedef struct Failure {
    bool set;
    size_t item;               /* to report the earliest */
    SrcSpan at;
    char msg[1200];
} Failure;

/* One slot's bytes of a computed item, waiting for the writer thread. */
typedef struct Pending {
    size_t save, pos;
    uint64_t offset;           /* byte offset within the tensor (row ranges) */
    bool part;                 /* a row range: written with stw_write_part */
    void *buf;
    size_t len, cap;
} Pending;

typedef struct ItemOut {
    size_t n;
    uint64_t bytes;
    Pending *p;
} ItemOut;

/* Free write buffers kept for reuse, so steady state allocates nothing. */
#define POOL_MAX 16
#define POOL_BYTES ((size_t)64 << 20)

/* A unit of work: rows [row_begin, row_end) of a group's tensor (0, 0: all). */
typedef struct StreamGroup StreamGroup;

typedef struct Item {
    size_t group;
    int64_t row_begin, row_end;
    size_t index;              /* in the static list: its output's place in the write order */
    StreamGroup *sg;           /* a streamed tensor's row range, else NULL */
    size_t part;               /* which range of the streamed tensor */
    int round;                 /* statistics round, or -1: compute and write */
    uint64_t mem;              /* estimated bytes while it is computed */
} Item;

/* A tensor computed in row ranges after statistics passes: every range is
 * scanned in round 0, 1, ... (the last range in closes the round), then
 * computed and written. */
struct StreamGroup {
    ExecStats *stats;
    size_t first;              /* index of its first range in the static list */
    size_t n_parts;
    size_t pending;            /* ranges of the current stage not finished */
    int round;                 /* current statistics round, -1 once computing */
};

typedef struct Job {
    Plan *plan;
    SaveOut *saves;
    Slot *slots;               /* sorted into groups */
    size_t *group_start;       /* n_groups + 1 offsets into slots */
    size_t n_groups;
    Item *items;
    size_t n_items;
    size_t next;               /* next static item to claim */
    StreamGroup *groups;       /* streamed tensors */
    ExecHints *hints;          /* shared by the streamed tensors */
    size_t n_stream;
    Item *runnable;            /* tasks of streamed tensors ready to run, a stack */
    size_t n_runnable, cap_runnable;
    size_t in_flight;          /* tasks claimed, not finished */
    pthread_cond_t work;       /* ready tasks arrived, or in_flight reached 0 */
    uint64_t mem_budget, mem_in_use;  /* estimated bytes of the items being computed */
    pthread_cond_t mem_freed;
    int stop;                  /* set after a failure (atomic) */
    long evaluated;            /* graph nodes computed, all tensors (atomic) */
    size_t items_done;         /* atomic, for the progress line */
    uint64_t bytes_done;       /* bytes written (atomic) */
    uint64_t bytes_total;
    int finished;              /* the workers are done (atomic) */
    const volatile sig_atomic_t *cancel;
    pthread_mutex_t lock;      /* guards fail and everything below */
    Failure fail;
    /* Items are written by one thread, in item order (which is file order
     * within each save): no two threads contend for a file, and each
     * shard's hash is computed as it is written. */
    ItemOut **done;            /* by item: computed, not yet written */
    size_t next_write;
    uint64_t queued;           /* bytes in done[] */
    bool workers_done;
    pthread_cond_t ready;      /* done[next_write] arrived, or work ended */
    struct { void *p; size_t cap; } pool[POOL_MAX];
    size_t n_pool, pool_bytes;
} Job;

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

static void record_failure(Job *job, size_t item, SrcSpan at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void record_failure(Job *job, size_t item, SrcSpan at, const char *fmt, ...) {
    pthread_mutex_lock(&job->lock);
    if (!job->fail.set || item < job->fail.item) {
        job->fail.set = true;
        job->fail.item = item;
        job->fail.at = at;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(job->fail.msg, sizeof job->fail.msg, fmt, ap);
        va_end(ap);
    }
    __atomic_store_n(&job->stop, 1, __ATOMIC_RELAXED);
    pthread_cond_broadcast(&job->ready);
    pthread_cond_broadcast(&job->work);
    pthread_cond_broadcast(&job->mem_freed);
    pthread_mutex_unlock(&job->lock);
}

/* A buffer of at least len bytes: the smallest pooled one that fits, else
 * a new one. */
static void *buf_get(Job *job, size_t len, size_t *cap) {
    pthread_mutex_lock(&job->lock);
    size_t best = job->n_pool;
    for (size_t i = 0; i < job->n_pool; i++)
        if (job->pool[i].cap >= len && (best == job->n_pool || job->pool[i].cap < job->pool[best].cap)) best = i;
    void *p = NULL;
    if (best < job->n_pool) {
        p = job->pool[best].p;
        *cap = job->pool[best].cap;
        job->pool_bytes -= *cap;
        job->pool[best] = job->pool[--job->n_pool];
    }
    pthread_mutex_unlock(&job->lock);
    if (!p) {
        p = malloc(len ? len : 1);
        *cap = len;
    }
    return p;
}

/* Returns a buffer to the pool, or frees it; job->lock held. */
static void buf_put_locked(Job *job, void *p, size_t cap) {
    if (p && job->n_pool < POOL_MAX && job->pool_bytes + cap <= POOL_BYTES) {
        job->pool[job->n_pool].p = p;
        job->pool[job->n_pool++].cap = cap;
        job->pool_bytes += cap;
    } else {
        free(p);
    }
}

static void item_out_free_locked(Job *job, ItemOut *o) {
    if (!o) return;
    for (size_t i = 0; i < o->n; i++) buf_put_locked(job, o->p[i].buf, o->p[i].cap);
    free(o->p);
    free(o);
}

/* Hands item k's bytes to the writer. It never waits: back-pressure is
 * applied before work is claimed (claim), so a worker never holds computed
 * bytes while the item the writer needs is left unclaimed. */
static void item_out_push(Job *job, size_t k, ItemOut *o) {
    pthread_mutex_lock(&job->lock);
    if (__atomic_load_n(&job->stop, __ATOMIC_RELAXED)) {
        item_out_free_locked(job, o);
    } else {
        job->done[k] = o;
        job->queued += o->bytes;
        if (k == job->next_write) pthread_cond_signal(&job->ready);
    }
    pthread_mutex_unlock(&job->lock);
}

/* The writer thread: writes items in order as they arrive. */
static void *writer(void *arg) {
    Job *job = arg;
    pthread_mutex_lock(&job->lock);
    while (job->next_write < job->n_items) {
        size_t k = job->next_write;
        while (!job->done[k] && !__atomic_load_n(&job->stop, __ATOMIC_RELAXED) && !job->workers_done)
            pthread_cond_wait(&job->ready, &job->lock);
        ItemOut *o = job->done[k];
        if (!o || __atomic_load_n(&job->stop, __ATOMIC_RELAXED)) break;
        job->done[k] = NULL;
        pthread_mutex_unlock(&job->lock);
        bool ok = true;
        for (size_t i = 0; ok && i < o->n; i++) {
            const Pending *pd = &o->p[i];
            SaveOut *so = &job->saves[pd->save];
            ErrBuf err;
            int rc = pd->part ? stw_write_part(so->writer, pd->pos, pd->offset, pd->buf, pd->len, &err)
                              : stw_write(so->writer, pd->pos, pd->buf, &err);
            if (rc != 0) {
                record_failure(job, k, so->req->span, "%s", err.msg);
                ok = false;
            }
        }
        __atomic_fetch_add(&job->bytes_done, o->bytes, __ATOMIC_RELAXED);
        pthread_mutex_lock(&job->lock);
        job->queued -= o->bytes;
        item_out_free_locked(job, o);
        job->next_write++;
        pthread_cond_broadcast(&job->work);
        if (!ok) break;
    }
    pthread_mutex_unlock(&job->lock);
    return NULL;
}

/* Computes one item (a tensor, or rows of it) for every save that writes it,
 * in one Exec, in the worker's arena. */
/* Waits until the item's estimated memory fits the budget (an item alone
 * always fits). */
static void mem_acquire(Job *job, const Item *it, bool *held) {
    pthread_mutex_lock(&job->lock);
    while (job->mem_in_use > 0 && job->mem_in_use + it->mem > job->mem_budget &&
           !__atomic_load_n(&job->stop, __ATOMIC_RELAXED))
        pthread_cond_wait(&job->mem_freed, &job->lock);
    job->mem_in_use += it->mem;
    pthread_mutex_unlock(&job->lock);
    *held = true;
}

/* Gives the item's memory back once computed (before its bytes wait for
 * the writer, so a worker waiting on the writer never holds memory others
 * wait for). */
static void mem_release(Job *job, const Item *it, bool *held) {
    if (!*held) return;
    pthread_mutex_lock(&job->lock);
    job->mem_in_use -= it->mem;
    pthread_cond_broadcast(&job->mem_freed);
    pthread_mutex_unlock(&job->lock);
    *held = false;
}

static void write_item(Job *job, const Item *it, Arena *arena, bool *held) {
    size_t k = it->index;
    if (__atomic_load_n(&job->stop, __ATOMIC_RELAXED)) return;
    const Slot *first = &job->slots[job->group_start[it->group]];
    const Slot *end = &job->slots[job->group_start[it->group + 1]];
    const TensorInfo *info = first->info;
    arena_reset(arena);
    Exec x;
    if (exec_init(&x, arena, job->plan->n_nodes, info, job->saves[first->save].set->n_layers) != 0) {
        record_failure(job, k, job->saves[first->save].req->span, "out of memory computing tensor '%s'",
                       info->name);
        return;
    }
    x.row_begin = it->row_begin;
    x.row_end = it->row_end;
    if (it->sg) {
        x.stats = it->sg->stats;
        x.stats_round = it->round;
        x.part = it->part;
    }
    if (it->round >= 0) {
        /* A statistics pass: streaming nodes scan this range; nothing is
         * written. Saves of this tensor without streaming nodes have
         * nothing to scan (they are computed in the last pass only). */
        for (const Slot *s = first; s < end && !x.failed; s++)
            if (job->saves[s->save].graph == RANGES_STREAMED) exec_force(&x, job->saves[s->save].req->model);
        if (x.failed)
            record_failure(job, k, x.fail_at.file ? x.fail_at : job->saves[first->save].req->span, "tensor '%s': %s",
                           info->name, x.fail_msg);
        __atomic_fetch_add(&job->evaluated, x.n_evaluated, __ATOMIC_RELAXED);
        return;
    }
    Shape want = exec_shape(&x, &info->shape);
    int64_t row_entries = info->shape.rank && info->shape.dims[0] ? shape_numel(&info->shape) / info->shape.dims[0] : 0;
    ItemOut *out = calloc(1, sizeof *out);
    if (out) out->p = calloc((size_t)(end - first), sizeof *out->p);
    if (!out || !out->p) {
        if (out) free(out);
        record_failure(job, k, job->saves[first->save].req->span, "out of memory computing tensor '%s'",
                       info->name);
        return;
    }
    for (const Slot *s = first; s < end; s++) {
        const SaveOut *so = &job->saves[s->save];
        SrcSpan at = so->req->span;
        Value v = exec_force(&x, so->req->model);
        if (x.failed) {
            record_failure(job, k, x.fail_at.file ? x.fail_at : at, "tensor '%s': %s", info->name, x.fail_msg);
            break;
        }
        if (v.kind != V_TENSOR || !shape_equal(&v.u.tensor->shape, &want)) {
            record_failure(job, k, at, "tensor '%s': the saved expression gave %s of another shape",
                           info->name, val_kind_name(v.kind));
            break;
        }
        const Tensor *t = v.u.tensor;
        DType out_dtype = so->specs[s->pos].dtype;
        size_t len = (size_t)t->numel * dtype_size(out_dtype);
        Pending *pd = &out->p[out->n];
        pd->buf = buf_get(job, len, &pd->cap);
        if (!pd->buf) {
            record_failure(job, k, at, "out of memory writing tensor '%s'", info->name);
            break;
        }
        out->n++;
        if (t->f) dtype_encode_f32(out_dtype, t->f, pd->buf, (size_t)t->numel);
        else memcpy(pd->buf, t->raw, len);
        pd->save = s->save;
        pd->pos = s->pos;
        pd->len = len;
        pd->part = it->row_end != 0;
        pd->offset = pd->part ? (uint64_t)it->row_begin * (uint64_t)row_entries * dtype_size(out_dtype) : 0;
        out->bytes += len;
    }
    mem_release(job, it, held);
    if (__atomic_load_n(&job->stop, __ATOMIC_RELAXED)) {
        pthread_mutex_lock(&job->lock);
        item_out_free_locked(job, out);
        pthread_mutex_unlock(&job->lock);
    } else {
        item_out_push(job, k, out);
    }
    __atomic_fetch_add(&job->evaluated, x.n_evaluated, __ATOMIC_RELAXED);
    __atomic_fetch_add(&job->items_done, 1, __ATOMIC_RELAXED);
}

/* Whether a task brings the writer's next item closer: it is that item,
 * or a range of the streamed tensor that holds it. */
static bool writer_needs(const Job *job, const Item *it) {
    if (it->index == job->next_write) return true;
    const StreamGroup *sg = it->sg;
    return sg && sg->first <= job->next_write && job->next_write < sg->first + sg->n_parts;
}

/* Sets stop and wakes every waiting thread; job->lock held. */
static void stop_locked(Job *job) {
    __atomic_store_n(&job->stop, 1, __ATOMIC_RELAXED);
    pthread_cond_broadcast(&job->ready);
    pthread_cond_broadcast(&job->work);
    pthread_cond_broadcast(&job->mem_freed);
}

/* Takes the next task: a ready task of a streamed tensor first, lowest
 * index first (it holds that tensor's statistics in memory), else the next
 * static item. While the writer is more than OUTPUT_QUEUE_BYTES behind, only
 * tasks it needs next are taken; otherwise it waits, as it does while tasks
 * that may make more ready are running. */
static bool claim(Job *job, Item *it) {
    pthread_mutex_lock(&job->lock);
    for (;;) {
        if (job->cancel && *job->cancel) stop_locked(job);
        if (__atomic_load_n(&job->stop, __ATOMIC_RELAXED)) break;
        const Item *cand = job->n_runnable ? &job->runnable[job->n_runnable - 1]
                           : job->next < job->n_items ? &job->items[job->next] : NULL;
        if (cand && (job->queued <= OUTPUT_QUEUE_BYTES || writer_needs(job, cand))) {
            *it = *cand;
            if (job->n_runnable) job->n_runnable--;
            else job->next++;
            job->in_flight++;
            pthread_mutex_unlock(&job->lock);
            return true;
        }
        if (!cand && !job->in_flight) break;
        pthread_cond_wait(&job->work, &job->lock);
    }
    pthread_mutex_unlock(&job->lock);
    return false;
}

static int by_index_desc(const void *a, const void *b) {
    size_t x = ((const Item *)a)->index, y = ((const Item *)b)->index;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Queues one task per range of sg for its next stage (lowest range on top,
 * so ranges are computed, and written, in order); job->lock held. */
static bool push_stage(Job *job, StreamGroup *sg) {
    if (job->n_runnable + sg->n_parts > job->cap_runnable) {
        size_t cap = job->cap_runnable * 2 + sg->n_parts;
        Item *r = realloc(job->runnable, cap * sizeof *r);
        if (!r) return false;
        job->runnable = r;
        job->cap_runnable = cap;
    }
    for (size_t q = sg->n_parts; q-- > 0;) {
        Item it = job->items[sg->first + q];
        it.round = sg->round;
        job->runnable[job->n_runnable++] = it;
    }
    /* Lowest index on top: the tensor the writer reaches first goes first. */
    qsort(job->runnable, job->n_runnable, sizeof *job->runnable, by_index_desc);
    sg->pending = sg->n_parts;
    return true;
}

/* A task is done: the last range of a statistics round closes it and
 * queues the next stage; the last range computed frees the statistics. */
static void finish_task(Job *job, const Item *it) {
    pthread_mutex_lock(&job->lock);
    StreamGroup *sg = it->sg;
    bool failed = false, oom = false;
    char msg[1024] = "";
    SrcSpan at = { 0 };
    ExecStats *drop = NULL;
    if (sg && --sg->pending == 0 && !__atomic_load_n(&job->stop, __ATOMIC_RELAXED)) {
        if (it->round >= 0) {
            int r = exec_stats_close_round(sg->stats, it->round, msg, sizeof msg, &at);
            if (r < 0) {
                failed = true;
            } else {
                sg->round = r ? -1 : it->round + 1;
                oom = !push_stage(job, sg);
            }
        } else {
            drop = sg->stats;
            sg->stats = NULL;
        }
    }
    job->in_flight--;
    pthread_cond_broadcast(&job->work);
    pthread_mutex_unlock(&job->lock);
    exec_stats_free(drop);
    if (failed) record_failure(job, it->index, at, "tensor '%s': %s", job->slots[job->group_start[it->group]].info->name, msg);
    if (oom) record_failure(job, it->index, at, "out of memory");
}

static void *worker(void *arg) {
    Job *job = arg;
    Arena arena;
    arena_init(&arena);
    Item it;
    while (claim(job, &it)) {
        bool held = false;
        mem_acquire(job, &it, &held);
        write_item(job, &it, &arena, &held);
        mem_release(job, &it, &held);
        finish_task(job, &it);
    }
    arena_free(&arena);
    return NULL;
}

/* Splits each group into items as ranges_for_shape cuts it, for the saves
 * writing it together. A streamed group becomes a StreamGroup. */
static int make_items(Job *job) {
    size_t cap = job->n_groups + 16, n = 0;
    Item *items = malloc(cap * sizeof *items);
    job->groups = calloc(job->n_groups + 1, sizeof *job->groups);
    job->hints = exec_hints_new();
    if (!items || !job->groups || !job->hints) {
        free(items);
        return -1;
    }
    for (size_t g = 0; g < job->n_groups; g++) {
        const Slot *first = &job->slots[job->group_start[g]];
        const Slot *end = &job->slots[job->group_start[g + 1]];
        RangesGraph graph = RANGES_ROWWISE;
        size_t nodes = 0;
        for (const Slot *s = first; s < end; s++) {
            graph = ranges_combine(graph, job->saves[s->save].graph);
            nodes += job->saves[s->save].tensor_nodes;
        }
        const Shape *sh = &first->info->shape;
        int64_t numel = shape_numel(sh);
        int64_t rows = sh->rank ? sh->dims[0] : 1;
        int64_t per = rows > 0 ? numel / rows : 0;
        RangesPlan how = ranges_for_shape(sh, graph, nodes);
        int64_t step = how.rows_per_part;
        StreamGroup *sg = NULL;
        if (how.how == RANGES_STREAM) {
            sg = &job->groups[job->n_stream++];
            sg->first = n;
            sg->n_parts = how.n_parts;
            sg->stats = exec_stats_new(job->plan->n_nodes, sg->n_parts, job->hints);
            sg->pending = sg->n_parts;
            if (!sg->stats) {
                free(items);
                return -1;
            }
        }
        int64_t b = 0;
        size_t part = 0;
        do {
            if (n == cap) {
                cap *= 2;
                Item *m = realloc(items, cap * sizeof *m);
                if (!m) {
                    free(items);
                    return -1;
                }
                items = m;
            }
            int64_t e = step ? (b + step < rows ? b + step : rows) : 0;
            int64_t entries = step ? (e - b) * per : numel;
            items[n] = (Item){ .group = g, .row_begin = b, .row_end = e, .index = n, .sg = sg,
                               .part = part++, .round = sg ? 0 : -1,
                               .mem = ranges_mem(nodes, entries) };
            n++;
            b = e;
        } while (step && b < rows);
    }
    job->items = items;
    job->n_items = n;
    return 0;
}

/* A quarter of physical memory (4 GB when it cannot be read). */
static uint64_t default_mem_budget(void) {
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || size <= 0) return (uint64_t)4 << 30;
    return (uint64_t)pages * (uint64_t)size / 4;
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Redraws one status line on stderr four times a second until the workers
 * finish: items and bytes done, throughput, time left. */
static void *progress(void *arg) {
    Job *job = arg;
    double start = now_seconds();
    for (bool first = true; first || !__atomic_load_n(&job->finished, __ATOMIC_ACQUIRE); first = false) {
        if (!first) {
            struct timespec pause = { 0, 250000000 };
            nanosleep(&pause, NULL);
        }
        double t = now_seconds() - start;
        uint64_t done = __atomic_load_n(&job->bytes_done, __ATOMIC_RELAXED);
        size_t items = __atomic_load_n(&job->items_done, __ATOMIC_RELAXED);
        /* No rate from the first fraction of a second: it would be noise. */
        double rate = t > 0.2 ? (double)done / t : 0;
        double left = rate > 0 ? (double)(job->bytes_total - done) / rate : 0;
        fprintf(stderr, "\r\033[K  %zu/%zu parts  %.2f/%.2f GB  %.0f MB/s  %.0fs left", items, job->n_items,
                (double)done / 1e9, (double)job->bytes_total / 1e9, rate / 1e6, left);
    }
    fputs("\r\033[K", stderr);
    return NULL;
}

/* Anonymous resident memory in bytes (RssAnon in /proc/self/status): the
 * process's own memory, without the input pages mapped from the page
 * cache, which ru_maxrss counts too. 0 when it cannot be read. */
static uint64_t rss_anon(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return 0;
    char line[256];
    unsigned long long kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "RssAnon: %llu kB", &kb) == 1) break;
    fclose(f);
    return (uint64_t)kb * 1024;
}

/* Samples rss_anon every 20 ms while the workers run, for --json. */
typedef struct Sampler {
    Job *job;
    uint64_t peak;
} Sampler;

static void *sample_rss(void *arg) {
    Sampler *sm = arg;
    while (!__atomic_load_n(&sm->job->finished, __ATOMIC_ACQUIRE)) {
        uint64_t r = rss_anon();
        if (r > sm->peak) sm->peak = r;
        struct timespec pause = { 0, 20000000 };
        nanosleep(&pause, NULL);
    }
    return NULL;
}

/* Runs the workers and the writer; the calling thread is one of the
 * workers. Returns -1 when the threads cannot start. */
static int compute_all(Job *job, int threads) {
    if (threads < 1) threads = 1;
    if ((size_t)threads > job->n_items) threads = job->n_items ? (int)job->n_items : 1;
    job->done = calloc(job->n_items + 1, sizeof *job->done);
    pthread_t *tids = calloc((size_t)threads, sizeof *tids);
    pthread_t writer_thread;
    if (!job->done || !tids || pthread_create(&writer_thread, NULL, writer, job) != 0) {
        free(tids);
        return -1;
    }
    int started = 0;
    for (int t = 1; t < threads; t++) {
        if (pthread_create(&tids[t], NULL, worker, job) != 0) break;
        started++;
    }
    worker(job);
    for (int t = 1; t <= started; t++) pthread_join(tids[t], NULL);
    pthread_mutex_lock(&job->lock);
    job->workers_done = true;
    pthread_cond_broadcast(&job->ready);
    pthread_mutex_unlock(&job->lock);
    pthread_join(writer_thread, NULL);
    free(tids);
    /* Items computed after a failure or an interrupt were never written. */
    for (size_t k = 0; k < job->n_items; k++) item_out_free_locked(job, job->done[k]);
    for (size_t i = 0; i < job->n_pool; i++) free(job->pool[i].p);
    job->n_pool = 0;
    return 0;
}

/* The dtype config.json advertises: the one asked for, else the stored dtype
 * of the first float tensor. */
static const char *config_dtype(const SaveRequest *r, const TensorSet *set) {
    if (r->has_dtype) return dtype_torch_name(r->dtype);
    for (size_t i = 0; i < set->n; i++)
        if (dtype_is_computable(set->items[i].dtype)) return dtype_torch_name(set->items[i].dtype);
    return NULL;
}

/* Fixes the layout of one save and creates its writer, with the provenance
 * metadata (meta_kv) in every shard's header. */
static int prepare(Plan *p, SaveOut *so, const SaveRequest *r, const char *const *meta) {
    so->req = r;
    so->set = r->model.u.node->set;
    size_t n = so->set->n;
    if (n == 0) {
        diag_error(p->diag, r->span, "the saved model has no tensors");
        return -1;
    }
    so->order = tset_natural_order(so->set);
    so->specs = malloc(n * sizeof *so->specs);
    if (!so->order || !so->specs) {
        diag_error(p->diag, r->span, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const TensorInfo *t = &so->set->items[so->order[i]];
        so->specs[i].name = t->name;
        so->specs[i].shape = t->shape;
        so->specs[i].dtype = r->has_dtype && dtype_is_computable(t->dtype) ? r->dtype : t->dtype;
        so->bytes += (uint64_t)shape_numel(&t->shape) * dtype_size(so->specs[i].dtype);
    }
    ErrBuf err;
    so->writer = stw_create(r->path, so->specs, n, r->shard_bytes, meta, p->overwrite, &err);
    if (!so->writer) {
        diag_error(p->diag, r->span, "%s", err.msg);
        return -1;
    }
    return 0;
}

/* Rows of the output's embedding (its vocabulary size), or -1. */
static long output_vocab(const TensorSet *set) {
    for (size_t i = 0; i < set->n; i++)
        if (hfname_is_embedding(set->items[i].name) && set->items[i].shape.rank == 2)
            return (long)set->items[i].shape.dims[0];
    return -1;
}

/* The tokenizer's files and generation settings, copied from their donor. */
static const char *const tokenizer_files[] = {
    "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model",
    "added_tokens.json", "vocab.json", "merges.txt", "vocab.txt", "chat_template.jinja",
    "chat_template.json", "generation_config.json",
};

static char *read_small_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t cap = 0;
    *len = 0;
    for (;;) {
        if (*len == cap) {
            cap = cap ? cap * 2 : 65536;
            if (cap > (512u << 20)) break;   /* no tokenizer file is that large */
            char *b = realloc(buf, cap);
            if (!b) break;
            buf = b;
        }
        size_t got = fread(buf + *len, 1, cap - *len, f);
        *len += got;
        if (got == 0) break;
    }
    fclose(f);
    return buf;
}

static int add_file(StWriter *w, const char *name, const char *data, size_t len, ErrBuf *err) {
    return data ? stw_add_file(w, name, data, len, err) : errbuf_set(err, "%s: out of memory", name);
}

/* config.json, tokenizer files, README.md, recipe.merge, provenance.json;
 * then the commit. The writer is consumed either way. */
static int finish(Plan *p, SaveOut *so, const OutputOptions *opt, const ProvFile *inputs, size_t n_inputs,
                  const char *recipe, size_t recipe_len) {
    const SaveRequest *r = so->req;
    StWriter *w = so->writer;
    so->writer = NULL;
    ErrBuf err;
    int c = 0;
    if (r->config) {
        char *json = NULL;
        size_t len = 0;
        long layers = so->set->n_layers > 0 ? so->set->n_layers : -1;
        c = hfconfig_rewrite(r->config->dir, config_dtype(r, so->set), layers, output_vocab(so->set), &json, &len,
                             &err);
        if (c == 0) {
            c = stw_add_file(w, "config.json", json, len, &err);
            free(json);
        } else if (c > 0) {
            c = 0;   /* the donor has no config.json: nothing to copy */
        }
    }
    for (size_t i = 0; c == 0 && r->tokenizer && i < sizeof tokenizer_files / sizeof *tokenizer_files; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", r->tokenizer->dir, tokenizer_files[i]);
        size_t len;
        char *data = read_small_file(path, &len);
        if (!data) continue;   /* a tokenizer has only some of these */
        c = stw_add_file(w, tokenizer_files[i], data, len, &err);
        free(data);
    }
    if (c == 0 && recipe) c = stw_add_file(w, "recipe.merge", recipe, recipe_len, &err);
    if (c == 0) {
        size_t len;
        char *card = card_readme(p, r, recipe, &len);
        c = add_file(w, "README.md", card, len, &err);
        free(card);
    }
    size_t shards = stw_shard_count(w);
    ProvFile *out = calloc(shards + 1, sizeof *out);
    for (size_t k = 0; c == 0 && out && k < shards; k++) {
        out[k].path = stw_shard_name(w, k);
        c = stw_shard_hash(w, k, &out[k].hash, &out[k].bytes, &err);
    }
    if (c == 0) {
        char *json = out ? prov_json(recipe ? hash64(recipe, recipe_len) : 0, inputs, n_inputs, out, shards) : NULL;
        c = add_file(w, "provenance.json", json, json ? strlen(json) : 0, &err);
        free(json);
    }
    free(out);
    if (c != 0) {
        stw_abort(w);
        diag_error(p->diag, r->span, "%s", err.msg);
        return -1;
    }
    if (stw_commit(w, &err) != 0) {
        diag_error(p->diag, r->span, "%s", err.msg);
        return -1;
    }
    if (!opt->quiet)
        fprintf(stderr, "mergelang: wrote %s (%zu tensor%s, %.1f MB, %zu shard%s)\n", r->path, so->set->n,
                so->set->n == 1 ? "" : "s", (double)so->bytes / 1e6, shards, shards == 1 ? "" : "s");
    return 0;
}

/* Every input file's size and content hash, for provenance: hashes the
 * cache remembers are taken from it; the other files are hashed on
 * `threads` threads at once, and remembered. */
typedef struct HashJob {
    ProvFile *files;
    const size_t *todo;        /* indices of the files to hash */
    size_t n, next;            /* next: atomic */
    bool *ok;
    const volatile sig_atomic_t *cancel;  /* checked between files */
} HashJob;

static void *hash_worker(void *arg) {
    HashJob *hj = arg;
    for (;;) {
        size_t k = __atomic_fetch_add(&hj->next, 1, __ATOMIC_RELAXED);
        if (k >= hj->n || (hj->cancel && *hj->cancel)) return NULL;
        size_t i = hj->todo[k];
        ErrBuf err;
        hj->ok[i] = hash64_file(hj->files[i].path, &hj->files[i].hash, &hj->files[i].bytes, &err) == 0;
    }
}

static ProvFile *hash_inputs(Plan *p, int threads, const volatile sig_atomic_t *cancel, size_t *n) {
    size_t total = 0;
    for (size_t i = 0; i < p->n_ckpts; i++) total += p->ckpts[i].ckpt->n_shards;
    ProvFile *f = calloc(total + 1, sizeof *f);
    bool *ok = calloc(total + 1, sizeof *ok), *stat_ok = calloc(total + 1, sizeof *stat_ok);
    struct stat *st = calloc(total + 1, sizeof *st);
    size_t *todo = calloc(total + 1, sizeof *todo);
    *n = 0;
    if (!f || !ok || !stat_ok || !st || !todo) {
        free(ok);
        free(stat_ok);
        free(st);
        free(todo);
        return f;
    }
    char cache_path[4096];
    HashCache *cache =
        hashcache_default_path(cache_path, sizeof cache_path) ? hashcache_open(cache_path, PROV_HASH_NAME) : NULL;
    HashJob hj = { .files = f, .todo = todo, .ok = ok, .cancel = cancel };
    for (size_t i = 0, k = 0; i < p->n_ckpts; i++)
        for (size_t s = 0; s < p->ckpts[i].ckpt->n_shards; s++) f[k++].path = p->ckpts[i].ckpt->shards[s]->path;
    /* The time of the stats, not of the end of hashing: a file changed
     * within HASHCACHE_SETTLE_SECONDS before them is not remembered (its
     * times may not have moved since). */
    int64_t now = (int64_t)time(NULL);
    for (size_t i = 0; i < total; i++) {
        /* Stat before hashing: a file changed meanwhile is remembered
         * under its old times, which it no longer has. */
        stat_ok[i] = stat(f[i].path, &st[i]) == 0;
        if (stat_ok[i] && hashcache_get(cache, &st[i], &f[i].hash)) {
            f[i].bytes = (uint64_t)st[i].st_size;
            ok[i] = true;
        } else {
            todo[hj.n++] = i;
        }
    }
    pthread_t tids[64];
    int started = 0;
    for (int t = 1; t < threads && t < 64 && (size_t)t < hj.n; t++)
        if (pthread_create(&tids[started], NULL, hash_worker, &hj) == 0) started++;
    hash_worker(&hj);
    for (int t = 0; t < started; t++) pthread_join(tids[t], NULL);
    for (size_t k = 0; k < hj.n; k++) {
        size_t i = todo[k];
        if (ok[i] && stat_ok[i] && hashcache_trusts(f[i].path))
            hashcache_put(cache, f[i].path, &st[i], f[i].hash, now);
    }
    hashcache_save(cache);
    hashcache_close(cache);
    /* A file that cannot be read now fails later, with a better message. */
    for (size_t i = 0; i < total; i++)
        if (ok[i]) f[(*n)++] = f[i];
    free(ok);
    free(stat_ok);
    free(st);
    free(todo);
    return f;
}

int output_run(Plan *p, const OutputOptions *opt) {
    size_t ns = p->n_saves;
    if (ns == 0) return 0;
    SaveOut *saves = calloc(ns, sizeof *saves);
    Job job = { .plan = p, .cancel = opt->cancel };
    int rc = -1;
    size_t n_inputs = 0, recipe_len = 0;
    ProvFile *inputs = NULL;
    char *recipe = NULL;
    if (!saves) {
        diag_plain(p->diag, "out of memory");
        return -1;
    }
    /* Provenance first: the recipe and every input's content hash go into
     * the header of each shard, which the writers fix at creation. */
    inputs = hash_inputs(p, opt->threads, opt->cancel, &n_inputs);
    recipe = card_recipe(p, &recipe_len);
    char recipe_hex[17], *inputs_json = NULL;
    snprintf(recipe_hex, sizeof recipe_hex, "%016llx",
             (unsigned long long)(recipe ? hash64(recipe, recipe_len) : 0));
    size_t ij_len = 0;
    FILE *ij = open_memstream(&inputs_json, &ij_len);
    if (ij) {
        fputc('[', ij);
        for (size_t i = 0; i < n_inputs; i++) {
            fputs(i ? ", {\"path\": \"" : "{\"path\": \"", ij);
            for (const char *c = inputs[i].path; *c; c++) {
                if (*c == '"' || *c == '\\') fputc('\\', ij);
                if ((unsigned char)*c >= 0x20) fputc(*c, ij);
            }
            fprintf(ij, "\", \"hash\": \"%016llx\"}", (unsigned long long)inputs[i].hash);
        }
        fputc(']', ij);
        fclose(ij);
    }
    const char *meta[] = { "producer", "mergelang", "mergelang_recipe_hash", recipe_hex,
                           "mergelang_inputs", inputs_json ? inputs_json : "[]", NULL };
    size_t n_slots = 0;
    for (size_t s = 0; s < ns; s++) {
        if (prepare(p, &saves[s], &p->saves[s], meta) != 0) {
            free(inputs_json);
            goto done;
        }
        n_slots += saves[s].set->n;
    }
    free(inputs_json);
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
    for (size_t s = 0; s < ns; s++)
        if (ranges_of_save(p, saves[s].req->model, &saves[s].graph, &saves[s].tensor_nodes) != 0) {
            diag_plain(p->diag, "out of memory");
            goto done;
        }
    if (make_items(&job) != 0) {
        diag_plain(p->diag, "out of memory");
        goto done;
    }
    for (size_t s = 0; s < ns; s++) job.bytes_total += saves[s].bytes;
    pthread_mutex_init(&job.lock, NULL);
    pthread_cond_init(&job.ready, NULL);
    pthread_cond_init(&job.work, NULL);
    pthread_cond_init(&job.mem_freed, NULL);
    job.mem_budget = opt->mem_bytes ? opt->mem_bytes : default_mem_budget();
    pthread_t progress_thread;
    bool show = opt->progress && pthread_create(&progress_thread, NULL, progress, &job) == 0;
    double started = now_seconds();
    Sampler sampler = { .job = &job, .peak = rss_anon() };
    pthread_t sampler_thread;
    bool sampling = opt->json && pthread_create(&sampler_thread, NULL, sample_rss, &sampler) == 0;
    int started_ok = compute_all(&job, opt->threads);
    __atomic_store_n(&job.finished, 1, __ATOMIC_RELEASE);
    if (show) pthread_join(progress_thread, NULL);
    if (sampling) pthread_join(sampler_thread, NULL);
    pthread_cond_destroy(&job.ready);
    pthread_cond_destroy(&job.work);
    pthread_cond_destroy(&job.mem_freed);
    pthread_mutex_destroy(&job.lock);
    if (started_ok != 0) {
        diag_plain(p->diag, "out of memory, or cannot start threads");
        goto done;
    }
    if (opt->evaluated) *opt->evaluated = job.evaluated;
    if (job.fail.set) {
        diag_error(p->diag, job.fail.at, "%s", job.fail.msg);
        goto done;
    }
    if (opt->cancel && *opt->cancel) {
        diag_plain(p->diag, "interrupted: nothing was written");
        goto done;
    }
    rc = 0;
    for (size_t s = 0; s < ns; s++)
        if (finish(p, &saves[s], opt, inputs, n_inputs, recipe, recipe_len) != 0) rc = -1;
    if (rc == 0 && opt->json) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        size_t tensors = 0;
        fputs("{\"outputs\": [", opt->json);
        for (size_t s = 0; s < ns; s++) {
            fputs(s ? ", {\"path\": \"" : "{\"path\": \"", opt->json);
            for (const char *c = saves[s].req->path; *c; c++) {
                if (*c == '"' || *c == '\\') fputc('\\', opt->json);
                if ((unsigned char)*c >= 0x20) fputc(*c, opt->json);
            }
            fprintf(opt->json, "\", \"tensors\": %zu, \"bytes\": %llu}", saves[s].set->n,
                    (unsigned long long)saves[s].bytes);
            tensors += saves[s].set->n;
        }
        fprintf(opt->json, "], \"tensors\": %zu, \"bytes\": %llu, \"seconds\": %.3f, \"peak_rss_mb\": %.1f, "
                "\"peak_anon_mb\": %.1f}\n",
                tensors, (unsigned long long)job.bytes_total, now_seconds() - started, (double)ru.ru_maxrss / 1024,
                (double)sampler.peak / 1048576);
    }
done:
    for (size_t s = 0; s < ns; s++) {
        if (saves[s].writer) stw_abort(saves[s].writer);
        free(saves[s].order);
        free(saves[s].specs);
    }
    free(saves);
    free(inputs);
    free(recipe);
    free(job.slots);
    free(job.group_start);
    free(job.items);
    free(job.done);
    free(job.runnable);
    for (size_t g = 0; job.groups && g < job.n_stream; g++) exec_stats_free(job.groups[g].stats);
    free(job.groups);
    exec_hints_free(job.hints);
    return rc;
}
