/* progress.h - what output_run reports about its own progress: the counts
 * of parts computed, bytes written and graph nodes evaluated, the progress
 * line on stderr, the peak of anonymous memory sampled while the workers
 * run, and the --json summary. */
#ifndef MERGELANG_OUTPUT_PROGRESS_H
#define MERGELANG_OUTPUT_PROGRESS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "interp/output/folder.h"

typedef struct Progress {
    size_t items_total;
    uint64_t bytes_total;
    size_t items_done;         /* atomic: parts computed */
    uint64_t bytes_done;       /* atomic: bytes written */
    long evaluated;            /* atomic: graph nodes computed, all tensors */
    int finished;              /* atomic: the workers are done */
    double started;            /* when the workers started (monotonic seconds) */
    uint64_t peak_anon;        /* the sampler's peak of RssAnon */
    pthread_t line_thread, sampler_thread;
    bool line, sampling;       /* which threads run */
} Progress;

/* Starts counting (bytes_total: of every output; items_total: parts to
 * compute), the progress line when line, and the memory sampler when
 * sample_memory. */
void progress_start(Progress *pr, size_t items_total, uint64_t bytes_total, bool line, bool sample_memory);
/* The workers are done: stops the line and the sampler. */
void progress_stop(Progress *pr);
/* Called by workers and the writer, from any thread. */
void progress_evaluated(Progress *pr, long nodes);
void progress_item_done(Progress *pr);
void progress_written(Progress *pr, uint64_t bytes);
/* The --json summary of the outputs written, on one line. */
void progress_json(const Progress *pr, FILE *out, const FolderSave *saves, size_t n_saves);

#endif
