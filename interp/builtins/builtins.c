/* builtins.c - the table of built-in functions, in one place, and the
 * argument helpers the built-in files share (builtins_int.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "runtime/kernels/gta.h"
#include "runtime/io/hfnames.h"
#include "interp/builtins/builtins_int.h"

/* ---- plan helpers ---------------------------------------------------------- */

Value bi_make_call(Plan *p, const Builtin *bi, Value *args, SrcSpan call, const TensorSet *set) {
    Node *n = plan_new_node(p, N_CALL, call);
    int np = builtin_n_params(bi);
    n->set = set;
    n->u.call.bi = bi;
    n->u.call.nargs = (size_t)np;
    n->u.call.args = plan_alloc(p, (size_t)np * sizeof(Value));
    memcpy(n->u.call.args, args, (size_t)np * sizeof(Value));
    Value v = { .kind = set ? V_MODEL : V_LAZY, .u.node = n };
    return v;
}

bool bi_expect_model(Plan *p, Value v, SrcSpan at, const char *what) {
    if (v.kind == V_MODEL) return true;
    plan_error(p, at, "%s must be a model, found %s", what, val_kind_name(v.kind));
    return false;
}

/* Every computable tensor of `first` must exist in m with the same shape.
 * Reports the first disagreement and how many more there are. */
bool bi_check_compatible(Plan *p, const Builtin *bi, const TensorSet *first, Value m,
                             SrcSpan at, const char *first_label, const char *label) {
    const TensorSet *s = m.u.node->set;
    size_t bad = 0;
    for (size_t i = 0; i < first->n; i++) {
        const TensorInfo *a = &first->items[i];
        if (!dtype_is_computable(a->dtype)) continue;
        const TensorInfo *b = tset_find(s, a->name);
        if (b && shape_equal(&a->shape, &b->shape)) continue;
        if (bad++ > 0) continue;
        if (!b) {
            plan_error(p, at, "%s(): %s has no tensor '%s', which %s has", bi->name, label, a->name,
                       first_label);
        } else {
            char sa[96], sb[96];
            plan_error(p, at, "%s(): tensor '%s' has shape %s in %s but %s in %s", bi->name, a->name,
                       shape_format(&a->shape, sa, sizeof sa), first_label,
                       shape_format(&b->shape, sb, sizeof sb), label);
        }
    }
    plan_hint_more_tensors(p, bad);
    return bad == 0;
}

/* A list of models. When `first` is given, each must match it. */
bool bi_expect_models(Plan *p, const Builtin *bi, Value v, SrcSpan at, const TensorSet *first,
                          const char *first_label) {
    if (v.kind != V_LIST) {
        plan_error(p, at, "%s() expects a list of models here, found %s", bi->name,
                   val_kind_name(v.kind));
        if (v.kind == V_MODEL) diag_hint(p->diag, "write a list even for one model: [m]");
        return false;
    }
    if (v.u.list->n == 0) {
        plan_error(p, at, "%s() needs at least one model", bi->name);
        return false;
    }
    for (size_t i = 0; i < v.u.list->n; i++) {
        char label[48];
        snprintf(label, sizeof label, "model %zu of the list", i + 1);
        if (v.u.list->items[i].kind != V_MODEL) {
            plan_error(p, at, "%s(): entry %zu of the list must be a model, found %s", bi->name, i + 1,
                       val_kind_name(v.u.list->items[i].kind));
            return false;
        }
        const TensorSet *ref = first ? first : v.u.list->items[0].u.node->set;
        const char *ref_label = first ? first_label : "model 1 of the list";
        if ((first || i > 0) && !bi_check_compatible(p, bi, ref, v.u.list->items[i], at, ref_label, label))
            return false;
    }
    return true;
}

static bool is_cropped_embedding(const TensorInfo *a, const TensorInfo *b) {
    return (hfname_is_embedding(a->name) || hfname_is_head(a->name)) && a->shape.rank == 2 &&
           b->shape.rank == 2 && b->shape.dims[0] >= a->shape.dims[0] &&
           b->shape.dims[1] >= a->shape.dims[1];
}

