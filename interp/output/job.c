/* job.c - the shared state of one output_run; see job.h. Touches the Job
 * core (lock, stop, failure) and wakes the other parts' waiters. */
#include "interp/output/job.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void job_init(Job *job, Plan *p, FolderSave *saves, size_t n_saves, const volatile sig_atomic_t *cancel) {
    memset(job, 0, sizeof *job);
    job->plan = p;
    job->saves = saves;
    job->n_saves = n_saves;
    job->cancel = cancel;
    pthread_mutex_init(&job->lock, NULL);
    sched_init(&job->sched);
    writer_init(&job->writes);
}

void job_free(Job *job) {
    sched_free(&job->sched);
    writer_free(&job->writes);
    pthread_mutex_destroy(&job->lock);
}

void job_stop_locked(Job *job) {
    __atomic_store_n(&job->stop, 1, __ATOMIC_RELAXED);
    writer_wake_locked(&job->writes);
    sched_wake_all_locked(&job->sched);
}

bool job_stopped(const Job *job) {
    return __atomic_load_n(&job->stop, __ATOMIC_RELAXED);
}

void job_fail(Job *job, size_t item, SrcSpan at, const char *fmt, ...) {
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
    job_stop_locked(job);
    pthread_mutex_unlock(&job->lock);
}
