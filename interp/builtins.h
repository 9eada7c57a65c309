/* builtins.h - the table of built-in functions, in one place.
 *
 * Each built-in has a parameter list (positional order; the first
 * n_required must be given; every parameter may be passed by keyword; a
 * first parameter spelt "*name" collects all positional arguments into a
 * list, for variadic built-ins such as stack), a
 * plan function run once at plan time (type checks, signature of the result,
 * building a graph node), and, for built-ins that compute per tensor, an exec
 * function that receives the node's arguments already forced to plain values
 * (tensors, numbers, lists) for the current tensor. */
#ifndef MERGELANG_BUILTINS_H
#define MERGELANG_BUILTINS_H

#include "eval.h"
#include "exec.h"

#define BUILTIN_MAX_PARAMS 16

typedef Value (*BuiltinPlanFn)(Plan *p, const Builtin *bi, Value *args,
                               const SrcSpan *arg_spans, SrcSpan call);
typedef Value (*BuiltinExecFn)(Exec *x, const Node *n, Value *args);

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
    const void *info;          /* per-built-in constants (method defaults) */
};

const Builtin *builtin_find(const char *name);
/* m["tensor.name"]: the model restricted to that one tensor (an error with a
 * did-you-mean hint when it has no such tensor). */
Value plan_model_index(Plan *p, Value model, Value name, SrcSpan model_at, SrcSpan name_at, SrcSpan call);
size_t builtin_count(void);
const Builtin *builtin_at(size_t i);
/* Number of parameters of bi. */
int builtin_n_params(const Builtin *bi);

#endif