bool bi_expect_models_cropped(Plan *p, const Builtin *bi, Value v, SrcSpan at,
                              const TensorSet *first, const char *first_label) {
    if (v.kind != V_LIST || v.u.list->n == 0)
        return bi_expect_models(p, bi, v, at, first, first_label);
    for (size_t i = 0; i < v.u.list->n; i++) {
        Value m = v.u.list->items[i];
        if (m.kind != V_MODEL) return bi_expect_models(p, bi, v, at, first, first_label);
        size_t bad = 0;
        for (size_t t = 0; t < first->n; t++) {
            const TensorInfo *a = &first->items[t];
            if (!dtype_is_computable(a->dtype)) continue;
            const TensorInfo *b = tset_find(m.u.node->set, a->name);
            if (b && (shape_equal(&a->shape, &b->shape) || is_cropped_embedding(a, b))) continue;
            if (bad++ > 0) continue;
            char sa[96], sb[96];
            if (!b)
                plan_error(p, at, "%s(): model %zu of the list has no tensor '%s', which %s has",
                           bi->name, i + 1, a->name, first_label);
            else
                plan_error(p, at, "%s(): tensor '%s' has shape %s in %s but %s in model %zu of the list",
                           bi->name, a->name, shape_format(&a->shape, sa, sizeof sa), first_label,
                           shape_format(&b->shape, sb, sizeof sb), i + 1);
        }
        plan_hint_more_tensors(p, bad);
        if (bad) return false;
    }
    return true;
}

const TensorSet *bi_common_set(Plan *p, const Builtin *bi, const Value *models, size_t k,
                               SrcSpan at, bool embed_min) {
    const TensorSet *first = models[0].u.node->set;
    TensorInfo *items = NULL;  /* a copy, made once a shape is cropped */
    for (size_t i = 1; i < k; i++) {
        const TensorSet *s = models[i].u.node->set;
        size_t bad = 0;
        for (size_t t = 0; t < first->n; t++) {
            const TensorInfo *a = &first->items[t];
            if (!dtype_is_computable(a->dtype)) continue;
            const TensorInfo *b = tset_find(s, a->name);
            if (b && shape_equal(&a->shape, &b->shape)) continue;
            if (b && embed_min && a->shape.rank == 2 && b->shape.rank == 2 &&
                (hfname_is_embedding(a->name) || hfname_is_head(a->name))) {
                if (!items) {
                    items = plan_alloc(p, first->n * sizeof *items);
                    memcpy(items, first->items, first->n * sizeof *items);
                }
                for (int d = 0; d < 2; d++)
                    if (b->shape.dims[d] < items[t].shape.dims[d]) items[t].shape.dims[d] = b->shape.dims[d];
                continue;
            }
            if (bad++ > 0) continue;
            char sa[96], sb[96];
            if (!b)
                plan_error(p, at, "%s(): model %zu has no tensor '%s', which model 1 has", bi->name,
                           i + 1, a->name);
            else
                plan_error(p, at, "%s(): tensor '%s' has shape %s in model 1 but %s in model %zu",
                           bi->name, a->name, shape_format(&a->shape, sa, sizeof sa),
                           shape_format(&b->shape, sb, sizeof sb), i + 1);
        }
        plan_hint_more_tensors(p, bad);
        if (bad) return NULL;
    }
    if (!items) return first;
    TensorSet *set = plan_alloc(p, sizeof *set);
    *set = *first;
    set->items = items;
    return set;
}

int bi_param_index(const Builtin *bi, const char *pname) {
    for (int i = 0; i < BUILTIN_MAX_PARAMS && bi->params[i]; i++)
        if (strcmp(bi->params[i], pname) == 0) return i;
    return -1;
}

Value bi_arg(const Builtin *bi, Value *args, const char *pname) {
    int i = bi_param_index(bi, pname);
    return i >= 0 ? args[i] : val_none();
}

bool bi_str_is(Value v, const char *s) {
    return v.kind == V_STR && strlen(s) == v.u.str.len && memcmp(v.u.str.s, s, v.u.str.len) == 0;
}

bool bi_is_number_like(Value v) { return v.kind == V_NUM || v.kind == V_LAZY; }

/* A per-model parameter: none (default), one number for all, or a list
 * parallel to the models. Entries may be per-tensor values. */
