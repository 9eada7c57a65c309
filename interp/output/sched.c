/* sched.c - the work list of a run and who computes what when; see
 * sched.h. Touches its Sched (under job->lock once workers run) and the
 * streamed tensors' statistics; reads the writer's backlog; records
 * statistics failures in the job. */
#include "interp/output/sched.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/io/hfnames.h"
#include "interp/output/job.h"

void sched_init(Sched *s) {
    pthread_cond_init(&s->work, NULL);
    pthread_cond_init(&s->mem_freed, NULL);
}

void sched_free(Sched *s) {
    pthread_cond_destroy(&s->work);
    pthread_cond_destroy(&s->mem_freed);
    free(s->slots);
    free(s->group_start);
    free(s->save_graph);
    free(s->items);
    free(s->runnable);
    for (size_t g = 0; s->streams && g < s->n_streams; g++) exec_stats_free(s->streams[g].stats);
    free(s->streams);
    exec_hints_free(s->hints);
    memset(s, 0, sizeof *s);
}

/* Slots compare by tensor context, then save and position. */
static int slot_order(const void *a, const void *b, void *saves_arg) {
    const FolderSave *saves = saves_arg;
    const SchedSlot *x = a, *y = b;
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

static bool same_context(const FolderSave *saves, const SchedSlot *x, const SchedSlot *y) {
    return strcmp(x->info->name, y->info->name) == 0 &&
           saves[x->save].set->n_layers == saves[y->save].set->n_layers &&
           shape_equal(&x->info->shape, &y->info->shape) && x->info->dtype == y->info->dtype;
}

/* Splits each group into items as ranges_for_shape cuts it, for the saves
 * writing it together. A streamed group becomes a SchedStream. */
static int make_items(Sched *s, const Plan *p, const size_t *save_nodes) {
    size_t cap = s->n_groups + 16, n = 0;
    SchedItem *items = malloc(cap * sizeof *items);
    s->streams = calloc(s->n_groups + 1, sizeof *s->streams);
    s->hints = exec_hints_new();
    if (!items || !s->streams || !s->hints) {
        free(items);
        return -1;
    }
    for (size_t g = 0; g < s->n_groups; g++) {
        const SchedSlot *first = &s->slots[s->group_start[g]];
        const SchedSlot *end = &s->slots[s->group_start[g + 1]];
        RangesGraph graph = RANGES_ROWWISE;
        size_t nodes = 0;
        for (const SchedSlot *sl = first; sl < end; sl++) {
            graph = ranges_combine(graph, s->save_graph[sl->save]);
            nodes += save_nodes[sl->save];
        }
        const Shape *sh = &first->info->shape;
        RangesPlan how = ranges_for_shape(sh, graph, nodes);
        int64_t numel = shape_numel(sh);
        int64_t rows = sh->rank ? sh->dims[0] : 1;
        int64_t per = rows > 0 ? numel / rows : 0;
        int64_t step = how.rows_per_part;
        SchedStream *st = NULL;
        if (how.how == RANGES_STREAM) {
            st = &s->streams[s->n_streams++];
            st->first = n;
            st->n_parts = how.n_parts;
            st->stats = exec_stats_new(p->n_nodes, st->n_parts, s->hints);
            st->pending = st->n_parts;
            if (!st->stats) {
                free(items);
                return -1;
            }
        }
        int64_t b = 0;
        size_t part = 0;
        do {
            if (n == cap) {
                cap *= 2;
                SchedItem *m = realloc(items, cap * sizeof *m);
                if (!m) {
                    free(items);
                    return -1;
                }
                items = m;
            }
            int64_t e = step ? (b + step < rows ? b + step : rows) : 0;
            int64_t entries = step ? (e - b) * per : numel;
            items[n] = (SchedItem){ .group = g, .row_begin = b, .row_end = e, .index = n, .stream = st,
                                    .part = part++, .round = st ? 0 : -1, .mem = ranges_mem(nodes, entries) };
            n++;
            b = e;
        } while (step && b < rows);
    }
    s->items = items;
    s->n_items = n;
    return 0;
}

/* A quarter of physical memory (4 GB when it cannot be read). */
static uint64_t default_mem_budget(void) {
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || size <= 0) return (uint64_t)4 << 30;
    return (uint64_t)pages * (uint64_t)size / 4;
}

int sched_build(Sched *s, const Plan *p, const FolderSave *saves, size_t n_saves, uint64_t mem_bytes) {
    size_t n_slots = 0;
    for (size_t i = 0; i < n_saves; i++) n_slots += saves[i].set->n;
    s->slots = malloc(n_slots * sizeof *s->slots);
    s->group_start = malloc((n_slots + 1) * sizeof *s->group_start);
    s->save_graph = calloc(n_saves, sizeof *s->save_graph);
    size_t *save_nodes = calloc(n_saves, sizeof *save_nodes);
    if (!s->slots || !s->group_start || !s->save_graph || !save_nodes) {
        free(save_nodes);
        return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i < n_saves; i++)
        for (size_t t = 0; t < saves[i].set->n; t++)
            s->slots[k++] = (SchedSlot){ i, t, &saves[i].set->items[saves[i].order[t]] };
    qsort_r(s->slots, n_slots, sizeof *s->slots, slot_order, (void *)saves);
    for (size_t i = 0; i < n_slots; i++)
        if (i == 0 || !same_context(saves, &s->slots[i - 1], &s->slots[i])) s->group_start[s->n_groups++] = i;
    s->group_start[s->n_groups] = n_slots;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n_saves; i++)
        rc = ranges_of_save(p, saves[i].req->model, &s->save_graph[i], &save_nodes[i]);
    if (rc == 0) rc = make_items(s, p, save_nodes);
    free(save_nodes);
    s->mem_budget = mem_bytes ? mem_bytes : default_mem_budget();
    return rc;
}

