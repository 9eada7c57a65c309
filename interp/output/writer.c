/* writer.c - the writer thread and the write-buffer pool; see writer.h.
 * Touches its WriteQueue (under job->lock), the saves' writers (stw_write,
 * from its thread only), the progress counters, and records write failures
 * in the job. */
#include "interp/output/writer.h"

#include <stdlib.h>

#include "interp/output/job.h"

void writer_init(WriteQueue *w) {
    pthread_cond_init(&w->ready, NULL);
}

void writer_free(WriteQueue *w) {
    pthread_cond_destroy(&w->ready);
    free(w->done);
    w->done = NULL;
}

void *writer_buffer(Job *job, size_t len, size_t *cap) {
    WriteQueue *w = &job->writes;
    /* The smallest pooled buffer that fits, else a new one. */
    pthread_mutex_lock(&job->lock);
    size_t best = w->n_pool;
    for (size_t i = 0; i < w->n_pool; i++)
        if (w->pool[i].cap >= len && (best == w->n_pool || w->pool[i].cap < w->pool[best].cap)) best = i;
    void *p = NULL;
    if (best < w->n_pool) {
        p = w->pool[best].p;
        *cap = w->pool[best].cap;
        w->pool_bytes -= *cap;
        w->pool[best] = w->pool[--w->n_pool];
    }
    pthread_mutex_unlock(&job->lock);
    if (!p) {
        p = malloc(len ? len : 1);
        *cap = len;
    }
    return p;
}

/* Returns a buffer to the pool, or frees it; job->lock held. */
static void buffer_put_locked(WriteQueue *w, void *p, size_t cap) {
    if (p && w->n_pool < WRITER_POOL_MAX && w->pool_bytes + cap <= WRITER_POOL_BYTES) {
        w->pool[w->n_pool].p = p;
        w->pool[w->n_pool++].cap = cap;
        w->pool_bytes += cap;
    } else {
        free(p);
    }
}

static void batch_free_locked(WriteQueue *w, WriteBatch *b) {
    if (!b) return;
    for (size_t i = 0; i < b->n; i++) buffer_put_locked(w, b->p[i].buf, b->p[i].cap);
    free(b->p);
    free(b);
}

void writer_push(Job *job, size_t k, WriteBatch *b) {
    WriteQueue *w = &job->writes;
    pthread_mutex_lock(&job->lock);
    if (job_stopped(job)) {
        batch_free_locked(w, b);
    } else {
        w->done[k] = b;
        w->queued += b->bytes;
        if (k == w->next) pthread_cond_signal(&w->ready);
    }
    pthread_mutex_unlock(&job->lock);
}

void writer_wake_locked(WriteQueue *w) {
    pthread_cond_broadcast(&w->ready);
}

uint64_t writer_queued_locked(const WriteQueue *w) {
    return w->queued;
}

size_t writer_next_locked(const WriteQueue *w) {
    return w->next;
}

/* Writes parts in order as they arrive. */
static void *writer_thread(void *arg) {
    Job *job = arg;
    WriteQueue *w = &job->writes;
    pthread_mutex_lock(&job->lock);
    while (w->next < w->n_items) {
        size_t k = w->next;
        while (!w->done[k] && !job_stopped(job) && !w->workers_done)
            pthread_cond_wait(&w->ready, &job->lock);
        WriteBatch *b = w->done[k];
        if (!b || job_stopped(job)) break;
        w->done[k] = NULL;
        pthread_mutex_unlock(&job->lock);
        bool ok = true;
        for (size_t i = 0; ok && i < b->n; i++) {
            const WritePiece *pc = &b->p[i];
            FolderSave *fs = &job->saves[pc->save];
            ErrBuf err;
            int rc = pc->part ? stw_write_part(fs->writer, pc->pos, pc->offset, pc->buf, pc->len, &err)
                              : stw_write(fs->writer, pc->pos, pc->buf, &err);
            if (rc != 0) {
                job_fail(job, k, fs->req->span, "%s", err.msg);
                ok = false;
            }
        }
        progress_written(&job->progress, b->bytes);
        pthread_mutex_lock(&job->lock);
        w->queued -= b->bytes;
        batch_free_locked(w, b);
        w->next++;
        /* The workers wait for the queue to shrink (sched_claim). */
        sched_wake_locked(&job->sched);
        if (!ok) break;
    }
    pthread_mutex_unlock(&job->lock);
    return NULL;
}

int writer_start(Job *job, size_t n_items) {
    WriteQueue *w = &job->writes;
    w->n_items = n_items;
    w->done = calloc(n_items + 1, sizeof *w->done);
    if (!w->done || pthread_create(&w->thread, NULL, writer_thread, job) != 0) return -1;
    w->started = true;
    return 0;
}

void writer_finish(Job *job) {
    WriteQueue *w = &job->writes;
    if (!w->started) return;
    pthread_mutex_lock(&job->lock);
    w->workers_done = true;
    pthread_cond_broadcast(&w->ready);
    pthread_mutex_unlock(&job->lock);
    pthread_join(w->thread, NULL);
    w->started = false;
    /* Parts computed after a failure or an interrupt were never written. */
    for (size_t k = 0; k < w->n_items; k++) {
        batch_free_locked(w, w->done[k]);
        w->done[k] = NULL;
    }
    for (size_t i = 0; i < w->n_pool; i++) free(w->pool[i].p);
    w->n_pool = 0;
}
