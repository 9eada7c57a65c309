/* exec_stats.c - per-node statistics of a streamed tensor; see exec_stats.h.
 *
 * States are created under the table's lock by whichever thread reaches the
 * node first; scanning needs no lock here (each built-in keeps per-range
 * results apart, or locks its own shared parts), and rounds are closed by
 * one thread after every range is in. */
#include "interp/exec/exec_stats.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "interp/plan/builtin_api.h"

typedef struct NodeStats {
    void *state;
    const Node *node;
    bool complete;
} NodeStats;

struct ExecHints {
    pthread_mutex_t lock;
    struct { uint64_t key; uint32_t value; } *items;
    size_t n, cap;
};

ExecHints *exec_hints_new(void) {
    ExecHints *h = calloc(1, sizeof *h);
    if (h) pthread_mutex_init(&h->lock, NULL);
    return h;
}

void exec_hints_free(ExecHints *h) {
    if (!h) return;
    pthread_mutex_destroy(&h->lock);
    free(h->items);
    free(h);
}

bool exec_hints_get(ExecHints *h, uint64_t key, uint32_t *value) {
    bool found = false;
    if (!h) return false;
    pthread_mutex_lock(&h->lock);
    for (size_t i = 0; i < h->n && !found; i++)
        if (h->items[i].key == key) {
            *value = h->items[i].value;
            found = true;
        }
    pthread_mutex_unlock(&h->lock);
    return found;
}

void exec_hints_put(ExecHints *h, uint64_t key, uint32_t value) {
    if (!h) return;
    pthread_mutex_lock(&h->lock);
    size_t i = 0;
    while (i < h->n && h->items[i].key != key) i++;
    if (i == h->n && h->n == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 16;
        void *m = realloc(h->items, cap * sizeof *h->items);
        if (m) {
            h->items = m;
            h->cap = cap;
        }
    }
    if (i < h->cap) {
        h->items[i].key = key;
        h->items[i].value = value;
        if (i == h->n) h->n++;
    }
    pthread_mutex_unlock(&h->lock);
}

struct ExecStats {
    pthread_mutex_t lock;
    ExecHints *hints;
    size_t n_parts;
    int n_nodes;
    NodeStats *nodes;          /* by node id */
};

ExecStats *exec_stats_new(int n_nodes, size_t n_parts, ExecHints *hints) {
    ExecStats *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->nodes = calloc(n_nodes > 0 ? (size_t)n_nodes : 1, sizeof *s->nodes);
    if (!s->nodes) {
        free(s);
        return NULL;
    }
    pthread_mutex_init(&s->lock, NULL);
    s->n_parts = n_parts;
    s->n_nodes = n_nodes;
    s->hints = hints;
    return s;
}

void exec_stats_free(ExecStats *s) {
    if (!s) return;
    for (int i = 0; i < s->n_nodes; i++)
        if (s->nodes[i].state) s->nodes[i].node->u.call.bi->stream->free(s->nodes[i].state);
    pthread_mutex_destroy(&s->lock);
    free(s->nodes);
    free(s);
}

ExecHints *exec_stats_hints(const Exec *x) { return x->stats ? x->stats->hints : NULL; }

Value exec_stats_scan(Exec *x, const Node *n, Value *args) {
    const BuiltinStream *st = n->u.call.bi->stream;
    ExecStats *s = x->stats;
    NodeStats *ns = &s->nodes[n->id];
    pthread_mutex_lock(&s->lock);
    if (!ns->state) {
        ns->state = st->open(x, n, args, s->n_parts);
        ns->node = n;
    }
    void *state = ns->state;
    bool complete = ns->complete;
    pthread_mutex_unlock(&s->lock);
    if (!state) return x->failed ? val_error() : exec_fail(x, n->span, "out of memory");
    if (complete) return st->scan(x, n, args, state, -1);
    return st->scan(x, n, args, state, x->stats_round);
}

void *exec_stats_of(const Exec *x, const Node *n) {
    if (!x->stats || n->id < 0 || n->id >= x->stats->n_nodes) return NULL;
    return x->stats->nodes[n->id].state;
}

int exec_stats_close_round(ExecStats *s, int round, char *msg, size_t msg_len, SrcSpan *at) {
    int all = 1;
    for (int i = 0; i < s->n_nodes; i++) {
        NodeStats *ns = &s->nodes[i];
        if (!ns->state || ns->complete) continue;
        int r = ns->node->u.call.bi->stream->close_round(ns->state, round, msg, msg_len);
        if (r < 0) {
            *at = ns->node->span;
            return -1;
        }
        if (r > 0) ns->complete = true;
        else all = 0;
    }
    return all;
}