bool bi_expect_per_model(Plan *p, Value v, size_t n_models, SrcSpan at, const char *pname) {
    if (v.kind == V_NONE || bi_is_number_like(v)) return true;
    if (v.kind == V_LIST) {
        if (v.u.list->n != n_models) {
            plan_error(p, at, "%s has %zu entr%s but there %s %zu model%s", pname, v.u.list->n,
                       v.u.list->n == 1 ? "y" : "ies", n_models == 1 ? "is" : "are", n_models,
                       n_models == 1 ? "" : "s");
            return false;
        }
        for (size_t i = 0; i < v.u.list->n; i++) {
            if (!bi_is_number_like(v.u.list->items[i])) {
                plan_error(p, at, "entry %zu of %s must be a number, found %s", i + 1, pname,
                           val_kind_name(v.u.list->items[i].kind));
                return false;
            }
        }
        return true;
    }
    plan_error(p, at, "%s must be a number or a list of numbers, found %s", pname,
               val_kind_name(v.kind));
    return false;
}

bool bi_expect_number(Plan *p, Value v, SrcSpan at, const char *pname) {
    if (bi_is_number_like(v)) return true;
    plan_error(p, at, "%s must be a number, found %s", pname, val_kind_name(v.kind));
    return false;
}

bool bi_expect_bool(Plan *p, Value v, SrcSpan at, const char *pname) {
    if (v.kind == V_BOOL || v.kind == V_LAZY) return true;
    plan_error(p, at, "%s must be true or false, found %s", pname, val_kind_name(v.kind));
    return false;
}

/* ---- exec helpers ---------------------------------------------------------------- */

bool bi_per_model_at(Exec *x, const Node *n, Value v, size_t i, double dflt, const char *pname,
                     double *out) {
    Value e = v.kind == V_LIST ? v.u.list->items[i] : v;
    if (e.kind == V_NONE) {
        *out = dflt;
        return true;
    }
    if (e.kind != V_NUM) {
        exec_fail(x, n->span, "%s must be a number, found %s", pname, val_kind_name(e.kind));
        return false;
    }
    *out = e.u.num;
    return true;
}

bool bi_weight_at(Exec *x, const Node *n, Value v, size_t i, double *out) {
    if (!bi_per_model_at(x, n, v, i, 1.0, "weights", out)) return false;
    *out = (double)(float)*out;
    return true;
}

bool bi_number_arg(Exec *x, const Node *n, Value v, const char *pname, double *out) {
    if (v.kind != V_NUM) {
        exec_fail(x, n->span, "%s must be a number, found %s", pname, val_kind_name(v.kind));
        return false;
    }
    /* A per-tensor number can be NaN or infinite (cos of a zero tensor,
     * 1 / (x - x)); no parameter means anything then, and seeds must also
     * convert to an integer without overflow. */
    if (!isfinite(v.u.num)) {
        exec_fail(x, n->span, "%s must be a finite number, found %g", pname, v.u.num);
        return false;
    }
    if ((strcmp(pname, "seed") == 0 || strcmp(pname, "stream") == 0) &&
        !(v.u.num >= 0 && v.u.num < 9007199254740992.0 && v.u.num == floor(v.u.num))) {
        exec_fail(x, n->span, "%s must be a whole number from 0 to 2^53, found %g", pname, v.u.num);
        return false;
    }
    *out = v.u.num;
    return true;
}

bool bi_bool_arg(Exec *x, const Node *n, Value v, bool dflt, const char *pname, bool *out) {
    if (v.kind == V_NONE) {
        *out = dflt;
        return true;
    }
    if (v.kind != V_BOOL) {
        exec_fail(x, n->span, "%s must be true or false, found %s", pname, val_kind_name(v.kind));
        return false;
    }
    *out = v.u.b;
    return true;
}

Value bi_tensor_value(Tensor *t) {
    Value v = { .kind = V_TENSOR, .u.tensor = t };
    return v;
}

/* Collects the float data of a forced list of tensors; integer tensors are
 * reported through *passthrough (the first one is returned unchanged). */
const Tensor *bi_crop_to(Exec *x, const Node *n, const Tensor *t, const Shape *shape) {
    if (shape_equal(&t->shape, shape)) return t;
    if (t->f && t->shape.rank == 2 && shape->rank == 2 && t->shape.dims[0] >= shape->dims[0] &&
        t->shape.dims[1] >= shape->dims[1]) {
        Tensor *r = exec_new_tensor(x, shape, t->dtype, n->span);
        if (!r) return NULL;
        int64_t rows = shape->dims[0], cols = shape->dims[1], in_cols = t->shape.dims[1];
        for (int64_t i = 0; i < rows; i++)
            for (int64_t j = 0; j < cols; j++) r->f[i * cols + j] = t->f[i * in_cols + j];
        return r;
    }
    char a[96], b[96];
    exec_fail(x, n->span, "tensor '%s': shape %s cannot be used where %s is needed", x->out->name,
              shape_format(&t->shape, a, sizeof a), shape_format(shape, b, sizeof b));
    return NULL;
}


