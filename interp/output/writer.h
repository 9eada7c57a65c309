/* writer.h - the writer thread of output_run: computed parts arrive in any
 * order and are written in part order (which is file order within each
 * save), by one thread, so no two threads contend for a file and each
 * shard's hash is computed as it is written. Also keeps freed write buffers
 * for reuse, so steady state allocates nothing. */
#ifndef MERGELANG_OUTPUT_WRITER_H
#define MERGELANG_OUTPUT_WRITER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Job Job;

/* One save's bytes of a computed part. */
typedef struct WritePiece {
    size_t save, pos;          /* the save and its tensor's write position */
    uint64_t offset;           /* byte offset within the tensor (row ranges) */
    bool part;                 /* a row range: written with stw_write_part */
    void *buf;
    size_t len, cap;
} WritePiece;

/* Every save's bytes of one computed part. */
typedef struct WriteBatch {
    size_t n;
    uint64_t bytes;
    WritePiece *p;
} WriteBatch;

#define WRITER_POOL_MAX 16
#define WRITER_POOL_BYTES ((size_t)64 << 20)

/* Guarded by job->lock: the writer waits on the workers' results and the
 * workers on its progress. */
typedef struct WriteQueue {
    WriteBatch **done;         /* by part: computed, not yet written */
    size_t n_items;
    size_t next;               /* the next part to write */
    uint64_t queued;           /* bytes in done[] */
    bool workers_done;
    pthread_cond_t ready;      /* done[next] arrived, or work ended */
    pthread_t thread;
    bool started;
    struct { void *p; size_t cap; } pool[WRITER_POOL_MAX];
    size_t n_pool, pool_bytes;
} WriteQueue;

void writer_init(WriteQueue *w);
/* Starts the writer thread for n_items parts. Returns -1 when out of
 * memory or the thread cannot start. */
int writer_start(Job *job, size_t n_items);
/* After the workers are done: lets the writer finish, joins it, and frees
 * what it did not write (after a failure or an interrupt) and the pool. */
void writer_finish(Job *job);
void writer_free(WriteQueue *w);

/* A buffer of at least len bytes (its capacity in *cap), or NULL. */
void *writer_buffer(Job *job, size_t len, size_t *cap);
/* Hands part k's bytes to the writer, which owns them from now on (they
 * are dropped when the job has stopped). It never waits: back-pressure is
 * applied before work is claimed (sched_claim), so a worker never holds
 * computed bytes while the part the writer needs is left unclaimed. */
void writer_push(Job *job, size_t k, WriteBatch *b);
/* With job->lock held: wakes the writer (the job stopped); the computed
 * bytes waiting to be written; the part the writer waits for. */
void writer_wake_locked(WriteQueue *w);
uint64_t writer_queued_locked(const WriteQueue *w);
size_t writer_next_locked(const WriteQueue *w);

#endif
