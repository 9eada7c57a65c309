/* repl_show.c - how the REPL shows values: a model as a one-line summary
 * (never a dump), a one-tensor model (m["name"]) as its statistics and a
 * few values, per-tensor values, functions; and the facts behind :info.
 *
 * Showing a model with many tensors reads no tensor data: only a model of
 * one tensor is computed. Numbers are printed with %g-style formats and
 * sums are taken in float64 in a fixed order, so the same session prints
 * the same text on every machine. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/io/hfnames.h"
#include "interp/builtins/builtins.h"
#include "interp/repl/repl_int.h"

/* ---- graph helpers ---------------------------------------------------------- */

typedef struct Walk {
    bool *seen;
    int n_seen;
    bool (*visit)(const Node *n, void *ctx);
    void *ctx;
    bool stop;
} Walk;

static void walk_value(Walk *w, Value v);

static void walk_node(Walk *w, const Node *n) {
    if (w->stop) return;
    if (n->id >= 0 && n->id < w->n_seen) {
        if (w->seen[n->id]) return;
        w->seen[n->id] = true;
    }
    if (w->visit(n, w->ctx)) {
        w->stop = true;
        return;
    }
    switch (n->kind) {
    case N_SOURCE:
    case N_CONTEXT: break;
    case N_CALL:
        for (size_t i = 0; i < n->u.call.nargs; i++) walk_value(w, n->u.call.args[i]);
        break;
    case N_UNARY:
    case N_BINARY:
        walk_value(w, n->u.op.a);
        walk_value(w, n->u.op.b);
        break;
    case N_IF:
        walk_value(w, n->u.cond.cond);
        walk_value(w, n->u.cond.then_);
        walk_value(w, n->u.cond.else_);
        break;
    }
}

static void walk_value(Walk *w, Value v) {
    if (w->stop) return;
    if (val_is_lazy(v)) walk_node(w, v.u.node);
    else if (v.kind == V_LIST)
        for (size_t i = 0; i < v.u.list->n; i++) walk_value(w, v.u.list->items[i]);
}

void repl_walk(Repl *r, Value v, bool (*visit)(const Node *n, void *ctx), void *ctx) {
    Walk w = { .n_seen = r->plan.n_nodes, .visit = visit, .ctx = ctx };
    w.seen = calloc((size_t)(w.n_seen > 0 ? w.n_seen : 1), sizeof *w.seen);
    if (!w.seen) return;
    walk_value(&w, v);
    free(w.seen);
}

static bool find_model(const Node *n, void *ctx) {
    if (!n->set) return false;
    *(const Node **)ctx = n;
    return true;
}

Value repl_context_model(Repl *r, Value v) {
    const Node *found = NULL;
    repl_walk(r, v, find_model, &found);
    if (!found) return val_none();
    Value m = { .kind = V_MODEL, .u.node = (Node *)found };
    return m;
}

const char *repl_name_of(Repl *r, Value v) {
    if (!val_is_lazy(v)) return NULL;
    const Env *g = &r->plan.globals;
    for (size_t i = 0; i < g->n; i++)
        if (g->items[i].value.kind == v.kind && g->items[i].value.u.node == v.u.node) return g->items[i].name;
    return NULL;
}

static bool is_restriction(const Node *n) {
    if (n->kind != N_CALL || n->u.call.nargs == 0) return false;
    const char *b = n->u.call.bi->name;
    return strcmp(b, "select") == 0 || strcmp(b, "drop") == 0;
}

const TensorSet *repl_depth_set(Value m) {
    static const TensorSet none = { .main_module = -1 };
    if (m.kind != V_MODEL) return &none;
    const Node *n = m.u.node;
    while (is_restriction(n) && n->u.call.args[0].kind == V_MODEL) n = n->u.call.args[0].u.node;
    return n->set ? n->set : &none;
}

Value repl_force(Repl *r, Arena *a, Value v, const TensorInfo *info, const TensorSet *set) {
    Exec x;
    if (exec_init(&x, a, r->plan.n_nodes, info, set) != 0) {
        diag_plain(&r->diag, "out of memory computing tensor '%s'", info->name);
        return val_error();
    }
    Value out = exec_force(&x, v);
    if (x.failed) {
        if (x.fail_at.file) diag_error(&r->diag, x.fail_at, "tensor '%s': %s", info->name, x.fail_msg);
        else diag_plain(&r->diag, "tensor '%s': %s", info->name, x.fail_msg);
        return val_error();
    }
    return out;
}

/* ---- formatting --------------------------------------------------------------- */

