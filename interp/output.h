/* output.h - carries out the save(...) calls a plan collected: for each one,
 * fixes the output layout (names in natural order, dtypes, shards), computes
 * every tensor through the exec stage and streams it to the writer, then
 * adds config.json and commits the folder atomically. */
#ifndef MERGELANG_OUTPUT_H
#define MERGELANG_OUTPUT_H

#include <stdbool.h>

#include "eval.h"

typedef struct OutputOptions {
    bool quiet;                /* no summary lines on stderr */
    int threads;               /* tensors computed at once; output bytes do not depend on it */
} OutputOptions;

/* Returns 0 when every save was written; otherwise reports the failure
 * (located at the expression that failed, naming the tensor), leaves no
 * output folder behind for the failed save, and returns -1. */
int output_run(Plan *p, const OutputOptions *opt);

#endif