/* ---- shared by the merge methods ------------------------------------------ */

/* ---- shared -------------------------------------------------------------------------------- */

/* The shape node n produces for the current tensor (its signature's). */
const Shape *bi_out_shape(Exec *x, const Node *n, const Tensor *fallback) {
    const TensorInfo *info = tset_find(n->set, x->out->name);
    Shape *s = arena_alloc(x->arena, sizeof *s);
    if (!s) return &fallback->shape;
    *s = exec_shape(x, info ? &info->shape : &fallback->shape);
    return s;
}

/* The float data of k forced tensors, each cropped to shape (embeddings of
 * different vocabulary sizes); NULL after recording a failure. */
const float **bi_gather(Exec *x, const Node *n, const Value *vals, size_t k, const Shape *shape) {
    const float **xs = arena_array(x->arena, k ? k : 1, sizeof *xs);
    if (!xs) {
        exec_fail(x, n->span, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < k; i++) {
        const Tensor *t = bi_crop_to(x, n, vals[i].u.tensor, shape);
        if (!t) return NULL;
        if (!t->f) {
            exec_fail(x, n->span, "%s(): tensor '%s' of model %zu is not a float tensor",
                      n->u.call.bi->name, x->out->name, i + 1);
            return NULL;
        }
        xs[i] = t->f;
    }
    return xs;
}

/* A list argument's items as an array, or one model as an array of one. */
const Value *bi_items_of(Value v, size_t *k) {
    if (v.kind == V_LIST) {
        *k = v.u.list->n;
        return v.u.list->items;
    }
    *k = 1;
    return NULL;
}

/* Plan-time check of a models list plus optional extra models (base first):
 * the result's signature, or NULL after an error. */
const TensorSet *bi_plan_models(Plan *p, const Builtin *bi, Value base, Value list, SrcSpan at,
                                    bool embed_min, size_t min_models, size_t max_models) {
    if (list.kind != V_LIST || list.u.list->n == 0)
        return bi_expect_models(p, bi, list, at, NULL, NULL), NULL;
    size_t k = list.u.list->n;
    for (size_t i = 0; i < k; i++) {
        if (list.u.list->items[i].kind != V_MODEL) {
            plan_error(p, at, "%s(): entry %zu of the list must be a model, found %s", bi->name, i + 1,
                       val_kind_name(list.u.list->items[i].kind));
            return NULL;
        }
    }
    if (k < min_models || k > max_models) {
        if (min_models == max_models)
            plan_error(p, at, "%s() takes exactly %zu models, found %zu", bi->name, min_models, k);
        else
            plan_error(p, at, "%s() needs at least %zu models, found %zu", bi->name, min_models, k);
        return NULL;
    }
    Value *all = plan_alloc(p, (k + 1) * sizeof *all);
    size_t n = 0;
    if (base.kind == V_MODEL) all[n++] = base;
    for (size_t i = 0; i < k; i++) all[n++] = list.u.list->items[i];
    return bi_common_set(p, bi, all, n, at, embed_min);
}

/* ---- the table ----------------------------------------------------------------------------- */

/* Sparsifier, consensus and defaults of the task-arithmetic family, as in
 * mergekit's registry. */
static const GtaMethod m_task_arithmetic = { SPARSIFY_NONE, GTA_CONSENSUS_NONE, false, false };
static const GtaMethod m_ties = { SPARSIFY_MAGNITUDE, GTA_CONSENSUS_SUM, true, false };
static const GtaMethod m_dare_ties = { SPARSIFY_RANDOM, GTA_CONSENSUS_SUM, false, true };
static const GtaMethod m_dare_linear = { SPARSIFY_RANDOM, GTA_CONSENSUS_NONE, false, true };
static const GtaMethod m_breadcrumbs = { SPARSIFY_OUTLIERS, GTA_CONSENSUS_NONE, false, false };
static const GtaMethod m_breadcrumbs_ties = { SPARSIFY_OUTLIERS, GTA_CONSENSUS_SUM, false, false };
static const GtaMethod m_della = { SPARSIFY_DELLA, GTA_CONSENSUS_SUM, true, true };
static const GtaMethod m_della_linear = { SPARSIFY_DELLA, GTA_CONSENSUS_NONE, false, true };

static const Builtin table[] = {
    { .name = "model", .params = { "path", "allow_nonfinite", NULL }, .n_required = 1,
      .plan = bi_plan_model, .exec = NULL,
      .signature = "model(path, allow_nonfinite=false): a safetensors file or a Hugging Face model "
                   "folder; NaN or infinity in its tensors is an error unless allowed" },
    { .name = "save", .params = { "model", "path", "dtype", "shard", "config", "tokenizer", NULL }, .n_required = 2,
      .plan = bi_plan_save, .exec = NULL,
      .signature = "save(model, path, dtype=none, shard=\"5GB\", config=none, tokenizer=none)" },
    { .name = "linear", .rowwise = true, .params = { "models", "weights", "normalize", NULL }, .n_required = 1,
      .plan = bi_plan_linear, .exec = bi_exec_linear,
      .signature = "linear(models, weights=1, normalize=true)" },
    { .name = "slerp", .stream = &slerp_stream, .params = { "a", "b", "t", NULL }, .n_required = 3,
      .plan = bi_plan_slerp, .exec = bi_exec_slerp,
      .signature = "slerp(a, b, t): t=0 gives a, t=1 gives b" },
    { .name = "task_arithmetic", .rowwise = true,
      .params = { "base", "models", "weights", "lambda", "normalize", NULL }, .n_required = 2,
      .plan = bi_plan_gta, .exec = bi_exec_gta, .info = &m_task_arithmetic,
      .signature = "task_arithmetic(base, models, weights=1, lambda=1, normalize=false)" },
    { .name = "ties", .stream = &gta_stream,
      .params = { "base", "models", "weights", "density", "lambda", "normalize", "rescale",
                  "consensus", "weighted_election", "divisor", "trim", NULL }, .n_required = 2,
      .plan = bi_plan_gta, .exec = bi_exec_gta, .info = &m_ties,
      .signature = "ties(base, models, weights=1, density=1, lambda=1, normalize=true, rescale=false, "
                   "consensus=\"sum\", weighted_election=true, divisor=\"weights\", trim=\"tensor\")" },
    { .name = "dare_ties", .stream = &gta_stream,
      .params = { "base", "models", "weights", "density", "lambda", "normalize", "rescale", "seed",
                  "consensus", "weighted_election", "divisor", NULL }, .n_required = 2,
      .plan = bi_plan_gta, .exec = bi_exec_gta, .info = &m_dare_ties,
      .signature = "dare_ties(base, models, weights=1, density=1, lambda=1, normalize=false, rescale=true, "
                   "seed=0, consensus=\"sum\", weighted_election=true, divisor=\"weights\")" },
    { .name = "dare_linear", .stream = &gta_stream,
      .params = { "base", "models", "weights", "density", "lambda", "normalize", "rescale", "seed",
                  NULL }, .n_required = 2,
      .plan = bi_plan_gta, .exec = bi_exec_gta, .info = &m_dare_linear,
      .signature = "dare_linear(base, models, weights=1, density=1, lambda=1, normalize=false, "
                   "rescale=true, seed=0)" },
    { .name = "breadcrumbs", .stream = &gta_stream,
      .params = { "base", "models", "weights", "density", "gamma", "lambda", "normalize", "rescale",
                  NULL }, .n_required = 2,
      .plan = bi_plan_gta, .exec = bi_exec_gta, .info = &m_breadcrumbs,
      .signature = "breadcrumbs(base, models, weights=1, density=1, gamma=0.01, lambda=1, "
                   "normalize=false, rescale=false)" },
    { .name = "breadcrumbs_ties", .stream = &gta_stream,
      .params = { "base", "models", "weights", "density", "gamma", "lambda", "normalize", "rescale",
                  "consensus", "weighted_election", "divisor", NULL }, .n_required = 2,
      .plan = bi_plan_gta, .exec = bi_exec_gta, .info = &m_breadcrumbs_ties,
      .signature = "breadcrumbs_ties(base, models, weights=1, density=1, gamma=0.01, lambda=1, "
                   "normalize=false, rescale=false, consensus=\"sum\", weighted_election=true, "
                   "divisor=\"weights\")" },
    { .name = "della", .stream = &gta_stream,
      .params = { "base", "models", "weights", "density", "epsilon", "lambda", "normalize", "rescale",
                  "seed", "consensus", "weighted_election", "divisor", NULL }, .n_required = 2,
      .plan = bi_plan_gta, .exec = bi_exec_gta, .info = &m_della,
      .signature = "della(base, models, weights=1, density=1, epsilon=0.15, lambda=1, normalize=true, "
                   "rescale=true, seed=0, consensus=\"sum\", weighted_election=true, divisor=\"weights\")" },
    { .name = "della_linear", .stream = &gta_stream,
      .params = { "base", "models", "weights", "density", "epsilon", "lambda", "normalize", "rescale",
                  "seed", NULL }, .n_required = 2,
      .plan = bi_plan_gta, .exec = bi_exec_gta, .info = &m_della_linear,
      .signature = "della_linear(base, models, weights=1, density=1, epsilon=0.15, lambda=1, "
                   "normalize=false, rescale=true, seed=0)" },
    { .name = "nuslerp",
      .params = { "models", "weights", "base", "nuslerp_flatten", "nuslerp_row_wise", NULL },
      .n_required = 1, .plan = bi_plan_nuslerp, .exec = bi_exec_nuslerp,
      .signature = "nuslerp(models, weights=1, base=none, nuslerp_flatten=true, nuslerp_row_wise=false): "
                   "two models, t = w2/(w1+w2)" },
    { .name = "multislerp",
      .params = { "models", "weights", "base", "normalize_weights", "eps", NULL }, .n_required = 1,
      .plan = bi_plan_multislerp, .exec = bi_exec_multislerp,
      .signature = "multislerp(models, weights=1, base=none, normalize_weights=true, eps=1e-8)" },
    { .name = "karcher", .params = { "models", "max_iter", "tol", NULL }, .n_required = 1,
      .plan = bi_plan_karcher, .exec = bi_exec_karcher,
      .signature = "karcher(models, max_iter=10, tol=1e-5)" },
    { .name = "model_stock", .params = { "base", "models", "filter_wise", NULL }, .n_required = 2,
      .plan = bi_plan_model_stock, .exec = bi_exec_model_stock,
      .signature = "model_stock(base, models, filter_wise=false): at least two models" },
    { .name = "nearswap", .rowwise = true, .params = { "base", "model", "t", NULL }, .n_required = 3,
      .plan = bi_plan_nearswap, .exec = bi_exec_nearswap,
      .signature = "nearswap(base, model, t)" },
    { .name = "sce", .params = { "base", "models", "select_topk", NULL }, .n_required = 2,
      .plan = bi_plan_sce, .exec = bi_exec_sce,
      .signature = "sce(base, models, select_topk=1)" },
    { .name = "ram", .params = { "base", "models", "epsilon", NULL }, .n_required = 2,
      .plan = bi_plan_ram, .exec = bi_exec_ram,
      .signature = "ram(base, models, epsilon=1e-5)" },
    { .name = "ramplus_tl", .params = { "base", "models", "epsilon", "r", "alpha", NULL },
      .n_required = 2, .plan = bi_plan_ram, .exec = bi_exec_ram,
      .signature = "ramplus_tl(base, models, epsilon=1e-5, r=0.1, alpha=0.2)" },
    { .name = "arcee_fusion", .params = { "base", "model", "seed", NULL }, .n_required = 2,
      .plan = bi_plan_arcee_fusion, .exec = bi_exec_arcee_fusion,
      .signature = "arcee_fusion(base, model, seed=0)" },
    { .name = "task_vectors", .params = { "base", "models", NULL }, .n_required = 2,
      .plan = bi_plan_task_vectors, .exec = NULL,
      .signature = "task_vectors(base, models): the list [m - base for each model]" },
    { .name = "prune_topk", .params = { "deltas", "density", "rescale", NULL }, .n_required = 2,
      .plan = bi_plan_sparsify, .exec = bi_exec_sparsify,
      .signature = "prune_topk(deltas, density, rescale=false): keep the largest-magnitude "
                   "floor(density*n) entries (TIES trim)" },
    { .name = "drop_random", .params = { "deltas", "density", "seed", "stream", "rescale", NULL },
      .n_required = 2, .plan = bi_plan_sparsify, .exec = bi_exec_sparsify,
      .signature = "drop_random(deltas, density, seed=0, stream=0, rescale=true): keep each entry "
                   "with probability density (DARE)" },
    { .name = "prune_outliers", .params = { "deltas", "density", "gamma", "rescale", NULL },
      .n_required = 2, .plan = bi_plan_sparsify, .exec = bi_exec_sparsify,
      .signature = "prune_outliers(deltas, density, gamma=0.01, rescale=false): drop the largest "
                   "gamma and the smallest entries (breadcrumbs)" },
    { .name = "drop_della",
      .params = { "deltas", "density", "epsilon", "seed", "stream", "rescale", NULL }, .n_required = 2,
      .plan = bi_plan_sparsify, .exec = bi_exec_sparsify,
      .signature = "drop_della(deltas, density, epsilon=0.15, seed=0, stream=0, rescale=true): "
                   "magnitude-ranked random drop (DELLA)" },
    { .name = "elect_sign", .rowwise = true,
      .params = { "deltas", "weights", "consensus", "weighted_election", NULL }, .n_required = 1,
      .plan = bi_plan_consensus, .exec = bi_exec_consensus,
      .signature = "elect_sign(deltas, weights=1, consensus=\"sum\", weighted_election=true): "
                   "the TIES sign election as a model of +1/-1" },
    { .name = "disjoint_merge", .rowwise = true,
      .params = { "base", "deltas", "weights", "consensus", "normalize", "lambda", "weighted_election",
                  "divisor", NULL }, .n_required = 2,
      .plan = bi_plan_consensus, .exec = bi_exec_consensus,
      .signature = "disjoint_merge(base, deltas, weights=1, consensus=\"sum\", normalize=true, "
                   "lambda=1, weighted_election=true, divisor=\"weights\")" },
    { .name = "select", .rowwise = true, .params = { "model", "pattern", "mode", NULL }, .n_required = 2,
      .plan = bi_plan_select, .exec = bi_exec_select,
      .signature = "select(model, pattern, mode=\"substring\"): the tensors whose names match "
                   "(mode \"glob\", \"regex\" or \"exact\" too)" },
    { .name = "drop", .rowwise = true, .params = { "model", "pattern", "mode", NULL }, .n_required = 2,
      .plan = bi_plan_drop, .exec = bi_exec_drop,
      .signature = "drop(model, pattern, mode=\"substring\"): the tensors whose names do not match" },
    { .name = "rename", .rowwise = true, .new_frame = true, .params = { "model", "from", "to", NULL }, .n_required = 3,
      .plan = bi_plan_rename, .exec = bi_exec_rename, .lazy_args = true,
      .signature = "rename(model, from, to): every occurrence of the string from in the names becomes to" },
    { .name = "glob", .rowwise = true, .params = { "text", "pattern", NULL }, .n_required = 2,
      .plan = bi_plan_glob, .exec = bi_exec_glob,
      .signature = "glob(text, pattern): shell-style match, e.g. glob(name, \"*.layers.1?.*\")" },
    { .name = "regex", .rowwise = true, .params = { "text", "pattern", NULL }, .n_required = 2,
      .plan = bi_plan_regex, .exec = bi_exec_regex,
      .signature = "regex(text, pattern): POSIX extended regular expression search" },
    { .name = "len", .params = { "x", NULL }, .n_required = 1, .plan = bi_plan_len,
      .signature = "len(x): items of a list, bytes of a string, tensors of a model" },
    { .name = "range", .params = { "a", "b", NULL }, .n_required = 1, .plan = bi_plan_range,
      .signature = "range(n) = [0, ..., n-1]; range(a, b) = [a, ..., b-1]" },
    { .name = "map", .params = { "f", "xs", NULL }, .n_required = 2, .plan = bi_plan_map,
      .signature = "map(f, xs) = [f(x) for each x in xs]" },
    { .name = "zip", .params = { "xs", "ys", NULL }, .n_required = 2, .plan = bi_plan_zip,
      .signature = "zip(xs, ys) = [[x0, y0], [x1, y1], ...]" },
    { .name = "sum", .params = { "xs", NULL }, .n_required = 1, .plan = bi_plan_sum,
      .signature = "sum(xs): numbers or models added left to right (0 for an empty list)" },
    { .name = "assert", .rowwise = true, .params = { "cond", "message", NULL }, .n_required = 1,
      .plan = bi_plan_assert, .exec = bi_exec_assert,
      .signature = "assert(cond, message=none): an error when cond is false (per tensor when "
                   "cond depends on it); the value is true" },
    { .name = "lora", .rowwise = true, .params = { "base", "adapter", "scale", NULL }, .n_required = 2,
      .plan = bi_plan_lora, .exec = bi_exec_lora,
      .signature = "lora(base, \"adapter_dir\", scale=1): a PEFT LoRA adapter applied, "
                   "W + scale * alpha/r * B @ A" },
    { .name = "fisher", .rowwise = true, .lazy_args = true,
      .params = { "models", "fishers", "weights", "eps", NULL }, .n_required = 2,
      .plan = bi_plan_fisher, .exec = bi_exec_fisher,
      .signature = "fisher(models, fishers, weights=1, eps=1e-8): Fisher-weighted average; "
                   "fishers[i] holds models[i]'s diagonal Fisher information" },
    /* Not row-wise: a row of the result is another row of m. Lazy: m and
     * to are forced for other tensor names to build the matching. */
    { .name = "align", .lazy_args = true, .params = { "m", "to", "heads", "kv_heads", "attention", NULL },
      .n_required = 2, .plan = bi_plan_align, .exec = bi_exec_align,
      .signature = "align(m, to, heads=none, kv_heads=none, attention=true): m with its MLP units and "
                   "attention heads permuted to match to (Git Re-Basin weight matching)" },
    { .name = "gradient", .rowwise = true, .params = { "values", NULL }, .n_required = 1,
      .plan = bi_plan_gradient, .exec = bi_exec_gradient,
      .signature = "gradient([v0, ..., vk]): piecewise linear in layer / (n_layers - 1)" },
    { .name = "layers", .rowwise = true, .new_frame = true, .params = { "model", "from", "to", NULL }, .n_required = 3,
      .plan = bi_plan_layers, .exec = bi_exec_layers,
      .lazy_args = true,
      .signature = "layers(model, from, to): blocks from .. to-1, renumbered from 0" },
    { .name = "stack", .rowwise = true, .new_frame = true, .params = { "*slices", NULL }, .n_required = 1,
      .plan = bi_plan_stack, .exec = bi_exec_stack,
      .lazy_args = true,
      .signature = "stack(s1, s2, ...): the slices' blocks one after another" },
    { .name = "norm", .params = { "model", NULL }, .n_required = 1,
      .plan = bi_plan_norm, .exec = bi_exec_norm,
      .signature = "norm(m): L2 norm of the tensor (a number per tensor)" },
    { .name = "mean", .params = { "model", NULL }, .n_required = 1,
      .plan = bi_plan_mean, .exec = bi_exec_mean,
      .signature = "mean(m): mean of the tensor's entries" },
    { .name = "std", .params = { "model", NULL }, .n_required = 1,
      .plan = bi_plan_std, .exec = bi_exec_std,
      .signature = "std(m): population standard deviation of the tensor's entries" },
    { .name = "dot", .params = { "a", "b", NULL }, .n_required = 2,
      .plan = bi_plan_dot, .exec = bi_exec_dot,
      .signature = "dot(a, b): inner product of the two tensors" },
    { .name = "cos", .params = { "a", "b", NULL }, .n_required = 2,
      .plan = bi_plan_cos, .exec = bi_exec_cos,
      .signature = "cos(a, b): cosine similarity of the two tensors (0 if either is zero)" },
    { .name = "abs", .rowwise = true, .params = { "model", NULL }, .n_required = 1,
      .plan = bi_plan_abs, .exec = bi_exec_abs,
      .signature = "abs(m): element-wise absolute value" },
    { .name = "sign", .rowwise = true, .params = { "model", NULL }, .n_required = 1,
      .plan = bi_plan_sign, .exec = bi_exec_sign,
      .signature = "sign(m): element-wise -1, 0 or 1" },
    { .name = "clamp", .rowwise = true, .params = { "model", "lo", "hi", NULL }, .n_required = 3,
      .plan = bi_plan_clamp, .exec = bi_exec_clamp,
      .signature = "clamp(m, lo, hi): element-wise clamp" },
    { .name = "where", .rowwise = true, .params = { "mask", "a", "b", NULL }, .n_required = 3,
      .plan = bi_plan_where, .exec = bi_exec_where,
      .signature = "where(mask, a, b): a where mask is nonzero, else b (models or numbers)" },
};

const BuiltinTable builtin_table = { table, sizeof table / sizeof table[0] };

const Builtin *builtin_find(const char *name) { return builtin_table_find(&builtin_table, name); }

size_t builtin_count(void) { return builtin_table.n; }

const Builtin *builtin_at(size_t i) { return i < builtin_table.n ? &table[i] : NULL; }
