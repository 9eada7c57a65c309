/* builtin_api.h - what a built-in is, as the plan and exec stages see it:
 * its parameters, its plan half (run once at plan time: type checks, the
 * signature of the result, a graph node) and its exec half (run per tensor
 * on the node's arguments forced to plain values), and the table the plan
 * stage looks names up in.
 *
 * The stages only call built-ins through these pointers; the table itself
 * is interp/builtins/builtins.c's, handed to plan_init by whoever starts a
 * plan (a command, the REPL, a test). That is the one place where a lower
 * stage reaches a higher one, and it is data, not an include, so the
 * folders' include graph stays a DAG: syntax <- plan <- exec <- builtins <-
 * output <- repl, mergekit, cmd <- main.
 *
 * Each built-in has a parameter list (positional order; the first
 * n_required must be given; every parameter may be passed by keyword; a
 * first parameter spelt "*name" collects all positional arguments into a
 * list, for variadic built-ins such as stack). */
#ifndef MERGELANG_BUILTIN_API_H
#define MERGELANG_BUILTIN_API_H

#include <stdbool.h>
#include <stddef.h>

#include "interp/syntax/diag.h"
#include "interp/plan/graph.h"
#include "interp/plan/value.h"

typedef struct Plan Plan;   /* interp/plan/plan.h */
typedef struct Exec Exec;   /* interp/exec/exec.h */

#define BUILTIN_MAX_PARAMS 16

typedef Value (*BuiltinPlanFn)(Plan *p, const Builtin *bi, Value *args,
                               const SrcSpan *arg_spans, SrcSpan call);
typedef Value (*BuiltinExecFn)(Exec *x, const Node *n, Value *args);

/* Streaming: a built-in that needs statistics of whole input tensors (a
 * top-k cutoff, an L1 norm, a dot product) and is otherwise row-wise. A big
 * tensor is then computed in row ranges in two stages: statistics passes
 * (round 0, 1, ...: each row range is scanned and adds to the node's state,
 * then close_round combines the parts), and the result pass, where exec
 * reads the finished state with exec_stats_of. Small tensors take the
 * whole tensor as before. */
typedef struct BuiltinStream {
    /* A fresh state for a tensor computed in n_parts row ranges; args are
     * those of the first range scanned (per-tensor numbers are the same
     * for every range). NULL after exec_fail. */
    void *(*open)(Exec *x, const Node *n, Value *args, size_t n_parts);
    /* Adds row range x->part to state for this round (round -1: the state
     * is complete, nothing to add); returns a stand-in value of the node's
     * result shape (not its result), or V_ERROR. */
    Value (*scan)(Exec *x, const Node *n, Value *args, void *state, int round);
    /* After every range of the round: 1 the statistics are complete, 0
     * another round is needed, -1 failed with a message in msg. */
    int (*close_round)(void *state, int round, char *msg, size_t msg_len);
    void (*free)(void *state);
} BuiltinStream;

struct Builtin {
    const char *name;
    const char *params[BUILTIN_MAX_PARAMS + 1];  /* NULL-terminated */
    int n_required;
    BuiltinPlanFn plan;
    BuiltinExecFn exec;        /* NULL for plan-only built-ins (model, save) */
    const char *signature;     /* as shown in help and error hints */
    /* Exec receives its arguments unforced and forces them itself, for
     * built-ins that evaluate an argument for another tensor name (layers,
     * stack) or not at all. */
    bool lazy_args;
    /* Each output entry depends only on the same entry of its tensor
     * arguments (and on per-tensor numbers that need no data), so a tensor
     * may be computed in row ranges. */
    bool rowwise;
    /* Forces an argument for another tensor name (exec_in_frame): streaming
     * nodes beneath it cannot stream. */
    bool new_frame;
    const BuiltinStream *stream;  /* NULL: not streaming */
    const void *info;          /* per-built-in constants (method defaults) */
};

/* Every built-in, in the order help lists them. */
typedef struct BuiltinTable {
    const Builtin *items;
    size_t n;
} BuiltinTable;

/* The built-in called name in t, or NULL. */
const Builtin *builtin_table_find(const BuiltinTable *t, const char *name);
/* Number of parameters of bi. */
int builtin_n_params(const Builtin *bi);

#endif
