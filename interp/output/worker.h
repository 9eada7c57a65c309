/* worker.h - the worker threads of output_run: each claims parts from the
 * scheduler and computes them in an Exec of its own (an arena reset
 * between parts), for every save that writes the tensor, and hands the
 * encoded bytes to the writer thread. */
#ifndef MERGELANG_OUTPUT_WORKER_H
#define MERGELANG_OUTPUT_WORKER_H

typedef struct Job Job;

/* Runs `threads` workers (the calling thread is one of them) and the
 * writer until every part is written or the job stops. Returns -1 when the
 * threads cannot start (or out of memory). */
int worker_run_all(Job *job, int threads);

#endif
