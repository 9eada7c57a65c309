/* plan_print.c - `mergelang plan`: what each save would write, tensor by
 * tensor, without reading any tensor data.
 *
 * Each output tensor is described by walking the graph for its name in a
 * no-data Exec: per-tensor numbers (gradients, conditions on the name) are
 * computed, since they need no data, and an `if` whose condition needs data
 * (cos(a, b) < 0.9) is shown with both branches. Nodes bound to a variable
 * are shown by its name. The memory estimate counts one float32 copy of
 * what is computed at once (the tensor, or the row range `run` computes of
 * a big one) per model-valued node the tensor reaches, plus its output
 * buffer, plus what align() needs to compute a matching (its similarity
 * matrix). */
#include "interp/output/plan_print.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/io/hfnames.h"
#include "interp/builtins/builtins.h"
#include "interp/exec/exec.h"
#include "interp/output/output.h"
#include "interp/output/ranges.h"

typedef struct Describer {
    Plan *plan;
    const char **names;        /* node id -> variable name, or NULL */
    const Node *root;
    const Node **sources;      /* distinct sources reached for this tensor */
    size_t n_sources;
    size_t n_tensor_nodes;     /* model-valued nodes reached */
    double extra_bytes;        /* working memory beyond the tensors (align's matching) */
} Describer;

static void describe(Describer *d, Exec *x, Value v, FILE *out, int depth);

/* The value of a per-tensor scalar if it needs no data; false otherwise. */
static bool try_force(Exec *x, Value v, Value *out) {
    SrcSpan at;
    char msg[8];
    return exec_probe(x->n_nodes, x->out, x->n_layers, v, out, &at, msg, sizeof msg) == EXEC_PROBE_OK &&
           out->kind != V_ERROR;
}

static void note_source(Describer *d, const Node *n) {
    for (size_t i = 0; i < d->n_sources; i++)
        if (d->sources[i]->u.source.ckpt == n->u.source.ckpt) return;
    if (d->n_sources < 64) d->sources[d->n_sources++] = n;
}

/* Counts sources and model-valued nodes under v, following resolved ifs. */
static void walk(Describer *d, Exec *x, Value v, int depth) {
    if (depth > 64) return;
    if (v.kind == V_LIST) {
        for (size_t i = 0; i < v.u.list->n; i++) walk(d, x, v.u.list->items[i], depth + 1);
        return;
    }
    if (!val_is_lazy(v)) return;
    const Node *n = v.u.node;
    if (n->set) d->n_tensor_nodes++;
    switch (n->kind) {
    case N_SOURCE: note_source(d, n); return;
    case N_CONTEXT: return;
    case N_CALL:
        if (strcmp(n->u.call.bi->name, "align") == 0) {
            char buf[96];
            double bytes;
            bi_align_note(n, x->out->name, buf, sizeof buf, &bytes);
            if (bytes > d->extra_bytes) d->extra_bytes = bytes;
        }
        for (size_t i = 0; i < n->u.call.nargs; i++) walk(d, x, n->u.call.args[i], depth + 1);
        return;
    case N_UNARY:
    case N_BINARY:
        walk(d, x, n->u.op.a, depth + 1);
        walk(d, x, n->u.op.b, depth + 1);
        return;
    case N_IF: {
        Value c;
        if (try_force(x, n->u.cond.cond, &c) && c.kind == V_BOOL) {
            walk(d, x, c.u.b ? n->u.cond.then_ : n->u.cond.else_, depth + 1);
        } else {
            walk(d, x, n->u.cond.cond, depth + 1);
            walk(d, x, n->u.cond.then_, depth + 1);
            walk(d, x, n->u.cond.else_, depth + 1);
        }
        return;
    }
    }
}

