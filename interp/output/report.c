/* report.c - `mergelang plan`: what each save would write, tensor by
 * tensor, without reading any tensor data, as text or as JSON (one walk,
 * two renderers). Reads the plan's graph and computes per-tensor numbers
 * in no-data Execs; writes only to the stream or JSON object it is given.
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
#include "interp/output/report.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/core/units.h"
#include "runtime/io/hfnames.h"
#include "interp/builtins/builtins.h"
#include "interp/exec/exec.h"
#include "interp/output/folder.h"
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
    return exec_probe(x->n_nodes, x->out, x->set, v, out, &at, msg, sizeof msg) == EXEC_PROBE_OK &&
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
        if ((int)i >= builtin_n_required(bi) && bi->params[i].name[0] != '*') fprintf(out, "%s=", bi->params[i].name);
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

/* ---- the walk: every output tensor, in natural order ---------------------------- */

/* One output tensor as `plan` describes it. */
typedef struct TensorView {
    const TensorInfo *info;
    DType dtype;
    const char *operation;     /* describe()'s text */
    const Node *const *sources;
    size_t n_sources;
    RangesPlan how;            /* how `run` computes it (when this save alone writes it) */
    double memory;             /* estimated bytes while it is computed */
} TensorView;

/* The largest per-tensor estimate, and the threads it is multiplied by. */
typedef struct PeakView {
    double bytes;
    const char *tensor;
    bool ranged;               /* the estimate is for a row range of it */
    int threads;
} PeakView;

/* What the walk hands its findings to: the text of `plan`, or its JSON. */
typedef struct Renderer Renderer;
struct Renderer {
    void (*save)(Renderer *rd, const SaveRequest *r, const TensorSet *set, uint64_t bytes);
    void (*tensor)(Renderer *rd, const TensorView *tv);
    void (*peak)(Renderer *rd, const PeakView *pk);
};

static const char *dtype_name(DType dt) {
    return dtype_torch_name(dt) ? dtype_torch_name(dt) : dtype_st_name(dt);
}

/* describe() of root into a malloc'd string (NULL when out of memory). */
static char *describe_text(Describer *d, Exec *x, Value root) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) return NULL;
    describe(d, x, root, f, 0);
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

