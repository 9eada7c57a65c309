/* ranges.c - how a tensor is computed: whole, in row ranges, or streamed;
 * see ranges.h. Functions of the plan's graph and a shape (and of
 * MERGELANG_CHUNK_ENTRIES, for tests); they read, and touch nothing. */
#include "interp/output/ranges.h"

#include <stdlib.h>
#include <string.h>

#include "interp/plan/builtin_api.h"

/* RANGES_UNKNOWN marks a node not classified yet in the memo tables. */
enum { RANGES_UNKNOWN = 0 };

static size_t count_nodes(Value v, unsigned char *seen) {
    if (v.kind == V_LIST) {
        size_t c = 0;
        for (size_t i = 0; i < v.u.list->n; i++) c += count_nodes(v.u.list->items[i], seen);
        return c;
    }
    if (!val_is_lazy(v) || seen[v.u.node->id]) return 0;
    const Node *n = v.u.node;
    seen[n->id] = 1;
    switch (n->kind) {
    case N_UNARY:
    case N_BINARY: return 1 + count_nodes(n->u.op.a, seen) + count_nodes(n->u.op.b, seen);
    case N_IF: return 1 + count_nodes(n->u.cond.cond, seen) + count_nodes(n->u.cond.then_, seen) +
                      count_nodes(n->u.cond.else_, seen);
    case N_CALL: {
        size_t c = 1;
        for (size_t i = 0; i < n->u.call.nargs; i++) c += count_nodes(n->u.call.args[i], seen);
        return c;
    }
    default: return 1;
    }
}

RangesGraph ranges_combine(RangesGraph a, RangesGraph b) {
    if (a == RANGES_NEVER || b == RANGES_NEVER) return RANGES_NEVER;
    return a == RANGES_STREAMED || b == RANGES_STREAMED ? RANGES_STREAMED : RANGES_ROWWISE;
}

/* Whether some tensor of a lazy argument of n has another shape than n's
 * tensor of that name. */
static bool crops(const Node *n) {
    for (size_t i = 0; i < n->u.call.nargs; i++) {
        Value a = n->u.call.args[i];
        size_t k = a.kind == V_LIST ? a.u.list->n : 1;
        for (size_t j = 0; j < k; j++) {
            Value v = a.kind == V_LIST ? a.u.list->items[j] : a;
            if (!val_is_lazy(v) || !v.u.node->set || !n->set) continue;
            const TensorSet *in = v.u.node->set;
            for (size_t t = 0; t < in->n; t++) {
                const TensorInfo *mine = tset_find(n->set, in->items[t].name);
                if (mine && !shape_equal(&mine->shape, &in->items[t].shape)) return true;
            }
        }
    }
    return false;
}

/* memo[in_frame][node id] */
static RangesGraph classify(Value v, signed char *memo[2], bool in_frame) {
    if (v.kind == V_LIST) {
        RangesGraph r = RANGES_ROWWISE;
        for (size_t i = 0; i < v.u.list->n && r != RANGES_NEVER; i++)
            r = ranges_combine(r, classify(v.u.list->items[i], memo, in_frame));
        return r;
    }
    if (!val_is_lazy(v)) return RANGES_ROWWISE;
    const Node *n = v.u.node;
    if (memo[in_frame][n->id] != RANGES_UNKNOWN) return (RangesGraph)memo[in_frame][n->id];
    RangesGraph r;
    switch (n->kind) {
    case N_SOURCE:
    case N_CONTEXT: r = RANGES_ROWWISE; break;
    case N_UNARY:
    case N_BINARY: r = ranges_combine(classify(n->u.op.a, memo, in_frame), classify(n->u.op.b, memo, in_frame)); break;
    case N_IF:
        r = ranges_combine(classify(n->u.cond.cond, memo, in_frame),
                           ranges_combine(classify(n->u.cond.then_, memo, in_frame),
                                          classify(n->u.cond.else_, memo, in_frame)));
        break;
    case N_CALL: {
        const Builtin *bi = n->u.call.bi;
        bool streams = bi->stream != NULL;
        r = bi->rowwise || streams ? RANGES_ROWWISE : RANGES_NEVER;
        /* A node that crops its arguments (embeddings of several vocabulary
         * sizes) reads rows the output does not have: statistics beneath
         * it would cover the wrong rows, as beneath a new frame. */
        bool shifted = in_frame || bi->new_frame || crops(n);
        for (size_t i = 0; r != RANGES_NEVER && i < n->u.call.nargs; i++)
            r = ranges_combine(r, classify(n->u.call.args[i], memo, shifted));
        if (streams && r != RANGES_NEVER) r = r == RANGES_STREAMED || in_frame ? RANGES_NEVER : RANGES_STREAMED;
        break;
    }
    default: r = RANGES_NEVER; break;
    }
    memo[in_frame][n->id] = (signed char)r;
    return r;
}

int ranges_of_save(const Plan *p, Value v, RangesGraph *graph, size_t *tensor_nodes) {
    size_t n = (size_t)p->n_nodes + 1;
    signed char *memo = calloc(2 * n, 1);
    if (!memo) return -1;
    signed char *memos[2] = { memo, memo + n };
    *graph = classify(v, memos, false);
    memset(memo, 0, 2 * n);
    *tensor_nodes = count_nodes(v, (unsigned char *)memo);
    free(memo);
    return 0;
}

uint64_t ranges_mem(size_t tensor_nodes, int64_t entries) {
    return (uint64_t)(tensor_nodes + 2) * (uint64_t)(entries > 0 ? entries : 1) * 4;
}

/* Row ranges of about this many entries each. Overridable for tests
 * (MERGELANG_CHUNK_ENTRIES), so small test models take the streamed path. */
static int64_t chunk_entries(void) {
    const char *e = getenv("MERGELANG_CHUNK_ENTRIES");
    long long v = e ? atoll(e) : 0;
    return v > 0 ? (int64_t)v : RANGES_CHUNK_ENTRIES;
}

RangesPlan ranges_for_shape(const Shape *sh, RangesGraph g, size_t tensor_nodes) {
    int64_t chunk = chunk_entries();
    int64_t numel = shape_numel(sh);
    int64_t rows = sh->rank ? sh->dims[0] : 1;
    int64_t per = rows > 0 ? numel / rows : 0;
    int64_t step = per > 0 ? (chunk + per - 1) / per : rows;
    if (g == RANGES_NEVER || numel < 2 * chunk || rows < 2 || step >= rows) step = 0;
    /* Streaming built-ins treat the last dimension as a row: a 1-D
     * tensor split in ranges would cut its only row. */
    if (g == RANGES_STREAMED && sh->rank < 2) step = 0;
    RangesPlan r = { .how = RANGES_WHOLE, .rows_per_part = step, .n_parts = 1, .entries = numel };
    if (step) {
        r.how = g == RANGES_STREAMED ? RANGES_STREAM : RANGES_SPLIT;
        r.n_parts = (size_t)((rows + step - 1) / step);
        r.entries = step * per;
    }
    r.mem = ranges_mem(tensor_nodes, r.entries);
    return r;
}

RangesPlan ranges_of_tensor(const Plan *p, Value v, const Shape *sh) {
    RangesGraph g;
    size_t nodes;
    if (ranges_of_save(p, v, &g, &nodes) != 0) {
        g = RANGES_NEVER;
        nodes = 0;
    }
    return ranges_for_shape(sh, g, nodes);
}
