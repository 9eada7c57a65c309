/* tensor_checks.c - per-tensor errors found without tensor data; see
 * tensor_checks.h. */
#include "interp/exec/tensor_checks.h"

#include <stdlib.h>
#include <string.h>

#include "interp/plan/builtin_api.h"
#include "interp/syntax/diag.h"
#include "interp/exec/exec.h"


typedef struct Checker {
    Plan *plan;
    const TensorInfo *tensor;
    const TensorSet *set;
    unsigned char *seen;       /* by node id, for the current tensor */
    bool failed;
    SrcSpan at;
    char msg[1024];
} Checker;

/* Forces v for the current tensor without data; a failure other than
 * needing data is kept. */
static ExecProbe probe(Checker *c, Value v, Value *out) {
    Value got;
    ExecProbe r = exec_probe(c->plan->n_nodes, c->tensor, c->set, v, &got, &c->at, c->msg, sizeof c->msg);
    if (r == EXEC_PROBE_FAILED) c->failed = true;
    if (out) *out = r == EXEC_PROBE_OK && got.kind == V_BOOL ? got : val_none();
    return r;
}

/* Visits what computing v for the current tensor evaluates whatever the
 * data: per-tensor values are forced; an `if` is followed into the branch
 * its condition picks when that needs no data, else into neither (the
 * merge takes only one). Arguments of built-ins that evaluate them lazily
 * or for other tensors (layers, stack) are left alone. */
static void visit(Checker *c, Value v, int depth) {
    if (c->failed || depth > 64) return;
    if (v.kind == V_LIST) {
        for (size_t i = 0; i < v.u.list->n; i++) visit(c, v.u.list->items[i], depth + 1);
        return;
    }
    if (!val_is_lazy(v)) return;
    const Node *n = v.u.node;
    if (n->id >= 0 && n->id < c->plan->n_nodes) {
        if (c->seen[n->id]) return;
        c->seen[n->id] = 1;
    }
    if (!n->set) {
        probe(c, v, NULL);
        return;
    }
    switch (n->kind) {
    case N_SOURCE:
    case N_CONTEXT: return;
    case N_CALL:
        if (n->u.call.bi->lazy_args || n->u.call.bi->new_frame) return;
        for (size_t i = 0; i < n->u.call.nargs; i++) visit(c, n->u.call.args[i], depth + 1);
        return;
    case N_UNARY:
    case N_BINARY:
        visit(c, n->u.op.a, depth + 1);
        if (n->kind == N_BINARY) visit(c, n->u.op.b, depth + 1);
        return;
    case N_IF: {
        Value cond;
        if (probe(c, n->u.cond.cond, &cond) == EXEC_PROBE_OK && cond.kind == V_BOOL)
            visit(c, cond.u.b ? n->u.cond.then_ : n->u.cond.else_, depth + 1);
        return;
    }
    }
}

int tensor_checks_run(Plan *p) {
    int errors = 0;
    unsigned char *seen = malloc((size_t)p->n_nodes + 1);
    if (!seen) return 0;
    SrcSpan last_at = { 0 };
    char last_msg[1024] = "";
    for (size_t s = 0; s < p->n_saves; s++) {
        const SaveRequest *r = &p->saves[s];
        const TensorSet *set = r->model.u.node->set;
        size_t *order = tset_natural_order(set);
        if (!order) break;
        Checker c = { .plan = p, .set = set, .seen = seen };
        for (size_t k = 0; k < set->n && !c.failed; k++) {
            c.tensor = &set->items[order[k]];
            memset(seen, 0, (size_t)p->n_nodes + 1);
            visit(&c, r->model, 0);
        }
        free(order);
        if (!c.failed) continue;
        SrcSpan at = c.at.file ? c.at : r->span;
        /* Two saves of one expression fail alike: say it once. */
        bool repeat = errors > 0 && at.file == last_at.file && at.start == last_at.start &&
                      at.end == last_at.end && strcmp(c.msg, last_msg) == 0;
        if (!repeat) diag_error(p->diag, at, "tensor '%s': %s", c.tensor->name, c.msg);
        errors++;
        last_at = at;
        memcpy(last_msg, c.msg, sizeof last_msg);
    }
    free(seen);
    return errors;
}