static int report_walk(Plan *p, int threads, Renderer *rd) {
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
    int rc = 0;
    PeakView peak = { .tensor = "", .threads = threads };
    for (size_t s = 0; rc == 0 && s < p->n_saves; s++) {
        const SaveRequest *r = &p->saves[s];
        const TensorSet *set = r->model.u.node->set;
        size_t *order = tset_natural_order(set);
        if (!order) break;
        rd->save(rd, r, set, folder_bytes(r));
        for (size_t k = 0; k < set->n; k++) {
            const TensorInfo *t = &set->items[order[k]];
            DType dt = folder_tensor_dtype(r, t);
            double numel = (double)shape_numel(&t->shape);
            Arena a;
            arena_init(&a);
            Exec x;
            if (exec_init(&x, &a, p->n_nodes, t, set) != 0) {
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
            char *operation = describe_text(&d, &x, root);
            if (!operation) {
                arena_free(&a);
                rc = -1;
                break;
            }
            /* Memory goes with what is computed at once: a row range of a
             * big tensor when the save is computed in ranges. */
            RangesPlan how = ranges_of_tensor(p, r->model, &t->shape);
            double entries = (double)how.entries;
            double mem = (double)d.n_tensor_nodes * entries * 4 + entries * (double)dtype_size(dt) + d.extra_bytes;
            TensorView tv = { .info = t, .dtype = dt, .operation = operation, .sources = d.sources,
                              .n_sources = d.n_sources, .how = how, .memory = mem };
            rd->tensor(rd, &tv);
            if (mem > peak.bytes) {
                peak.bytes = mem;
                peak.tensor = t->name;
                peak.ranged = entries < numel;
            }
            free(operation);
            arena_free(&a);
        }
        free(order);
    }
    if (rc == 0) rd->peak(rd, &peak);
    free(names);
    free(sources);
    return rc;
}

/* ---- text --------------------------------------------------------------------- */

typedef struct TextRenderer {
    Renderer base;
    FILE *out;
} TextRenderer;

static void text_save(Renderer *rd, const SaveRequest *r, const TensorSet *set, uint64_t bytes) {
    FILE *out = ((TextRenderer *)rd)->out;
    char tb[32];
    units_bytes_text(bytes, tb, sizeof tb);
    fprintf(out, "save %s: %zu tensor%s, %s, %ld block%s\n", r->path, set->n, set->n == 1 ? "" : "s", tb,
            set->n_layers, set->n_layers == 1 ? "" : "s");
}

static void text_tensor(Renderer *rd, const TensorView *tv) {
    FILE *out = ((TextRenderer *)rd)->out;
    const TensorInfo *t = tv->info;
    char shape[96], bytes[32];
    units_bytes_text((uint64_t)shape_numel(&t->shape) * dtype_size(tv->dtype), bytes, sizeof bytes);
    fprintf(out, "  %s %s %s %s\n    = %s\n    inputs:", t->name, shape_format(&t->shape, shape, sizeof shape),
            dtype_name(tv->dtype), bytes, tv->operation);
    for (size_t i = 0; i < tv->n_sources; i++) fprintf(out, " %s", tv->sources[i]->u.source.path);
    fputc('\n', out);
    /* Where the value does not come from the inputs' tensors of this name
     * as they are: an input without it (untie's head is its embedding;
     * said outside the blocks only, as layers and stack renumber every
     * block tensor) or with another shape (cropped embeddings under
     * vocab = "crop"). */
    for (size_t i = 0; i < tv->n_sources; i++) {
        const Ckpt *c = tv->sources[i]->u.source.ckpt;
        const CkptTensor *ct = ckpt_find(c, t->name);
        char other[96];
        if (!ct && hfname_layer(t->name) < 0)
            fprintf(out, "    note: %s has no '%s'; its value comes from other tensors of it\n",
                    tv->sources[i]->u.source.path, t->name);
        else if (!shape_equal(&ct->shape, &t->shape))
            fprintf(out, "    note: %s has it as %s; cropped to %s\n", tv->sources[i]->u.source.path,
                    shape_format(&ct->shape, other, sizeof other), shape);
    }
}

static void text_peak(Renderer *rd, const PeakView *pk) {
    FILE *out = ((TextRenderer *)rd)->out;
    char one[32], all[32];
    units_bytes_text((uint64_t)pk->bytes, one, sizeof one);
    units_bytes_text((uint64_t)(pk->bytes * pk->threads), all, sizeof all);
    fprintf(out, "peak memory: about %s per tensor in flight (%s%s), x %d thread%s = %s", one, pk->tensor,
            pk->ranged ? ", a row range of it" : "", pk->threads, pk->threads == 1 ? "" : "s", all);
    /* Finished ranges of big tensors wait for the writer, up to a bound. */
    char queue[32];
    units_bytes_text((uint64_t)OUTPUT_QUEUE_BYTES, queue, sizeof queue);
    if (pk->ranged) fprintf(out, ", and up to %s of results waiting to be written", queue);
    fputc('\n', out);
}

int report_plan(Plan *p, FILE *out, int threads) {
    TextRenderer rd = { { text_save, text_tensor, text_peak }, out };
    return report_walk(p, threads, &rd.base);
}

/* ---- JSON --------------------------------------------------------------------- */

/* cJSON's adders tolerate a NULL parent or child, so one check of the
 * printed text (by the caller) covers every step. */
typedef struct JsonRenderer {
    Renderer base;
    cJSON *root;
    cJSON *outputs;            /* the "outputs" array */
    cJSON *tensors;            /* the current output's "tensors" array */
} JsonRenderer;

static void json_save(Renderer *rd, const SaveRequest *r, const TensorSet *set, uint64_t bytes) {
    JsonRenderer *jr = (JsonRenderer *)rd;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToArray(jr->outputs, o);
    cJSON_AddStringToObject(o, "path", r->path);
    cJSON_AddNumberToObject(o, "tensor_count", (double)set->n);
    cJSON_AddNumberToObject(o, "bytes", (double)bytes);
    cJSON_AddNumberToObject(o, "blocks", (double)set->n_layers);
    jr->tensors = cJSON_AddArrayToObject(o, "tensors");
}

static const char *how_name(RangesHow how) {
    switch (how) {
    case RANGES_SPLIT: return "row ranges";
    case RANGES_STREAM: return "streamed";
    case RANGES_WHOLE: break;
    }
    return "whole";
}

static void json_tensor(Renderer *rd, const TensorView *tv) {
    JsonRenderer *jr = (JsonRenderer *)rd;
    const TensorInfo *t = tv->info;
    cJSON *e = cJSON_CreateObject();
    cJSON_AddItemToArray(jr->tensors, e);
    cJSON_AddStringToObject(e, "name", t->name);
    cJSON *dims = cJSON_AddArrayToObject(e, "shape");
    for (int k = 0; k < t->shape.rank && dims; k++)
        cJSON_AddItemToArray(dims, cJSON_CreateNumber((double)t->shape.dims[k]));
    cJSON_AddStringToObject(e, "dtype", dtype_name(tv->dtype));
    cJSON_AddNumberToObject(e, "bytes", (double)shape_numel(&t->shape) * (double)dtype_size(tv->dtype));
    cJSON_AddStringToObject(e, "operation", tv->operation);
    cJSON *inputs = cJSON_AddArrayToObject(e, "inputs");
    for (size_t i = 0; i < tv->n_sources && inputs; i++)
        cJSON_AddItemToArray(inputs, cJSON_CreateString(tv->sources[i]->u.source.path));
    cJSON_AddStringToObject(e, "computed", how_name(tv->how.how));
    cJSON_AddNumberToObject(e, "parts", (double)tv->how.n_parts);
    cJSON_AddNumberToObject(e, "rows_per_part", (double)tv->how.rows_per_part);
    cJSON_AddNumberToObject(e, "memory_bytes", tv->memory);
}

static void json_peak(Renderer *rd, const PeakView *pk) {
    JsonRenderer *jr = (JsonRenderer *)rd;
    cJSON *o = cJSON_AddObjectToObject(jr->root, "peak_memory");
    cJSON_AddNumberToObject(o, "per_tensor_bytes", pk->bytes);
    if (pk->tensor[0]) cJSON_AddStringToObject(o, "tensor", pk->tensor);
    else cJSON_AddNullToObject(o, "tensor");
    cJSON_AddBoolToObject(o, "row_range", pk->ranged);
    cJSON_AddNumberToObject(o, "threads", pk->threads);
    cJSON_AddNumberToObject(o, "bytes", pk->bytes * pk->threads);
    cJSON_AddNumberToObject(o, "write_queue_bytes", pk->ranged ? (double)OUTPUT_QUEUE_BYTES : 0);
}

int report_plan_json(Plan *p, int threads, cJSON *root) {
    JsonRenderer rd = { { json_save, json_tensor, json_peak }, root, cJSON_AddArrayToObject(root, "outputs"), NULL };
    return report_walk(p, threads, &rd.base);
}
