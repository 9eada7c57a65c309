/* plan.h - the plan stage: runs a recipe's statements once, computing
 * constants, opening checkpoint headers, and building the lazy per-tensor
 * graph (graph.h) for everything that depends on tensor data. Every check
 * that needs no tensor data happens here (unknown names, argument types and
 * counts, missing tensors, shape disagreements, bad output folders), so a
 * recipe that plans cleanly has only I/O and numeric failures left.
 *
 * Errors are reported to the Diag with their location and evaluation goes
 * on where it can (a failed expression yields V_ERROR, which silences
 * follow-on errors), so one run shows many errors. */
#ifndef MERGELANG_PLAN_H
#define MERGELANG_PLAN_H

#include <stdint.h>

#include "runtime/core/arena.h"
#include "runtime/io/checkpoint.h"
#include "interp/syntax/ast.h"
#include "interp/syntax/diag.h"
#include "interp/plan/builtin_api.h"
#include "interp/plan/graph.h"
#include "interp/plan/value.h"

typedef struct Binding {
    const char *name;
    Value value;
    SrcSpan at;
} Binding;

typedef struct Env {
    struct Env *parent;
    size_t n, cap;
    Binding *items;
    /* Hash index of items for large scopes (plan_walk.c): binding index + 1 per
     * slot, 0 when empty; in the plan arena. */
    size_t *slots;
    size_t n_slots, n_filled, n_indexed;
} Env;

struct Closure {
    const Ast *def;            /* AST_DEF */
    Env *env;                  /* where it was defined */
};

/* A `-D name=value` from the command line. */
typedef struct Override {
    const char *name;
    const char *text;
    bool used;
} Override;

/* One save(...) call, carried out after planning (interp/output/). */
typedef struct SaveRequest {
    Value model;               /* V_MODEL */
    const char *path;
    bool has_dtype;
    DType dtype;               /* output dtype for float tensors when has_dtype */
    uint64_t shard_bytes;
    const Ckpt *config;        /* config.json donor, or NULL */
    const Ckpt *tokenizer;     /* tokenizer files and generation_config.json donor, or NULL */
    SrcSpan span;
} SaveRequest;

typedef struct OpenCkpt {
    const char *path;
    Ckpt *ckpt;
    Node *node;
} OpenCkpt;

/* An imported module: parsed and run once, in its own scope. */
typedef struct Module {
    const char *path;          /* real path, the identity of the module */
    SrcFile *src;              /* kept for diagnostics that point into it */
    Env *env;                  /* its top-level bindings */
    bool done, failed;
} Module;

/* An import statement that ran: where, and which module it bound. */
typedef struct ImportRecord {
    SrcSpan at;
    size_t module;             /* index into Plan.modules */
} ImportRecord;

typedef struct Plan {
    Arena arena;               /* everything the plan stage allocates */
    Diag *diag;
    const BuiltinTable *builtins;  /* the names built in (interp/builtins/builtins.h) */
    Env globals;
    int n_nodes;
    Node *context[5];          /* shared nodes for name, layer, n_layers, shape, dtype */
    OpenCkpt *ckpts;
    size_t n_ckpts, cap_ckpts;
    SaveRequest *saves;
    size_t n_saves, cap_saves;
    Module *modules;
    size_t n_modules, cap_modules;
    ImportRecord *imports;
    size_t n_imports, cap_imports;
    const SrcFile *recipe;     /* the recipe's own source (for recipe.merge and provenance), or NULL */
    Override *overrides;
    size_t n_overrides;
    bool overwrite;            /* --force: replace existing output folders */
    bool allow_rebind;         /* REPL: a name may be assigned again */
    int depth;                 /* current nesting of calls and expressions */
    bool depth_reported;       /* the nesting limit was reported for this statement */
    long steps;                /* expressions evaluated so far (bounded) */
} Plan;

/* builtins: normally &builtin_table (interp/builtins/builtins.h). */
void plan_init(Plan *p, Diag *diag, const BuiltinTable *builtins);
void plan_free(Plan *p);
/* Runs the statements of an AST_PROGRAM. Returns the number of errors. */
int plan_program(Plan *p, const Ast *program);
/* Evaluates one expression in the global scope (REPL, tests). */
Value plan_eval(Plan *p, const Ast *expr);

/* For built-ins: */
/* Calls a function value (user function or built-in) with evaluated
 * positional arguments, as if written f(args...) at `at`. */
Value plan_apply(Plan *p, Value f, const Value *args, size_t n, SrcSpan at);
/* a op b with the language's rules: folded when both are plain values, a
 * graph node when either depends on the tensor, a located error otherwise. */
Value plan_binary(Plan *p, AstOp op, Value a, Value b, SrcSpan op_at, SrcSpan whole);
Node *plan_new_node(Plan *p, NodeKind kind, SrcSpan span);
/* The value a node stands for: a model when it has a tensor set, else a
 * per-tensor scalar. */
Value plan_node_value(Node *n);
void *plan_alloc(Plan *p, size_t size);
/* Counts n evaluation steps against the recipe's budget (a built-in that
 * builds a list of n items spends n). Returns false once the budget is
 * spent, after reporting it at `at` (only the first time). */
bool plan_spend(Plan *p, long n, SrcSpan at);
/* Reports an error located at `at`; returns V_ERROR. */
Value plan_error(Plan *p, SrcSpan at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* After reporting the first of `bad` disagreeing tensors: a hint that counts
 * the others, so one mismatch does not print a hundred errors. */
void plan_hint_more_tensors(Plan *p, size_t bad);
/* Opens (once per path) a checkpoint and returns its source node. */
Value plan_open_model(Plan *p, const char *path, SrcSpan at);

#endif
