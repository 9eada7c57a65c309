/* value.h - the values of the language.
 *
 * Evaluation is staged. A recipe is first evaluated once, as a whole (the
 * "plan" stage, interp/plan/): numbers, strings, lists and functions are computed
 * there, and everything that depends on a tensor becomes a node of a lazy
 * graph (graph.h): a V_MODEL is a node that yields one tensor per output
 * name, a V_LAZY a node that yields a number, string or bool per output
 * name (`layer`, `gradient(...)`, `if name ~ "attn" then 0.8 else 0.2`).
 * Then each output tensor is computed on its own (the "exec" stage, interp/exec/),
 * where nodes are forced to plain values and V_TENSOR appears.
 *
 * Values are small and passed by value; what they point to lives in an
 * arena: the run's arena for plan values, the tensor's arena for exec values.
 * Nothing is reference counted and nothing is freed one by one. */
#ifndef MERGELANG_VALUE_H
#define MERGELANG_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "runtime/core/tensor.h"

typedef struct Node Node;
typedef struct Builtin Builtin;
typedef struct Closure Closure;
typedef struct ValList ValList;

typedef enum ValKind {
    V_NONE,
    V_BOOL,
    V_NUM,
    V_STR,
    V_LIST,
    V_FUNC,      /* user function (def) */
    V_BUILTIN,   /* built-in function */
    V_MODEL,     /* lazy: one tensor per output name */
    V_LAZY,      /* lazy: one scalar (number, string, bool, none) per output name */
    V_TENSOR,    /* exec stage only */
    V_ERROR      /* an error was already reported; suppresses follow-on errors */
} ValKind;

typedef struct Value {
    ValKind kind;
    union {
        bool b;
        double num;
        struct { const char *s; size_t len; } str;
        ValList *list;
        Closure *func;
        const Builtin *builtin;
        Node *node;          /* V_MODEL, V_LAZY */
        Tensor *tensor;
    } u;
} Value;

struct ValList {
    size_t n;
    Value *items;
};

static inline Value val_none(void) { Value v = { .kind = V_NONE }; return v; }
static inline Value val_error(void) { Value v = { .kind = V_ERROR }; return v; }
static inline Value val_bool(bool b) { Value v = { .kind = V_BOOL, .u.b = b }; return v; }
static inline Value val_num(double x) { Value v = { .kind = V_NUM, .u.num = x }; return v; }
static inline bool val_is_lazy(Value v) { return v.kind == V_MODEL || v.kind == V_LAZY; }

/* "a number", "a model", "a list", ... for messages. */
const char *val_kind_name(ValKind k);
/* True when v is lazy or a list that contains a lazy value (at any depth). */
bool val_depends_on_tensor(Value v);
/* Short human-readable rendering (numbers as %g, strings quoted, lists,
 * "<model ...>"), for the REPL, messages and tests. */
void val_print(Value v, FILE *out);

#endif
