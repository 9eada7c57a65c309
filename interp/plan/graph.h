/* graph.h - the lazy per-tensor graph built by the plan stage.
 *
 * A node describes how to compute one value for any output tensor name. The
 * graph is immutable once planning ends, so many tensors may be evaluated at
 * once on several threads, each with its own memo table (interp/exec/exec.c). A node that
 * yields tensors (a model) carries its signature: the set of tensor names it
 * produces with their shapes and stored dtypes, known before any tensor data
 * is read; that is what `check` verifies and what `save` iterates over. */
#ifndef MERGELANG_GRAPH_H
#define MERGELANG_GRAPH_H

#include "runtime/io/checkpoint.h"
#include "interp/syntax/ast.h"
#include "interp/plan/value.h"

typedef struct TensorInfo {
    const char *name;
    Shape shape;
    DType dtype;
} TensorInfo;

/* One stack of blocks of a model (runtime/io/hfnames.h): its prefix, e.g.
 * "model.layers." or "vision_tower.vision_model.encoder.layers.", and its
 * depth. */
typedef struct TensorModule {
    const char *prefix;
    long n_blocks;             /* 1 + highest block index */
} TensorModule;

typedef struct TensorSet {
    size_t n;
    const TensorInfo *items;   /* sorted by strcmp on name */
    /* Blocks of the main module; with no main module (an encoder-decoder),
     * of the deepest; 0 when there are no blocks. */
    long n_layers;
    size_t n_modules;
    const TensorModule *modules;   /* sorted by prefix */
    /* The language model's module: the only one, or the only one that is
     * not a vision/audio tower; -1 when there is none or it is ambiguous. */
    int main_module;
} TensorSet;

const TensorInfo *tset_find(const TensorSet *s, const char *name);
/* Fills s's modules, main_module and n_layers from its items' names, in
 * arena a. A module that `depth_from` also has keeps depth_from's depth
 * (select and drop keep block numbers, so depths stay the input's); NULL
 * for none. Returns -1 when out of memory. */
int tset_index_modules(Arena *a, TensorSet *s, const TensorSet *depth_from);
/* The module of s that name's blocks belong to, or NULL. */
const TensorModule *tset_module_of(const TensorSet *s, const char *name);
/* The depth `n_layers` means for tensor `name`: its own module's depth, or
 * s->n_layers for a tensor outside every block. */
long tset_depth_of(const TensorSet *s, const char *name);
/* name's block index when it is a block of s's main module, else -1. */
long tset_main_block(const TensorSet *s, const char *name);
/* "a.layers. (2 blocks), b.layers. (4 blocks)" into buf, for messages. */
void tset_describe_modules(const TensorSet *s, char *buf, size_t len);
/* Indices of s's tensors in natural order (embeddings, blocks in numeric
 * order, final norm, head: runtime/io/hfnames.h), malloc'd; NULL when out of
 * memory. */
size_t *tset_natural_order(const TensorSet *s);

typedef enum NodeKind {
    N_SOURCE,    /* a checkpoint's tensor of the current name */
    N_CONTEXT,   /* name, layer, n_layers, shape, dtype of the current tensor */
    N_CALL,      /* a built-in applied to (possibly lazy) arguments */
    N_UNARY,     /* -x, not x */
    N_BINARY,    /* arithmetic, comparison, match, and/or */
    N_IF         /* if c then a else b with a per-tensor condition */
} NodeKind;

typedef enum ContextVar { CTX_NAME, CTX_LAYER, CTX_N_LAYERS, CTX_SHAPE, CTX_DTYPE } ContextVar;

struct Node {
    NodeKind kind;
    int id;                    /* index into a tensor's memo table */
    SrcSpan span;              /* the expression that made it, for messages */
    const TensorSet *set;      /* models only; NULL for scalar nodes */
    union {
        struct { const Ckpt *ckpt; const char *path; bool allow_nonfinite; } source;
        ContextVar ctx;
        /* args by parameter index; extra: what the plan half computed for the exec half */
        struct { const Builtin *bi; Value *args; size_t nargs; const void *extra; } call;
        struct { AstOp op; Value a, b; } op;
        struct { Value cond, then_, else_; } cond;
    } u;
};

#endif