static void describe_args(Describer *d, Exec *x, const Node *n, FILE *out, int depth) {
    const Builtin *bi = n->u.call.bi;
    bool first = true;
    for (size_t i = 0; i < n->u.call.nargs; i++) {
        Value a = n->u.call.args[i];
        if (a.kind == V_NONE) continue;
        fputs(first ? "" : ", ", out);
        first = false;
        if ((int)i >= bi->n_required && bi->params[i][0] != '*') fprintf(out, "%s=", bi->params[i]);
        describe(d, x, a, out, depth + 1);
    }
}

static void describe(Describer *d, Exec *x, Value v, FILE *out, int depth) {
    if (depth > 12) {
        fputs("...", out);
        return;
    }
    if (v.kind == V_LIST) {
        fputc('[', out);
        for (size_t i = 0; i < v.u.list->n; i++) {
            if (i) fputs(", ", out);
            describe(d, x, v.u.list->items[i], out, depth + 1);
        }
        fputc(']', out);
        return;
    }
    if (!val_is_lazy(v)) {
        val_print(v, out);
        return;
    }
    const Node *n = v.u.node;
    Value c;
    if (!n->set && try_force(x, v, &c)) {
        /* A per-tensor number: show its value for this tensor. */
        if (d->names[n->id]) fprintf(out, "%s=", d->names[n->id]);
        val_print(c, out);
        return;
    }
    if (n != d->root && d->names[n->id]) {
        fputs(d->names[n->id], out);
        return;
    }
    switch (n->kind) {
    case N_SOURCE: fprintf(out, "model(\"%s\")", n->u.source.path); return;
    case N_CONTEXT: fputs("<tensor context>", out); return;
    case N_CALL:
        fprintf(out, "%s(", n->u.call.bi->name);
        describe_args(d, x, n, out, depth);
        fputc(')', out);
        if (strcmp(n->u.call.bi->name, "fisher") == 0) {
            const ValList *fl = n->u.call.args[1].u.list;
            for (size_t i = 0; i < fl->n; i++)
                if (val_is_lazy(fl->items[i]) && !tset_find(fl->items[i].u.node->set, x->out->name)) {
                    fputs(" [no Fisher values for this tensor: weighted mean]", out);
                    break;
                }
        }
        if (strcmp(n->u.call.bi->name, "align") == 0) {
            char buf[96];
            double bytes;
            fprintf(out, " [%s]", bi_align_note(n, x->out->name, buf, sizeof buf, &bytes));
        }
        return;
    case N_UNARY:
        fputs(n->u.op.op == OP_NEG ? "-" : "not ", out);
        describe(d, x, n->u.op.a, out, depth + 1);
        return;
    case N_BINARY:
        fputc('(', out);
        describe(d, x, n->u.op.a, out, depth + 1);
        fprintf(out, " %s ", ast_op_text(n->u.op.op));
        describe(d, x, n->u.op.b, out, depth + 1);
        fputc(')', out);
        return;
    case N_IF:
        if (try_force(x, n->u.cond.cond, &c) && c.kind == V_BOOL) {
            describe(d, x, c.u.b ? n->u.cond.then_ : n->u.cond.else_, out, depth);
            return;
        }
        fputs("if ", out);
        describe(d, x, n->u.cond.cond, out, depth + 1);
        fputs(" then ", out);
        describe(d, x, n->u.cond.then_, out, depth + 1);
        fputs(" else ", out);
        describe(d, x, n->u.cond.else_, out, depth + 1);
        return;
    }
}

static void human_bytes(double b, char *buf, size_t n) {
    const char *units[] = { "B", "KB", "MB", "GB", "TB" };
    int u = 0;
    while (b >= 1000 && u < 4) {
        b /= 1000;
        u++;
    }
    snprintf(buf, n, u ? "%.1f %s" : "%.0f %s", b, units[u]);
}