void repl_tstats(const float *f, int64_t n, TStats *s) {
    s->sum = s->sumsq = 0;
    s->min = n > 0 ? f[0] : 0;
    s->max = n > 0 ? f[0] : 0;
    s->n = n;
    for (int64_t i = 0; i < n; i++) {
        double x = f[i];
        s->sum += x;
        s->sumsq += x * x;
        if (x < s->min) s->min = x;
        if (x > s->max) s->max = x;
    }
}

/* ---- one tensor ------------------------------------------------------------------- */

/* Element i of a pass-through (integer or bool) tensor, little-endian. */
static void print_raw(FILE *out, DType dt, const uint8_t *raw, int64_t i) {
    size_t sz = dtype_size(dt);
    const uint8_t *p = raw + (size_t)i * sz;
    uint64_t u = 0;
    for (size_t b = 0; b < sz && b < 8; b++) u |= (uint64_t)p[b] << (8 * b);
    switch (dt) {
    case DT_I8: fprintf(out, "%d", (int)(int8_t)u); break;
    case DT_I16: fprintf(out, "%d", (int)(int16_t)u); break;
    case DT_I32: fprintf(out, "%ld", (long)(int32_t)u); break;
    case DT_I64: fprintf(out, "%lld", (long long)(int64_t)u); break;
    case DT_BOOL: fputs(u ? "true" : "false", out); break;
    case DT_U8:
    case DT_U16:
    case DT_U32:
    case DT_U64: fprintf(out, "%llu", (unsigned long long)u); break;
    default: fprintf(out, "0x%llx", (unsigned long long)u); break;
    }
}

#define SHOW_HEAD 6
#define SHOW_TAIL 2

void repl_show_tensor(Repl *r, const char *name, const Tensor *t) {
    FILE *out = r->out;
    char shape[128], count[32];
    const char *dt = dtype_torch_name(t->dtype);
    fprintf(out, "%s: %s %s, %s values\n", name, shape_format(&t->shape, shape, sizeof shape),
            dt ? dt : dtype_st_name(t->dtype), units_count_text((uint64_t)t->numel, count, sizeof count));
    if (t->f && t->numel > 0) {
        TStats s;
        repl_tstats(t->f, t->numel, &s);
        double mean = s.sum / (double)s.n;
        double var = s.sumsq / (double)s.n - mean * mean;
        fprintf(out, "  norm %.6g  mean %.6g  std %.6g  min %.6g  max %.6g\n", sqrt(s.sumsq), mean,
                sqrt(var > 0 ? var : 0), s.min, s.max);
    }
    if (t->numel <= 0) return;
    fputs("  values [", out);
    for (int64_t i = 0; i < t->numel; i++) {
        if (t->numel > SHOW_HEAD + SHOW_TAIL && i == SHOW_HEAD) {
            fputs(", ...", out);
            i = t->numel - SHOW_TAIL;
        }
        if (i) fputs(", ", out);
        if (t->f) fprintf(out, "%.6g", (double)t->f[i]);
        else if (t->raw) print_raw(out, t->dtype, t->raw, i);
        else fputc('?', out);
    }
    fputs("]\n", out);
}

/* A model of one tensor (m["name"]): computed and shown. */
static void show_one_tensor(Repl *r, Value m) {
    const TensorInfo *info = &m.u.node->set->items[0];
    Arena a;
    arena_init(&a);
    Value t = repl_force(r, &a, m, info, repl_depth_set(m));
    if (t.kind == V_TENSOR) repl_show_tensor(r, info->name, t.u.tensor);
    else if (t.kind != V_ERROR) diag_plain(&r->diag, "tensor '%s' gave %s", info->name, val_kind_name(t.kind));
    arena_free(&a);
}

/* A per-tensor value: computed when it is about one tensor; otherwise it
 * would mean computing every tensor, which :stats does on request. */
static void show_lazy(Repl *r, Value v) {
    Value m = repl_context_model(r, v);
    if (m.kind == V_MODEL && m.u.node->set->n == 1) {
        const TensorInfo *info = &m.u.node->set->items[0];
        Arena a;
        arena_init(&a);
        Value s = repl_force(r, &a, v, info, repl_depth_set(m));
        if (s.kind != V_ERROR) {
            fprintf(r->out, "%s: ", info->name);
            if (s.kind == V_TENSOR) fputs("a tensor\n", r->out);
            else {
                val_print(s, r->out);
                fputc('\n', r->out);
            }
        }
        arena_free(&a);
        return;
    }
    if (m.kind == V_MODEL)
        fprintf(r->out, "<per-tensor value over %zu tensors: :stats shows it for each>\n", m.u.node->set->n);
    else
        fputs("<per-tensor value: it depends on the tensor being computed>\n", r->out);
}