const SchedSlot *sched_group(const Sched *s, size_t group, const SchedSlot **first) {
    *first = &s->slots[s->group_start[group]];
    return &s->slots[s->group_start[group + 1]];
}

bool sched_save_streams(const Sched *s, size_t save) {
    return s->save_graph[save] == RANGES_STREAMED;
}

void sched_wake_locked(Sched *s) {
    pthread_cond_broadcast(&s->work);
}

void sched_wake_all_locked(Sched *s) {
    pthread_cond_broadcast(&s->work);
    pthread_cond_broadcast(&s->mem_freed);
}

void sched_mem_acquire(Job *job, const SchedItem *it, bool *held) {
    Sched *s = &job->sched;
    pthread_mutex_lock(&job->lock);
    while (s->mem_in_use > 0 && s->mem_in_use + it->mem > s->mem_budget &&
           !job_stopped(job))
        pthread_cond_wait(&s->mem_freed, &job->lock);
    s->mem_in_use += it->mem;
    pthread_mutex_unlock(&job->lock);
    *held = true;
}

void sched_mem_release(Job *job, const SchedItem *it, bool *held) {
    if (!*held) return;
    Sched *s = &job->sched;
    pthread_mutex_lock(&job->lock);
    s->mem_in_use -= it->mem;
    pthread_cond_broadcast(&s->mem_freed);
    pthread_mutex_unlock(&job->lock);
    *held = false;
}

/* Whether a task brings the writer's next item closer: it is that item,
 * or a range of the streamed tensor that holds it; job->lock held. */
static bool needed_by_writer(const Job *job, const SchedItem *it) {
    size_t next_write = writer_next_locked(&job->writes);
    if (it->index == next_write) return true;
    const SchedStream *st = it->stream;
    return st && st->first <= next_write && next_write < st->first + st->n_parts;
}

/* Takes a ready task of a streamed tensor first, lowest index first (it
 * holds that tensor's statistics in memory), else the next static item.
 * While the writer is more than OUTPUT_QUEUE_BYTES behind, only tasks it
 * needs next are taken; otherwise it waits, as it does while tasks that
 * may make more ready are running. */
bool sched_claim(Job *job, SchedItem *it) {
    Sched *s = &job->sched;
    pthread_mutex_lock(&job->lock);
    for (;;) {
        if (job->cancel && *job->cancel) job_stop_locked(job);
        if (job_stopped(job)) break;
        const SchedItem *cand = s->n_runnable ? &s->runnable[s->n_runnable - 1]
                                : s->next < s->n_items ? &s->items[s->next] : NULL;
        if (cand && (writer_queued_locked(&job->writes) <= OUTPUT_QUEUE_BYTES || needed_by_writer(job, cand))) {
            *it = *cand;
            if (s->n_runnable) s->n_runnable--;
            else s->next++;
            s->in_flight++;
            pthread_mutex_unlock(&job->lock);
            return true;
        }
        if (!cand && !s->in_flight) break;
        pthread_cond_wait(&s->work, &job->lock);
    }
    pthread_mutex_unlock(&job->lock);
    return false;
}

static int by_index_desc(const void *a, const void *b) {
    size_t x = ((const SchedItem *)a)->index, y = ((const SchedItem *)b)->index;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Queues one task per range of st for its next stage (lowest range on top,
 * so ranges are computed, and written, in order); job->lock held. */
static bool push_stage(Sched *s, SchedStream *st) {
    if (s->n_runnable + st->n_parts > s->cap_runnable) {
        size_t cap = s->cap_runnable * 2 + st->n_parts;
        SchedItem *r = realloc(s->runnable, cap * sizeof *r);
        if (!r) return false;
        s->runnable = r;
        s->cap_runnable = cap;
    }
    for (size_t q = st->n_parts; q-- > 0;) {
        SchedItem it = s->items[st->first + q];
        it.round = st->round;
        s->runnable[s->n_runnable++] = it;
    }
    /* Lowest index on top: the tensor the writer reaches first goes first. */
    qsort(s->runnable, s->n_runnable, sizeof *s->runnable, by_index_desc);
    st->pending = st->n_parts;
    return true;
}

/* The last range of a statistics round closes it and queues the next
 * stage; the last range computed frees the statistics. */
void sched_task_done(Job *job, const SchedItem *it) {
    Sched *s = &job->sched;
    pthread_mutex_lock(&job->lock);
    SchedStream *st = it->stream;
    bool failed = false, oom = false;
    char msg[1024] = "";
    SrcSpan at = { 0 };
    ExecStats *drop = NULL;
    if (st && --st->pending == 0 && !job_stopped(job)) {
        if (it->round >= 0) {
            int r = exec_stats_close_round(st->stats, it->round, msg, sizeof msg, &at);
            if (r < 0) {
                failed = true;
            } else {
                st->round = r ? -1 : it->round + 1;
                oom = !push_stage(s, st);
            }
        } else {
            drop = st->stats;
            st->stats = NULL;
        }
    }
    s->in_flight--;
    pthread_cond_broadcast(&s->work);
    pthread_mutex_unlock(&job->lock);
    exec_stats_free(drop);
    if (failed) job_fail(job, it->index, at, "tensor '%s': %s", s->slots[s->group_start[it->group]].info->name, msg);
    if (oom) job_fail(job, it->index, at, "out of memory");
}
