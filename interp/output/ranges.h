/* ranges.h - how output_run computes one output tensor: whole, in row
 * ranges, or in row ranges after statistics passes (streamed), and what
 * one part of it is estimated to hold in memory. The one place of that
 * policy: the scheduler (sched.c) cuts tensors by it, and `plan`
 * (report.c) reports it. */
#ifndef MERGELANG_OUTPUT_RANGES_H
#define MERGELANG_OUTPUT_RANGES_H

#include <stddef.h>
#include <stdint.h>

#include "interp/plan/plan.h"

/* Tensors of at least twice this many entries are cut into row ranges of
 * about this many when their graph allows it (MERGELANG_CHUNK_ENTRIES
 * overrides it, so that tests take the ranged paths with small models). */
#define RANGES_CHUNK_ENTRIES (1 << 16)

/* How a save's graph can be computed in row ranges. Streaming nodes cannot
 * nest or sit beneath a built-in that changes the tensor name (their
 * statistics would belong to another tensor): such graphs are NEVER. */
typedef enum RangesGraph {
    RANGES_ROWWISE = 1,        /* as it is: each entry from the same entries of its inputs */
    RANGES_NEVER,              /* whole tensors only */
    RANGES_STREAMED,           /* after statistics passes of its streaming built-ins */
} RangesGraph;

/* How one tensor is computed. */
typedef enum RangesHow {
    RANGES_WHOLE,              /* in one piece */
    RANGES_SPLIT,              /* in row ranges */
    RANGES_STREAM,             /* in row ranges, each scanned in statistics rounds first */
} RangesHow;

typedef struct RangesPlan {
    RangesHow how;
    int64_t rows_per_part;     /* 0 when whole */
    size_t n_parts;            /* 1 when whole */
    int64_t entries;           /* entries of the largest part: what is computed at once */
    uint64_t mem;              /* the --mem budget's estimate for that part (ranges_mem) */
} RangesPlan;

/* Classifies save model v's graph and counts its nodes (each once: a bound
 * on the tensors one part holds). Returns -1 when out of memory. */
int ranges_of_save(const Plan *p, Value v, RangesGraph *graph, size_t *tensor_nodes);
/* The graph kind of a tensor several saves write, computed once for all of
 * them: whole when one of them needs it, streamed when one streams. */
RangesGraph ranges_combine(RangesGraph a, RangesGraph b);
/* Estimated bytes while a part of `entries` entries is computed by graphs
 * of tensor_nodes nodes: a float32 copy per node, plus two. */
uint64_t ranges_mem(size_t tensor_nodes, int64_t entries);
/* How a tensor of shape sh is cut, for graphs of kind g with tensor_nodes
 * nodes in all. */
RangesPlan ranges_for_shape(const Shape *sh, RangesGraph g, size_t tensor_nodes);
/* How output_run computes the tensor of shape sh when model v (a save's)
 * alone writes it; whole when out of memory. */
RangesPlan ranges_of_tensor(const Plan *p, Value v, const Shape *sh);

#endif
