/* output.h - carries out the save(...) calls a plan collected, all in one
 * pass: fixes each output's layout (names in natural order, dtypes,
 * shards), computes every tensor through the exec stage (a tensor several
 * saves share is computed once, with one memo table) and streams it to the
 * writers, then adds config.json and commits each folder atomically. */
#ifndef MERGELANG_OUTPUT_H
#define MERGELANG_OUTPUT_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "interp/plan/plan.h"

typedef struct OutputOptions {
    bool quiet;                /* no summary lines on stderr */
    int threads;               /* tensors computed at once; output bytes do not depend on it */
    long *evaluated;           /* when set: receives the number of graph nodes computed */
    /* When set and nonzero (a signal arrived), workers stop taking work and
     * every output is abandoned: temporary folders removed, nothing committed. */
    const volatile sig_atomic_t *cancel;
    bool progress;             /* a progress line on stderr (for terminals) */
    FILE *json;                /* when set: a JSON summary of what was written */
    /* Work in flight is limited to about this many bytes (0: the default,
     * a quarter of physical memory). An item's estimate is
     * (tensor-valued graph nodes + 2) x entries x 4 bytes; one item larger
     * than the budget runs alone. */
    uint64_t mem_bytes;
} OutputOptions;

/* Computed bytes the writer may lag behind by before workers wait. */
#define OUTPUT_QUEUE_BYTES ((uint64_t)64 << 20)

/* Returns 0 when every save was written; otherwise reports the failure
 * (located at the expression that failed, naming the tensor), commits no
 * output when computing failed, and returns -1. */
int output_run(Plan *p, const OutputOptions *opt);

#endif
