/* exec.h - the exec stage: computes one output tensor by forcing the lazy
 * graph for that tensor's name.
 *
 * An Exec is the whole state of one tensor's evaluation: the tensor context
 * (name, layer, ...), a memo table so each node is computed at most once for
 * this tensor (call by need), and the arena holding every intermediate. It
 * touches no global state, so tensors may be computed in parallel, each with
 * its own Exec. Drop the arena when the tensor is written. */
#ifndef MERGELANG_EXEC_H
#define MERGELANG_EXEC_H

#include "runtime/core/arena.h"
#include "interp/plan/graph.h"
#include "interp/plan/value.h"

typedef struct ExecMemo {
    int state;                 /* 0 not started, 1 in progress, 2 done */
    Value v;
} ExecMemo;

typedef struct ExecStats ExecStats;   /* interp/exec/exec_stats.h */

typedef struct Exec {
    Arena *arena;
    const TensorInfo *out;     /* the output tensor: name, shape, dtype */
    const TensorSet *set;      /* the model `out` belongs to in this frame */
    long layer;                /* block index in its module; -1 outside the blocks */
    long n_layers;             /* depth of its module (graph.h tset_depth_of) */
    ExecMemo *memo;
    int n_nodes;
    long n_evaluated;          /* nodes computed for this tensor (call by need: each at most once) */
    bool no_data;              /* reading a checkpoint tensor fails: for `plan`, which reads none */
    bool needed_data;          /* the failure was only that (no_data) */
    /* Rows [row_begin, row_end) of dim 0 only (row_end == 0: the whole
     * tensor): set for graphs that work entry by entry, so a big tensor is
     * computed in parts, in bounded memory and on several threads. */
    int64_t row_begin, row_end;
    /* Set when the tensor's streaming built-ins (builtins.h BuiltinStream)
     * work from statistics of the whole tensor: stats_round >= 0 is a
     * statistics pass over row range `part`, -1 the result pass. */
    ExecStats *stats;
    int stats_round;
    size_t part;
    bool failed;
    SrcSpan fail_at;
    char fail_msg[1024];
} Exec;

/* Returns -1 when the memo table cannot be allocated. */
/* `out` is a tensor of `set`, which gives `layer` and `n_layers`. */
int exec_init(Exec *x, Arena *arena, int n_nodes, const TensorInfo *out, const TensorSet *set);
/* The shape of what this Exec computes: the tensor's, or its row range's. */
Shape exec_shape(const Exec *x, const Shape *full);
/* Forces lazy values (and lists of them) to plain values for this tensor. */
Value exec_force(Exec *x, Value v);
/* Forces v as if computing tensor `info` of the model `set`:
 * a new frame (own tensor context and memo table, same arena), for
 * built-ins that map an output tensor to another input tensor (layers,
 * stack). A failure in the frame becomes the parent's failure. */
Value exec_in_frame(Exec *x, Value v, const TensorInfo *info, const TensorSet *set);
/* What forcing a value without tensor data gave (exec_probe). */
typedef enum ExecProbe { EXEC_PROBE_OK, EXEC_PROBE_NEEDS_DATA, EXEC_PROBE_FAILED } ExecProbe;
/* Forces v for tensor `out` of a model with n_layers blocks without
 * reading tensor data, in an Exec and arena of its own (for `plan` and the
 * per-tensor checks). OK: *value is the result when it is a number, a
 * boolean or none, else V_ERROR (other kinds live in the freed arena).
 * FAILED: a failure other than needing data or memory, its place in *at
 * and message in msg. NEEDS_DATA otherwise. */
ExecProbe exec_probe(int n_nodes, const TensorInfo *out, const TensorSet *set, Value v, Value *value, SrcSpan *at,
                     char *msg, size_t msg_len);
/* Records the first failure; returns V_ERROR. */
Value exec_fail(Exec *x, SrcSpan at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A float32 tensor of the given shape in the tensor's arena (NULL after
 * recording a failure when out of memory). */
Tensor *exec_new_tensor(Exec *x, const Shape *shape, DType dtype, SrcSpan at);

#endif