static void show_function(Repl *r, const Closure *c) {
    const Ast *def = c->def;
    fprintf(r->out, "<function %s(", def->u.def.name);
    for (size_t i = 0; i < def->u.def.params.n; i++) {
        const Ast *p = def->u.def.params.items[i];
        if (i) fputs(", ", r->out);
        if (p->kind == AST_NAME) {
            fputs(p->u.name, r->out);
        } else {
            const SrcSpan *s = &p->u.bind.value->span;
            fprintf(r->out, "%s = ", p->u.bind.name);
            if (s->file) fwrite(s->file->text + s->start, 1, s->end - s->start, r->out);
        }
    }
    fputs(")>\n", r->out);
}

void repl_show_value(Repl *r, Value v) {
    switch (v.kind) {
    case V_MODEL:
        if (v.u.node->set && v.u.node->set->n == 1) show_one_tensor(r, v);
        else repl_model_summary(r, v, r->out);
        return;
    case V_LAZY: show_lazy(r, v); return;
    case V_FUNC: show_function(r, v.u.func); return;
    case V_BUILTIN: { char sig[BUILTIN_TEXT_MAX]; fprintf(r->out, "<built-in %s>\n", builtin_signature(v.u.builtin, sig, sizeof sig)); return; }
    default:
        val_print(v, r->out);
        fputc('\n', r->out);
        return;
    }
}

/* ---- model facts ----------------------------------------------------------------- */

typedef struct Facts {
    uint64_t params, bytes;
    size_t per_dtype[DT_COUNT];
    size_t outside;            /* tensors outside the blocks */
    size_t block0_tensors;
    uint64_t block0_params;
    char arch[256];
    const Node *sources[8];
    size_t n_sources;
} Facts;

static bool collect_source(const Node *n, void *ctx) {
    Facts *f = ctx;
    if (n->kind != N_SOURCE) return false;
    for (size_t i = 0; i < f->n_sources; i++)
        if (f->sources[i]->u.source.ckpt == n->u.source.ckpt) return false;
    if (f->n_sources < sizeof f->sources / sizeof f->sources[0]) f->sources[f->n_sources++] = n;
    return false;
}

/* "LlamaForCausalLM" from <dir>/config.json; false when there is none. */
static bool arch_from_config(const Ckpt *c, char *buf, size_t len) {
    if (!c || !c->dir) return false;
    size_t plen = strlen(c->dir) + sizeof "/config.json";
    char *path = malloc(plen);
    if (!path) return false;
    snprintf(path, plen, "%s/config.json", c->dir);
    FILE *in = fopen(path, "rb");
    free(path);
    if (!in) return false;
    char *text = malloc(1 << 20);
    size_t n = text ? fread(text, 1, 1 << 20, in) : 0;
    fclose(in);
    bool ok = false;
    cJSON *root = text ? cJSON_ParseWithLength(text, n) : NULL;
    free(text);
    if (root) {
        const cJSON *archs = cJSON_GetObjectItemCaseSensitive(root, "architectures");
        const cJSON *first = cJSON_IsArray(archs) ? cJSON_GetArrayItem(archs, 0) : NULL;
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(root, "model_type");
        const char *a = cJSON_IsString(first) ? first->valuestring : NULL;
        const char *t = cJSON_IsString(type) ? type->valuestring : NULL;
        if (a && t) snprintf(buf, len, "%s (%s)", a, t);
        else if (a || t) snprintf(buf, len, "%s", a ? a : t);
        ok = a || t;
        cJSON_Delete(root);
    }
    return ok;
}

/* A guess from the tensor names, for checkpoints without config.json. */
static const char *arch_from_names(const TensorSet *s) {
    static const struct { const char *needle, *label; } table[] = {
        { "block_sparse_moe.", "Mixtral-like mixture of experts" },
        { ".mlp.experts.", "mixture of experts" },
        { "self_attn.qkv_proj.", "Phi-3-like" },
        { "attn.c_attn.", "GPT-2-like" },
        { "gpt_neox.", "GPT-NeoX-like" },
        { "self_attention.query_key_value.", "BLOOM/Falcon-like" },
        { "transformer.blocks.", "MPT-like" },
        { "model.decoder.layers.", "OPT-like" },
        { "encoder.layer.", "BERT-like" },
        { "mlp.gate_proj.", "Llama-like (Llama, Mistral, Qwen)" },
    };
    for (size_t k = 0; k < sizeof table / sizeof table[0]; k++)
        for (size_t i = 0; i < s->n; i++)
            if (strstr(s->items[i].name, table[k].needle)) return table[k].label;
    return NULL;
}

