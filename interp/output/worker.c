/* worker.c - computing parts on worker threads; see worker.h. Touches the
 * worker's own arena and Exec, and reaches the rest of the job only
 * through the scheduler (claim, memory, task done), the writer (buffers,
 * push), the progress counters and job_fail. */
#include "interp/output/worker.h"

#include <stdlib.h>
#include <string.h>

#include "interp/exec/exec.h"
#include "interp/output/job.h"

/* Computes one part (a tensor, or rows of it) for every save that writes
 * it, in one Exec, in the worker's arena. */
static void compute_item(Job *job, const SchedItem *it, Arena *arena, bool *held) {
    size_t k = it->index;
    if (job_stopped(job)) return;
    const SchedSlot *first;
    const SchedSlot *end = sched_group(&job->sched, it->group, &first);
    const TensorInfo *info = first->info;
    const SaveRequest *req0 = job->saves[first->save].req;
    arena_reset(arena);
    Exec x;
    if (exec_init(&x, arena, job->plan->n_nodes, info, job->saves[first->save].set) != 0) {
        job_fail(job, k, req0->span, "out of memory computing tensor '%s'", info->name);
        return;
    }
    x.row_begin = it->row_begin;
    x.row_end = it->row_end;
    if (it->stream) {
        x.stats = it->stream->stats;
        x.stats_round = it->round;
        x.part = it->part;
    }
    if (it->round >= 0) {
        /* A statistics pass: streaming nodes scan this range; nothing is
         * written. Saves of this tensor without streaming nodes have
         * nothing to scan (they are computed in the last pass only). */
        for (const SchedSlot *s = first; s < end && !x.failed; s++)
            if (sched_save_streams(&job->sched, s->save)) exec_force(&x, job->saves[s->save].req->model);
        if (x.failed)
            job_fail(job, k, x.fail_at.file ? x.fail_at : req0->span, "tensor '%s': %s", info->name, x.fail_msg);
        progress_evaluated(&job->progress, x.n_evaluated);
        return;
    }
    Shape want = exec_shape(&x, &info->shape);
    int64_t row_entries = info->shape.rank && info->shape.dims[0] ? shape_numel(&info->shape) / info->shape.dims[0] : 0;
    WriteBatch *out = calloc(1, sizeof *out);
    if (out) out->p = calloc((size_t)(end - first), sizeof *out->p);
    if (!out || !out->p) {
        if (out) free(out);
        job_fail(job, k, req0->span, "out of memory computing tensor '%s'", info->name);
        return;
    }
    for (const SchedSlot *s = first; s < end; s++) {
        const FolderSave *fs = &job->saves[s->save];
        SrcSpan at = fs->req->span;
        Value v = exec_force(&x, fs->req->model);
        if (x.failed) {
            job_fail(job, k, x.fail_at.file ? x.fail_at : at, "tensor '%s': %s", info->name, x.fail_msg);
            break;
        }
        if (v.kind != V_TENSOR || !shape_equal(&v.u.tensor->shape, &want)) {
            job_fail(job, k, at, "tensor '%s': the saved expression gave %s of another shape", info->name,
                     val_kind_name(v.kind));
            break;
        }
        const Tensor *t = v.u.tensor;
        DType out_dtype = fs->specs[s->pos].dtype;
        size_t len = (size_t)t->numel * dtype_size(out_dtype);
        WritePiece *pc = &out->p[out->n];
        pc->buf = writer_buffer(job, len, &pc->cap);
        if (!pc->buf) {
            job_fail(job, k, at, "out of memory writing tensor '%s'", info->name);
            break;
        }
        out->n++;
        if (t->f && (dtype_is_fp8(out_dtype) || out_dtype == DT_F16)) {
            /* An 8-bit float's or float16's range (448, 57344, 65504) is
             * small enough for a merge to leave it; torch's cast would write
             * NaN or infinity silently. bfloat16 has float32's range: only
             * values within 0.4% of FLT_MAX could overflow, so it is not
             * scanned. */
            size_t bad = dtype_encode_f32_overflow(out_dtype, t->f, pc->buf, (size_t)t->numel);
            if (bad < (size_t)t->numel) {
                job_fail(job, k, at, "tensor '%s': value %g at element %lld does not fit in %s; save with "
                         "dtype = \"bfloat16\"", info->name, (double)t->f[bad],
                         (long long)bad + (long long)it->row_begin * (long long)row_entries,
                         dtype_torch_name(out_dtype));
                break;
            }
        } else if (t->f) {
            dtype_encode_f32(out_dtype, t->f, pc->buf, (size_t)t->numel);
        } else {
            memcpy(pc->buf, t->raw, len);
        }
        pc->save = s->save;
        pc->pos = s->pos;
        pc->len = len;
        pc->part = it->row_end != 0;
        pc->offset = pc->part ? (uint64_t)it->row_begin * (uint64_t)row_entries * dtype_size(out_dtype) : 0;
        out->bytes += len;
    }
    sched_mem_release(job, it, held);
    writer_push(job, k, out);   /* dropped there when the job stopped */
    progress_evaluated(&job->progress, x.n_evaluated);
    progress_item_done(&job->progress);
}

static void *worker_thread(void *arg) {
    Job *job = arg;
    Arena arena;
    arena_init(&arena);
    SchedItem it;
    while (sched_claim(job, &it)) {
        bool held = false;
        sched_mem_acquire(job, &it, &held);
        compute_item(job, &it, &arena, &held);
        sched_mem_release(job, &it, &held);
        sched_task_done(job, &it);
    }
    arena_free(&arena);
    return NULL;
}

int worker_run_all(Job *job, int threads) {
    size_t n_items = job->sched.n_items;
    if (threads < 1) threads = 1;
    if ((size_t)threads > n_items) threads = n_items ? (int)n_items : 1;
    pthread_t *tids = calloc((size_t)threads, sizeof *tids);
    if (!tids || writer_start(job, n_items) != 0) {
        free(tids);
        return -1;
    }
    int started = 0;
    for (int t = 1; t < threads; t++) {
        if (pthread_create(&tids[t], NULL, worker_thread, job) != 0) break;
        started++;
    }
    worker_thread(job);
    for (int t = 1; t <= started; t++) pthread_join(tids[t], NULL);
    writer_finish(job);
    free(tids);
    return 0;
}
