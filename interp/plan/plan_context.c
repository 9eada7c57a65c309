/* plan_context.c - the plan stage's state (plan.h): its arena, errors,
 * graph nodes, opened checkpoints and the budget that bounds a recipe's
 * planning. The expression walker is plan_walk.c. */
#include "interp/plan/plan.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* Evaluation steps a recipe may take when planning: far more than any real
 * recipe needs (a 100-model merge takes thousands), few enough that an
 * exponential recursion stops within a second or two and bounded memory. */
#define PLAN_MAX_STEPS 2000000
/* Memory the plan stage may hold (values, lists, strings, graph nodes):
 * checked with the steps, so a step can overshoot it by one allocation. */
#define PLAN_MAX_BYTES ((size_t)1 << 30)

/* ---- setup ---------------------------------------------------------------- */

void plan_init(Plan *p, Diag *diag, const BuiltinTable *builtins) {
    memset(p, 0, sizeof *p);
    arena_init(&p->arena);
    p->diag = diag;
    p->builtins = builtins;
}

void plan_free(Plan *p) {
    for (size_t i = 0; i < p->n_ckpts; i++) ckpt_close(p->ckpts[i].ckpt);
    for (size_t i = 0; i < p->n_modules; i++) src_free(p->modules[i].src);
    free(p->modules);
    free(p->imports);
    free(p->ckpts);
    free(p->saves);
    free(p->globals.items);
    arena_free(&p->arena);
    memset(p, 0, sizeof *p);
}

void *plan_alloc(Plan *p, size_t size) {
    void *m = arena_alloc(&p->arena, size);
    if (!m) {
        fprintf(stderr, "mergelang: out of memory\n");
        exit(4);
    }
    return m;
}

Value plan_error(Plan *p, SrcSpan at, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    diag_error(p->diag, at, "%s", msg);
    return val_error();
}

void plan_hint_more_tensors(Plan *p, size_t bad) {
    if (bad == 2) diag_hint(p->diag, "1 more tensor disagrees");
    else if (bad > 2) diag_hint(p->diag, "%zu more tensors disagree", bad - 1);
}

Node *plan_new_node(Plan *p, NodeKind kind, SrcSpan span) {
    Node *n = plan_alloc(p, sizeof *n);
    n->kind = kind;
    n->id = p->n_nodes++;
    n->span = span;
    return n;
}

Value plan_node_value(Node *n) {
    Value v = { .kind = n->set ? V_MODEL : V_LAZY, .u.node = n };
    return v;
}

/* ---- checkpoints ------------------------------------------------------------ */

static int tinfo_cmp(const void *a, const void *b) {
    return strcmp(((const TensorInfo *)a)->name, ((const TensorInfo *)b)->name);
}

Value plan_open_model(Plan *p, const char *path, SrcSpan at) {
    for (size_t i = 0; i < p->n_ckpts; i++)
        if (strcmp(p->ckpts[i].path, path) == 0) return plan_node_value(p->ckpts[i].node);
    ErrBuf err;
    Ckpt *c = ckpt_open(path, &err);
    if (!c) return plan_error(p, at, "cannot open model: %s", err.msg);
    if (p->n_ckpts == p->cap_ckpts) {
        size_t cap = p->cap_ckpts ? p->cap_ckpts * 2 : 4;
        OpenCkpt *m = realloc(p->ckpts, cap * sizeof *m);
        if (!m) {
            ckpt_close(c);
            return plan_error(p, at, "out of memory");
        }
        p->ckpts = m;
        p->cap_ckpts = cap;
    }
    TensorInfo *items = plan_alloc(p, (c->n_tensors ? c->n_tensors : 1) * sizeof *items);
    TensorSet *set = plan_alloc(p, sizeof *set);
    for (size_t i = 0; i < c->n_tensors; i++) {
        items[i].name = c->tensors[i].name;
        items[i].shape = c->tensors[i].shape;
        items[i].dtype = c->tensors[i].dtype;
    }
    qsort(items, c->n_tensors, sizeof *items, tinfo_cmp);
    set->n = c->n_tensors;
    set->items = items;
    if (tset_index_modules(&p->arena, set, NULL) != 0) return plan_error(p, at, "out of memory");
    Node *n = plan_new_node(p, N_SOURCE, at);
    n->set = set;
    n->u.source.ckpt = c;
    n->u.source.path = arena_strdup(&p->arena, path);
    p->ckpts[p->n_ckpts].path = n->u.source.path;
    p->ckpts[p->n_ckpts].ckpt = c;
    p->ckpts[p->n_ckpts].node = n;
    p->n_ckpts++;
    return plan_node_value(n);
}

/* ---- budget ------------------------------------------------------------------ */

bool plan_spend(Plan *p, long n, SrcSpan at) {
    if (p->steps > PLAN_MAX_STEPS) return false; /* already reported */
    p->steps += n;
    if (p->steps <= PLAN_MAX_STEPS && p->arena.bytes_in_use <= PLAN_MAX_BYTES) return true;
    if (p->steps <= PLAN_MAX_STEPS) {
        diag_error(p->diag, at, "the recipe needs more than %d MiB of memory when planning",
                   (int)(PLAN_MAX_BYTES >> 20));
    } else {
        diag_error(p->diag, at, "the recipe takes more than %d evaluation steps", PLAN_MAX_STEPS);
        diag_hint(p->diag, "a recursive function that calls itself more than once per call grows exponentially");
    }
    p->steps = PLAN_MAX_STEPS + 1;
    return false;
}
