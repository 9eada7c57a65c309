/* builtin_api.h - what a built-in is, as the plan and exec stages see it:
 * its parameters with their defaults, its plan half (run once at plan
 * time: type checks, the signature of the result, a graph node) and its
 * exec half (run per tensor on the node's arguments forced to plain
 * values), its kind, doc line and paper, and the table the plan stage
 * looks names up in.
 *
 * The stages only call built-ins through these pointers; the table itself
 * is interp/builtins/builtins.c's, handed to plan_init by whoever starts a
 * plan (a command, the REPL, a test). That is the one place where a lower
 * stage reaches a higher one, and it is data, not an include, so the
 * folders' include graph stays a DAG: syntax <- plan <- exec <- builtins <-
 * output <- repl, mergekit, cmd <- main.
 *
 * The table is the registry: everything else that lists built-ins (help,
 * the model card's papers, completion, the mergekit importer's defaults,
 * the signatures in error hints) reads it, so a built-in is described in
 * one row. Each built-in has a parameter list (positional order; the
 * parameters without a default must be given and come first; every
 * parameter may be passed by keyword; a first parameter spelt "*name"
 * collects all positional arguments into a list, for variadic built-ins
 * such as stack). */
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

/* One parameter. The default is recipe text ("1", "1e-8", "true",
 * "\"sum\"", "none"), so that help, error hints and the mergekit importer
 * show it as written, and the exec halves read the same text as the value
 * of an argument given as none (bi_number_param and friends). */
typedef struct BuiltinParam {
    const char *name;
    const char *dflt;          /* NULL: required */
} BuiltinParam;

/* What a built-in is for: `mergelang help builtins` groups them so, and
 * `mergelang help methods` lists the methods. */
typedef enum BuiltinKind {
    BK_METHOD,        /* a merge method */
    BK_PRIMITIVE,     /* a piece of the task-arithmetic family */
    BK_STATISTIC,     /* one number per tensor */
    BK_ELEMENTWISE,   /* element by element */
    BK_TRANSFORM,     /* one model changed: an adapter, a permutation */
    BK_LAYERS,        /* depth: per-layer values, slices of blocks */
    BK_NAMES,         /* tensor names: selection, renaming, matching */
    BK_LIST,          /* list helpers */
    BK_IO,            /* reading and writing checkpoints */
    BK_CHECK,         /* assertions */
    BK_N_KINDS
} BuiltinKind;

struct Builtin {
    const char *name;
    BuiltinKind kind;
    BuiltinParam params[BUILTIN_MAX_PARAMS + 1];  /* ends at a NULL name */
    const char *doc;           /* one line, shown by help and after the signature in hints */
    /* What the model card cites for it: the paper (title, authors, venue,
     * year, arXiv id), or where the method comes from when it has none.
     * NULL for built-ins that are not techniques of their own. */
    const char *paper;
    BuiltinPlanFn plan;
    BuiltinExecFn exec;        /* NULL for plan-only built-ins (model, save) */
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
    const void *info;          /* per-built-in constants (a method's fixed choices) */
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
/* Number of leading parameters without a default: those a call must give. */
int builtin_n_required(const Builtin *bi);
/* The index of bi's parameter named pname, or -1. */
int builtin_param_index(const Builtin *bi, const char *pname);
/* Fills names with bi's parameter names (BUILTIN_MAX_PARAMS entries at
 * most) and returns how many there are: candidates for a did-you-mean. */
size_t builtin_param_names(const Builtin *bi, const char **names);
/* The value of a default's text: a number, true, false, none or a string
 * (pointing into the text, which is static). False when the text is none
 * of these (the unit test checks every row's defaults parse). */
bool builtin_default_value(const char *text, Value *out);
/* "ties(base, models, weights=1, ...)", rendered from the parameters; the
 * text is cut at len - 1 bytes. Returns buf. */
char *builtin_signature(const Builtin *bi, char *buf, size_t len);
/* The signature and the doc line, "slerp(a, b, t): t=0 gives a, ...": the
 * hint under a call's argument errors. Returns buf. */
char *builtin_hint(const Builtin *bi, char *buf, size_t len);

/* Room for any signature or hint. */
#define BUILTIN_TEXT_MAX 512

#endif
