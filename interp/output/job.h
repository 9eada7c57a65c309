/* job.h - what the parts of one output_run share: the plan and the output
 * folders being written, the one lock every part waits under, and the
 * first failure, which stops every part. Each part's own state is its own
 * struct (sched.h, writer.h, progress.h); Job only holds them together. */
#ifndef MERGELANG_OUTPUT_JOB_H
#define MERGELANG_OUTPUT_JOB_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>

#include "interp/output/folder.h"
#include "interp/output/output.h"
#include "interp/output/progress.h"
#include "interp/output/sched.h"
#include "interp/output/writer.h"

/* The first failure, kept by the workers and the writer and reported by
 * the main thread (diagnostics are not thread-safe). */
typedef struct JobFailure {
    bool set;
    size_t item;               /* to report the earliest */
    SrcSpan at;
    char msg[1200];
} JobFailure;

struct Job {
    Plan *plan;
    FolderSave *saves;
    size_t n_saves;
    const volatile sig_atomic_t *cancel;
    /* One lock for the shared state of every part: workers wait for the
     * writer's progress and the writer for the workers' results, on
     * conditions that must share a mutex. */
    pthread_mutex_t lock;
    int stop;                  /* set after a failure or an interrupt (atomic) */
    JobFailure fail;           /* guarded by lock */
    Sched sched;
    WriteQueue writes;
    Progress progress;
};

void job_init(Job *job, Plan *p, FolderSave *saves, size_t n_saves, const volatile sig_atomic_t *cancel);
void job_free(Job *job);
/* Records a failure of part `item` (the earliest part's is kept) and stops
 * the job. Takes job->lock. */
void job_fail(Job *job, size_t item, SrcSpan at, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Sets stop and wakes every waiting thread; job->lock held. */
void job_stop_locked(Job *job);
bool job_stopped(const Job *job);

#endif