static void model_facts(Repl *r, Value m, Facts *f) {
    memset(f, 0, sizeof *f);
    const TensorSet *s = m.u.node->set;
    long first_block = -1;
    for (size_t i = 0; i < s->n; i++) {
        const TensorInfo *t = &s->items[i];
        int64_t numel = shape_numel(&t->shape);
        uint64_t ne = numel > 0 ? (uint64_t)numel : 0;
        f->params += ne;
        f->bytes += ne * dtype_size(t->dtype);
        if (t->dtype < DT_COUNT) f->per_dtype[t->dtype]++;
        long l = hfname_layer(t->name);
        if (l < 0) f->outside++;
        else if (first_block < 0 || l < first_block) first_block = l;
    }
    for (size_t i = 0; i < s->n; i++) {
        if (first_block < 0 || hfname_layer(s->items[i].name) != first_block) continue;
        int64_t numel = shape_numel(&s->items[i].shape);
        f->block0_tensors++;
        f->block0_params += numel > 0 ? (uint64_t)numel : 0;
    }
    repl_walk(r, m, collect_source, f);
    bool have = false;
    for (size_t i = 0; i < f->n_sources && !have; i++)
        have = arch_from_config(f->sources[i]->u.source.ckpt, f->arch, sizeof f->arch);
    if (!have) {
        const char *g = arch_from_names(s);
        snprintf(f->arch, sizeof f->arch, "%s", g ? g : "unknown");
        if (g) strncat(f->arch, ", guessed from tensor names", sizeof f->arch - strlen(f->arch) - 1);
    }
}

static void print_dtypes(const Facts *f, const TensorSet *s, FILE *out, bool counts) {
    bool first = true;
    for (int d = 0; d < DT_COUNT; d++) {
        if (!f->per_dtype[d]) continue;
        const char *name = dtype_torch_name((DType)d);
        fprintf(out, "%s%s", first ? "" : ", ", name ? name : dtype_st_name((DType)d));
        if (counts || f->per_dtype[d] != s->n) fprintf(out, " (%zu)", f->per_dtype[d]);
        first = false;
    }
}

void repl_model_summary(Repl *r, Value m, FILE *out) {
    const TensorSet *s = m.u.node->set;
    Facts f;
    model_facts(r, m, &f);
    char params[32], bytes[32];
    fprintf(out, "model: %zu tensor%s, %ld layer%s, %s parameters, ", s->n, s->n == 1 ? "" : "s",
            s->n_layers, s->n_layers == 1 ? "" : "s", units_count_text(f.params, params, sizeof params));
    print_dtypes(&f, s, out, false);
    fprintf(out, ", %s, %s\n", units_bytes_text(f.bytes, bytes, sizeof bytes), f.arch);
}

void repl_model_info(Repl *r, Value m) {
    FILE *out = r->out;
    const TensorSet *s = m.u.node->set;
    Facts f;
    model_facts(r, m, &f);
    char a[32], b[32];
    fprintf(out, "tensors       %zu (%zu outside the blocks)\n", s->n, f.outside);
    fprintf(out, "layers        %ld\n", s->n_layers);
    if (f.block0_tensors)
        fprintf(out, "per layer     %zu tensors, %s parameters\n", f.block0_tensors,
                units_count_text(f.block0_params, a, sizeof a));
    fprintf(out, "parameters    %s\n", units_count_text(f.params, a, sizeof a));
    fputs("dtypes        ", out);
    print_dtypes(&f, s, out, true);
    fputc('\n', out);
    fprintf(out, "size          %s bytes (%s)\n", units_count_text(f.bytes, a, sizeof a),
            units_bytes_text(f.bytes, b, sizeof b));
    fprintf(out, "architecture  %s\n", f.arch);
    size_t *order = tset_natural_order(s);
    for (size_t i = 0; order && i < s->n; i++) {
        const TensorInfo *t = &s->items[order[i]];
        const char *role = hfname_is_embedding(t->name) ? "embedding" : hfname_is_head(t->name) ? "head" : NULL;
        if (!role) continue;
        char shape[96];
        fprintf(out, "%-13s %s %s\n", role, t->name, shape_format(&t->shape, shape, sizeof shape));
    }
    free(order);
    for (size_t i = 0; i < f.n_sources; i++) {
        const Node *n = f.sources[i];
        Value v = { .kind = V_MODEL, .u.node = (Node *)n };
        const char *name = repl_name_of(r, v);
        fprintf(out, "%-13s %s%smodel(\"%s\")\n", i == 0 ? "reads" : "", name ? name : "", name ? " = " : "",
                n->u.source.path);
    }
}