int plan_print(Plan *p, FILE *out, int threads) {
    if (threads < 1) threads = 1;
    const char **names = calloc((size_t)p->n_nodes + 1, sizeof *names);
    const Node **sources = calloc(64, sizeof *sources);
    if (!names || !sources) {
        free(names);
        free(sources);
        return -1;
    }
    for (size_t i = 0; i < p->globals.n; i++) {
        Value v = p->globals.items[i].value;
        if (val_is_lazy(v) && !names[v.u.node->id]) names[v.u.node->id] = p->globals.items[i].name;
    }
    double peak = 0;
    const char *peak_tensor = "";
    bool peak_ranged = false;
    for (size_t s = 0; s < p->n_saves; s++) {
        const SaveRequest *r = &p->saves[s];
        const TensorSet *set = r->model.u.node->set;
        size_t *order = tset_natural_order(set);
        if (!order) break;
        double total = 0;
        for (size_t i = 0; i < set->n; i++) {
            const TensorInfo *t = &set->items[i];
            DType dt = r->has_dtype && dtype_is_computable(t->dtype) ? r->dtype : t->dtype;
            total += (double)shape_numel(&t->shape) * (double)dtype_size(dt);
        }
        char tb[32];
        human_bytes(total, tb, sizeof tb);
        fprintf(out, "save %s: %zu tensor%s, %s, %ld block%s\n", r->path, set->n, set->n == 1 ? "" : "s", tb,
                set->n_layers, set->n_layers == 1 ? "" : "s");
        for (size_t k = 0; k < set->n; k++) {
            const TensorInfo *t = &set->items[order[k]];
            DType dt = r->has_dtype && dtype_is_computable(t->dtype) ? r->dtype : t->dtype;
            double numel = (double)shape_numel(&t->shape);
            Arena a;
            arena_init(&a);
            Exec x;
            if (exec_init(&x, &a, p->n_nodes, t, set->n_layers) != 0) {
                arena_free(&a);
                break;
            }
            x.no_data = true;
            /* select/drop only restrict the names: describe what they select. */
            Value root = r->model;
            while (root.u.node->kind == N_CALL && (strcmp(root.u.node->u.call.bi->name, "select") == 0 ||
                                                   strcmp(root.u.node->u.call.bi->name, "drop") == 0))
                root = root.u.node->u.call.args[0];
            Describer d = { .plan = p, .names = names, .root = root.u.node, .sources = sources };
            walk(&d, &x, root, 0);
            char shape[96], bytes[32];
            human_bytes(numel * (double)dtype_size(dt), bytes, sizeof bytes);
            fprintf(out, "  %s %s %s %s\n    = ", t->name, shape_format(&t->shape, shape, sizeof shape),
                    dtype_torch_name(dt) ? dtype_torch_name(dt) : dtype_st_name(dt), bytes);
            describe(&d, &x, root, out, 0);
            fputs("\n    inputs:", out);
            for (size_t i = 0; i < d.n_sources; i++) fprintf(out, " %s", d.sources[i]->u.source.path);
            fputc('\n', out);
            /* Memory goes with what is computed at once: a row range of a
             * big tensor when the save is computed in ranges. */
            double entries = (double)ranges_of_tensor(p, r->model, &t->shape).entries;
            double mem = (double)d.n_tensor_nodes * entries * 4 + entries * (double)dtype_size(dt) + d.extra_bytes;
            if (mem > peak) {
                peak = mem;
                peak_tensor = t->name;
                peak_ranged = entries < numel;
            }
            arena_free(&a);
        }
        free(order);
    }
    char one[32], all[32];
    human_bytes(peak, one, sizeof one);
    human_bytes(peak * threads, all, sizeof all);
    fprintf(out, "peak memory: about %s per tensor in flight (%s%s), x %d thread%s = %s", one, peak_tensor,
            peak_ranged ? ", a row range of it" : "", threads, threads == 1 ? "" : "s", all);
    /* Finished ranges of big tensors wait for the writer, up to a bound. */
    char queue[32];
    human_bytes((double)OUTPUT_QUEUE_BYTES, queue, sizeof queue);
    if (peak_ranged) fprintf(out, ", and up to %s of results waiting to be written", queue);
    fputc('\n', out);
    free(names);
    free(sources);
    return 0;
}
