/* builtins.c - the registry of built-in functions: one row per built-in
 * with its parameters and their defaults, kind, doc line, paper and plan
 * and exec halves (builtin_api.h says what a row holds); and the argument
 * helpers the built-in files share (builtins_int.h), among them the exec
 * readers that take a default from the row. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "runtime/kernels/gta.h"
#include "runtime/io/hfnames.h"
#include "interp/builtins/builtins_int.h"

/* ---- plan helpers ---------------------------------------------------------- */

static void bi_warning(Plan *p, SrcSpan at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void bi_warning(Plan *p, SrcSpan at, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    diag_vwarning(p->diag, at, fmt, ap);
    va_end(ap);
}


/* After "model 2 has no tensor 'lm_head.weight'": a model without a head
 * is usually tied, and untie() is how to merge it with untied ones. */
static void missing_head_hint(Plan *p, const char *name) {
    if (hfname_is_head(name))
        diag_hint(p->diag, "a model without a head has it tied to its embedding: write untie(m) for it, as "
                           "mergekit reads it");
}

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
            missing_head_hint(p, a->name);
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

/* The tensors of a merge's other model m that its first model lacks: the
 * merge writes the first model's tensors only, so these are said rather
 * than dropped silently. A head the first model lacks while having an
 * embedding is a tied head (config.json's tie_word_embeddings); merging it
 * with an untied one would leave the output without a head, so that is an
 * error. Returns false after reporting an error. */
bool bi_check_extra(Plan *p, const Builtin *bi, const TensorSet *first, const TensorSet *m, SrcSpan at,
                    const char *first_label, const char *label) {
    size_t extra = 0;
    const char *first_extra = NULL;
    bool has_embedding = false;
    for (size_t t = 0; t < first->n; t++)
        if (hfname_is_embedding(first->items[t].name)) has_embedding = true;
    for (size_t t = 0; t < m->n; t++) {
        const TensorInfo *b = &m->items[t];
        if (!dtype_is_computable(b->dtype) || tset_find(first, b->name)) continue;
        if (hfname_is_head(b->name) && has_embedding) {
            diag_error(p->diag, at, "%s(): %s has a head '%s' but %s has none (its head is tied to its "
                       "embedding)", bi->name, label, b->name, first_label);
            diag_hint(p->diag, "write untie(m) for the tied model: its embedding becomes its head, as "
                               "mergekit reads it");
            return false;
        }
        if (extra++ == 0) first_extra = b->name;
    }
    if (extra)
        bi_warning(p, at, "%s(): %zu tensor%s of %s (first '%s') %s not in %s and %s not written", bi->name,
                      extra, extra == 1 ? "" : "s", label, first_extra, extra == 1 ? "is" : "are", first_label,
                      extra == 1 ? "is" : "are");
    return true;
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
        if ((first || i > 0) && (!bi_check_compatible(p, bi, ref, v.u.list->items[i], at, ref_label, label) ||
                                 !bi_check_extra(p, bi, ref, v.u.list->items[i].u.node->set, at, ref_label, label)))
            return false;
    }
    return true;
}

BiVocab bi_vocab_rule(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp) {
    int at = bi_param_index(bi, "vocab");
    if (at < 0) return BI_VOCAB_NONE;
    Value v = bi_arg_or_default(bi, args, "vocab");
    if (bi_str_is(v, "same")) return BI_VOCAB_SAME;
    if (bi_str_is(v, "crop")) return BI_VOCAB_CROP;
    plan_error(p, sp[at], "vocab must be \"same\" or \"crop\", found %s",
               v.kind == V_STR ? "another string" : val_kind_name(v.kind));
    return BI_VOCAB_ERROR;
}

/* A 2-D embedding or head tensor in both: the tensors a vocabulary
 * difference shows in. */
static bool is_vocab_pair(const TensorInfo *a, const TensorInfo *b) {
    return (hfname_is_embedding(a->name) || hfname_is_head(a->name)) && a->shape.rank == 2 &&
           b->shape.rank == 2;
}

/* Only the rows differ: two vocabularies, not two architectures. */
static bool is_vocab_difference(const TensorInfo *a, const TensorInfo *b) {
    return is_vocab_pair(a, b) && a->shape.dims[1] == b->shape.dims[1];
}

/* The error for a vocabulary difference under vocab = "same": what differs
 * and how to resolve it. */
static void vocab_error(Plan *p, const Builtin *bi, SrcSpan at, const TensorInfo *a, const char *a_label,
                        const TensorInfo *b, const char *b_label, const char *crop_to) {
    plan_error(p, at, "%s(): %s has a vocabulary of %lld rows, %s %lld (tensor '%s')", bi->name, b_label,
               (long long)b->shape.dims[0], a_label, (long long)a->shape.dims[0], a->name);
    diag_hint(p->diag,
              "pass vocab = \"crop\" (crop embeddings and heads to %s, as mergekit does without a tokenizer "
              "source) or use models with the same tokenizer",
              crop_to);
}

static bool is_cropped_embedding(const TensorInfo *a, const TensorInfo *b) {
    return is_vocab_pair(a, b) && b->shape.dims[0] >= a->shape.dims[0] && b->shape.dims[1] >= a->shape.dims[1];
}

bool bi_expect_models_cropped(Plan *p, const Builtin *bi, Value v, SrcSpan at,
                              const TensorSet *first, const char *first_label, BiVocab vocab) {
    if (vocab == BI_VOCAB_ERROR) return false;
    if (v.kind != V_LIST || v.u.list->n == 0)
        return bi_expect_models(p, bi, v, at, first, first_label);
    for (size_t i = 0; i < v.u.list->n; i++) {
        Value m = v.u.list->items[i];
        if (m.kind != V_MODEL) return bi_expect_models(p, bi, v, at, first, first_label);
        size_t bad = 0;
        char label[48];
        snprintf(label, sizeof label, "model %zu of the list", i + 1);
        for (size_t t = 0; t < first->n; t++) {
            const TensorInfo *a = &first->items[t];
            if (!dtype_is_computable(a->dtype)) continue;
            const TensorInfo *b = tset_find(m.u.node->set, a->name);
            if (b && shape_equal(&a->shape, &b->shape)) continue;
            if (b && vocab == BI_VOCAB_CROP && is_cropped_embedding(a, b)) {
                char sa[96], sb[96];
                bi_warning(p, at, "%s(): tensor '%s' of %s cropped from %s to %s, %s's (vocab = \"crop\")",
                              bi->name, a->name, label, shape_format(&b->shape, sb, sizeof sb),
                              shape_format(&a->shape, sa, sizeof sa), first_label);
                continue;
            }
            if (bad++ > 0) continue;
            char sa[96], sb[96];
            if (!b) {
                plan_error(p, at, "%s(): %s has no tensor '%s', which %s has", bi->name, label, a->name,
                           first_label);
                missing_head_hint(p, a->name);
            } else if (vocab == BI_VOCAB_SAME && is_cropped_embedding(a, b) && is_vocab_difference(a, b))
                vocab_error(p, bi, at, a, first_label, b, label, first_label);
            else
                plan_error(p, at, "%s(): tensor '%s' has shape %s in %s but %s in %s", bi->name, a->name,
                           shape_format(&a->shape, sa, sizeof sa), first_label,
                           shape_format(&b->shape, sb, sizeof sb), label);
        }
        plan_hint_more_tensors(p, bad);
        if (bad || !bi_check_extra(p, bi, first, m.u.node->set, at, first_label, label)) return false;
    }
    return true;
}

const TensorSet *bi_common_set(Plan *p, const Builtin *bi, const Value *models, size_t k,
                               SrcSpan at, BiVocab vocab) {
    if (vocab == BI_VOCAB_ERROR) return NULL;
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
            if (b && vocab == BI_VOCAB_CROP && is_vocab_pair(a, b)) {
                if (!items) {
                    items = plan_alloc(p, first->n * sizeof *items);
                    memcpy(items, first->items, first->n * sizeof *items);
                }
                for (int d = 0; d < 2; d++)
                    if (b->shape.dims[d] < items[t].shape.dims[d]) items[t].shape.dims[d] = b->shape.dims[d];
                continue;
            }
            if (bad++ > 0) continue;
            char sa[96], sb[96], label[32];
            snprintf(label, sizeof label, "model %zu", i + 1);
            if (!b) {
                plan_error(p, at, "%s(): model %zu has no tensor '%s', which model 1 has", bi->name,
                           i + 1, a->name);
                missing_head_hint(p, a->name);
            } else if (vocab == BI_VOCAB_SAME && is_vocab_difference(a, b))
                vocab_error(p, bi, at, a, "model 1", b, label, "the smallest");
            else
                plan_error(p, at, "%s(): tensor '%s' has shape %s in model 1 but %s in model %zu",
                           bi->name, a->name, shape_format(&a->shape, sa, sizeof sa),
                           shape_format(&b->shape, sb, sizeof sb), i + 1);
        }
        plan_hint_more_tensors(p, bad);
        if (bad) return NULL;
        char label[32];
        snprintf(label, sizeof label, "model %zu", i + 1);
        if (!bi_check_extra(p, bi, first, s, at, "model 1", label)) return NULL;
    }
    if (!items) return first;
    /* Said once per cropped tensor, so `plan` and `check` show the crop. */
    for (size_t t = 0; t < first->n; t++) {
        if (shape_equal(&items[t].shape, &first->items[t].shape)) {
            bool all_same = true;
            for (size_t i = 1; i < k && all_same; i++) {
                const TensorInfo *b = tset_find(models[i].u.node->set, items[t].name);
                all_same = b && shape_equal(&b->shape, &items[t].shape);
            }
            if (all_same) continue;
        }
        char so[96];
        bi_warning(p, at, "%s(): tensor '%s' cropped to %s, the smallest of the models (vocab = \"crop\")",
                      bi->name, items[t].name, shape_format(&items[t].shape, so, sizeof so));
    }
    TensorSet *set = plan_alloc(p, sizeof *set);
    *set = *first;
    set->items = items;
    return set;
}

int bi_param_index(const Builtin *bi, const char *pname) { return builtin_param_index(bi, pname); }

Value bi_arg(const Builtin *bi, Value *args, const char *pname) {
    int i = bi_param_index(bi, pname);
    return i >= 0 ? args[i] : val_none();
}

Value bi_arg_or_default(const Builtin *bi, Value *args, const char *pname) {
    int i = bi_param_index(bi, pname);
    Value v = i >= 0 ? args[i] : val_none();
    if (v.kind == V_NONE && i >= 0 && bi->params[i].dflt && !builtin_default_value(bi->params[i].dflt, &v))
        v = val_none();
    return v;
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

/* The default of parameter pname of n's built-in, from its registry row,
 * when it is of kind want. */
static bool default_of(Exec *x, const Node *n, const char *pname, ValKind want, Value *out) {
    const Builtin *bi = n->u.call.bi;
    int i = builtin_param_index(bi, pname);
    if (i >= 0 && builtin_default_value(bi->params[i].dflt, out) && out->kind == want) return true;
    exec_fail(x, n->span, "internal error: %s() has no default %s for '%s'", bi->name, val_kind_name(want),
              pname);
    return false;
}

bool bi_per_model_at(Exec *x, const Node *n, Value v, size_t i, const char *pname, double *out) {
    Value e = v.kind == V_LIST ? v.u.list->items[i] : v;
    if (e.kind == V_NONE && !default_of(x, n, pname, V_NUM, &e)) return false;
    if (e.kind != V_NUM) {
        exec_fail(x, n->span, "%s must be a number, found %s", pname, val_kind_name(e.kind));
        return false;
    }
    *out = e.u.num;
    return true;
}

bool bi_weight_at(Exec *x, const Node *n, Value v, size_t i, double *out) {
    if (!bi_per_model_at(x, n, v, i, "weights", out)) return false;
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

bool bi_number_param(Exec *x, const Node *n, Value v, const char *pname, double *out) {
    if (v.kind == V_NONE && !default_of(x, n, pname, V_NUM, &v)) return false;
    return bi_number_arg(x, n, v, pname, out);
}

bool bi_bool_param(Exec *x, const Node *n, Value v, const char *pname, bool *out) {
    if (v.kind == V_NONE && !default_of(x, n, pname, V_BOOL, &v)) return false;
    if (v.kind != V_BOOL) {
        exec_fail(x, n->span, "%s must be true or false, found %s", pname, val_kind_name(v.kind));
        return false;
    }
    *out = v.u.b;
    return true;
}

Value bi_choice_param(Exec *x, const Node *n, Value v, const char *pname) {
    if (v.kind == V_NONE && !default_of(x, n, pname, V_STR, &v)) return val_error();
    if (v.kind != V_STR) return exec_fail(x, n->span, "%s must be a string, found %s", pname, val_kind_name(v.kind));
    return v;
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
                                    BiVocab vocab, size_t min_models, size_t max_models) {
    if (vocab == BI_VOCAB_ERROR) return NULL;
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
    return bi_common_set(p, bi, all, n, at, vocab);
}

/* ---- the table ----------------------------------------------------------------------------- */

/* Sparsifier and consensus of the task-arithmetic family, as in mergekit's
 * registry; their defaults are the rows' parameters. */
static const GtaMethod m_task_arithmetic = { SPARSIFY_NONE, GTA_CONSENSUS_NONE };
static const GtaMethod m_ties = { SPARSIFY_MAGNITUDE, GTA_CONSENSUS_SUM };
static const GtaMethod m_dare_ties = { SPARSIFY_RANDOM, GTA_CONSENSUS_SUM };
static const GtaMethod m_dare_linear = { SPARSIFY_RANDOM, GTA_CONSENSUS_NONE };
static const GtaMethod m_breadcrumbs = { SPARSIFY_OUTLIERS, GTA_CONSENSUS_NONE };
static const GtaMethod m_breadcrumbs_ties = { SPARSIFY_OUTLIERS, GTA_CONSENSUS_SUM };
static const GtaMethod m_della = { SPARSIFY_DELLA, GTA_CONSENSUS_SUM };
static const GtaMethod m_della_linear = { SPARSIFY_DELLA, GTA_CONSENSUS_NONE };

/* A parameter without a default: a call must give it. The others are
 * written { "name", "default as recipe text" }. */
#define REQUIRED(n) { .name = n, .dflt = NULL }

/* Parameters every method of the task-arithmetic family starts with. */
#define GTA_HEAD REQUIRED("base"), REQUIRED("models"), { "weights", "1" }, { "density", "1" }
/* Methods mergekit crops embeddings for take `vocab` (BiVocab). */
#define VOCAB_OPTION { "vocab", "\"same\"" }
#define TIES_OPTIONS { "consensus", "\"sum\"" }, { "weighted_election", "true" }, { "divisor", "\"weights\"" }

/* The registry: one row per built-in, in the order help lists them (see
 * interp/README.md, "Adding a built-in"). */
static const Builtin table[] = {
    /* ---- reading and writing ---- */
    { .name = "model", .kind = BK_IO,
      .params = { REQUIRED("path"), { "allow_nonfinite", "false" } },
      .doc = "a safetensors file or a Hugging Face model folder; NaN or infinity in its tensors is an "
             "error unless allowed",
      .plan = bi_plan_model },
    { .name = "save", .kind = BK_IO,
      .params = { REQUIRED("model"), REQUIRED("path"), { "dtype", "none" }, { "shard", "\"5GB\"" },
                  { "config", "none" }, { "tokenizer", "none" }, { "allow_crimes", "false" } },
      .doc = "writes model to the folder path: shards and index, config.json and tokenizer files from "
             "the models given, a model card, the recipe, provenance hashes; models of different "
             "architectures merged into it are an error unless allow_crimes",
      .plan = bi_plan_save },

    /* ---- merge methods ---- */
    { .name = "linear", .kind = BK_METHOD, .rowwise = true,
      .params = { REQUIRED("models"), { "weights", "1" }, { "normalize", "true" }, VOCAB_OPTION },
      .doc = "the weighted sum of the models, divided by the sum of the weights when normalize",
      .paper = "Model Soups (Wortsman et al., ICML 2022, arXiv:2203.05482)",
      .plan = bi_plan_linear, .exec = bi_exec_linear },
    { .name = "slerp", .kind = BK_METHOD, .stream = &slerp_stream,
      .params = { REQUIRED("a"), REQUIRED("b"), REQUIRED("t"), VOCAB_OPTION },
      .doc = "spherical interpolation of two models: t=0 gives a, t=1 gives b",
      .paper = "spherical linear interpolation (Shoemake 1985)",
      .plan = bi_plan_slerp, .exec = bi_exec_slerp },
    { .name = "task_arithmetic", .kind = BK_METHOD, .rowwise = true, .info = &m_task_arithmetic,
      .params = { REQUIRED("base"), REQUIRED("models"), { "weights", "1" }, { "lambda", "1" },
                  { "normalize", "false" }, VOCAB_OPTION },
      .doc = "the base plus lambda times the weighted sum of the task vectors (model - base)",
      .paper = "Editing Models with Task Arithmetic (Ilharco et al., ICLR 2023, arXiv:2212.04089)",
      .plan = bi_plan_gta, .exec = bi_exec_gta },
    { .name = "ties", .kind = BK_METHOD, .stream = &gta_stream, .info = &m_ties,
      .params = { GTA_HEAD, { "lambda", "1" }, { "normalize", "true" }, { "rescale", "false" }, TIES_OPTIONS,
                  { "trim", "\"tensor\"" }, VOCAB_OPTION },
      .doc = "task vectors trimmed to their largest entries, a sign elected per entry, the agreeing "
             "entries merged",
      .paper = "TIES-Merging (Yadav et al., NeurIPS 2023, arXiv:2306.01708)",
      .plan = bi_plan_gta, .exec = bi_exec_gta },
    { .name = "dare_ties", .kind = BK_METHOD, .stream = &gta_stream, .info = &m_dare_ties,
      .params = { GTA_HEAD, { "lambda", "1" }, { "normalize", "false" }, { "rescale", "true" }, { "seed", "0" },
                  TIES_OPTIONS, VOCAB_OPTION },
      .doc = "task vectors with entries dropped at random and rescaled, then the TIES sign election",
      .paper = "DARE (Yu et al., ICML 2024, arXiv:2311.03099) with TIES sign consensus",
      .plan = bi_plan_gta, .exec = bi_exec_gta },
    { .name = "dare_linear", .kind = BK_METHOD, .stream = &gta_stream, .info = &m_dare_linear,
      .params = { GTA_HEAD, { "lambda", "1" }, { "normalize", "false" }, { "rescale", "true" }, { "seed", "0" },
                  VOCAB_OPTION },
      .doc = "task vectors with entries dropped at random and rescaled, added with their weights",
      .paper = "DARE (Yu et al., ICML 2024, arXiv:2311.03099)",
      .plan = bi_plan_gta, .exec = bi_exec_gta },
    { .name = "breadcrumbs", .kind = BK_METHOD, .stream = &gta_stream, .info = &m_breadcrumbs,
      .params = { GTA_HEAD, { "gamma", "0.01" }, { "lambda", "1" }, { "normalize", "false" },
                  { "rescale", "false" }, VOCAB_OPTION },
      .doc = "task vectors without their largest (gamma) and smallest entries, added with their weights",
      .paper = "Model Breadcrumbs (Davari & Belilovsky, ECCV 2024, arXiv:2312.06795)",
      .plan = bi_plan_gta, .exec = bi_exec_gta },
    { .name = "breadcrumbs_ties", .kind = BK_METHOD, .stream = &gta_stream, .info = &m_breadcrumbs_ties,
      .params = { GTA_HEAD, { "gamma", "0.01" }, { "lambda", "1" }, { "normalize", "false" },
                  { "rescale", "false" }, TIES_OPTIONS, VOCAB_OPTION },
      .doc = "breadcrumbs' trim of the largest and smallest entries, then the TIES sign election",
      .paper = "Model Breadcrumbs with TIES sign consensus",
      .plan = bi_plan_gta, .exec = bi_exec_gta },
    { .name = "della", .kind = BK_METHOD, .stream = &gta_stream, .info = &m_della,
      .params = { GTA_HEAD, { "epsilon", "0.15" }, { "lambda", "1" }, { "normalize", "true" },
                  { "rescale", "true" }, { "seed", "0" }, TIES_OPTIONS, VOCAB_OPTION },
      .doc = "task vectors with entries dropped at random, the smaller more likely, rescaled, then the "
             "TIES sign election",
      .paper = "DELLA-Merging (Deep et al., 2024, arXiv:2406.11617)",
      .plan = bi_plan_gta, .exec = bi_exec_gta },
    { .name = "della_linear", .kind = BK_METHOD, .stream = &gta_stream, .info = &m_della_linear,
      .params = { GTA_HEAD, { "epsilon", "0.15" }, { "lambda", "1" }, { "normalize", "false" },
                  { "rescale", "true" }, { "seed", "0" }, VOCAB_OPTION },
      .doc = "DELLA's magnitude-ranked random drop and rescale, added with the weights (no sign election)",
      .paper = "DELLA-Merging without sign consensus",
      .plan = bi_plan_gta, .exec = bi_exec_gta },
    { .name = "nuslerp", .kind = BK_METHOD,
      .params = { REQUIRED("models"), { "weights", "1" }, { "base", "none" }, { "nuslerp_flatten", "true" },
                  { "nuslerp_row_wise", "false" }, VOCAB_OPTION },
      .doc = "two models, t = w2/(w1+w2): spherical interpolation of the models or, with a base, of "
             "their task vectors; whole tensors, rows or columns",
      .paper = "spherical interpolation, row- or column-wise, of models or task vectors",
      .plan = bi_plan_nuslerp, .exec = bi_exec_nuslerp },
    { .name = "multislerp", .kind = BK_METHOD,
      .params = { REQUIRED("models"), { "weights", "1" }, { "base", "none" }, { "normalize_weights", "true" },
                  { "eps", "1e-8" } },
      .doc = "spherical interpolation of several models (of their task vectors with a base)",
      .paper = "spherical interpolation of several models",
      .plan = bi_plan_multislerp, .exec = bi_exec_multislerp },
    { .name = "karcher", .kind = BK_METHOD,
      .params = { REQUIRED("models"), { "max_iter", "10" }, { "tol", "1e-5" }, VOCAB_OPTION },
      .doc = "the Riemannian mean of the models' directions, scaled by their mean norm",
      .paper = "Karcher (Riemannian) mean on the sphere",
      .plan = bi_plan_karcher, .exec = bi_exec_karcher },
    { .name = "model_stock", .kind = BK_METHOD,
      .params = { REQUIRED("base"), REQUIRED("models"), { "filter_wise", "false" }, VOCAB_OPTION },
      .doc = "at least two models: their mean and the base mixed by the angle between the task vectors",
      .paper = "Model Stock (Jang et al., ECCV 2024, arXiv:2403.19522)",
      .plan = bi_plan_model_stock, .exec = bi_exec_model_stock },
    { .name = "nearswap", .kind = BK_METHOD, .rowwise = true,
      .params = { REQUIRED("base"), REQUIRED("model"), REQUIRED("t") },
      .doc = "per entry, the model's value weighted by t / |base - model|, clamped to [0, 1]",
      .paper = "NearSwap interpolation",
      .plan = bi_plan_nearswap, .exec = bi_exec_nearswap },
    { .name = "sce", .kind = BK_METHOD,
      .params = { REQUIRED("base"), REQUIRED("models"), { "select_topk", "1" } },
      .doc = "task vectors kept where they vary most across models, sign-elected, weighted by their energy",
      .paper = "SCE merging (FuseChat, Wan et al., 2024, arXiv:2408.07990)",
      .plan = bi_plan_sce, .exec = bi_exec_sce },
    { .name = "ram", .kind = BK_METHOD,
      .params = { REQUIRED("base"), REQUIRED("models"), { "epsilon", "1e-5" } },
      .doc = "per entry, the mean of the task vectors active there (|delta| > epsilon)",
      .paper = "Reinforced Agent Merging (arXiv:2601.13572)",
      .plan = bi_plan_ram, .exec = bi_exec_ram },
    { .name = "ramplus_tl", .kind = BK_METHOD,
      .params = { REQUIRED("base"), REQUIRED("models"), { "epsilon", "1e-5" }, { "r", "0.1" }, { "alpha", "0.2" } },
      .doc = "ram with each model's unique entries scaled up by how much it shares with the others",
      .paper = "Reinforced Agent Merging plus (arXiv:2601.13572)",
      .plan = bi_plan_ram, .exec = bi_exec_ram },
    { .name = "arcee_fusion", .kind = BK_METHOD,
      .params = { REQUIRED("base"), REQUIRED("model"), { "seed", "0" }, VOCAB_OPTION },
      .doc = "the base, with the model's values where their importance is an outlier",
      .paper = "Arcee Fusion (importance-masked merge)",
      .plan = bi_plan_arcee_fusion, .exec = bi_exec_arcee_fusion },
    { .name = "fisher", .kind = BK_METHOD, .rowwise = true, .lazy_args = true,
      .params = { REQUIRED("models"), REQUIRED("fishers"), { "weights", "1" }, { "eps", "1e-8" } },
      .doc = "Fisher-weighted average; fishers[i] holds models[i]'s diagonal Fisher information",
      .paper = "Merging Models with Fisher-Weighted Averaging (Matena & Raffel, NeurIPS 2022, "
               "arXiv:2111.09832)",
      .plan = bi_plan_fisher, .exec = bi_exec_fisher },

    /* ---- primitives: the task-arithmetic family in pieces ---- */
    { .name = "task_vectors", .kind = BK_PRIMITIVE,
      .params = { REQUIRED("base"), REQUIRED("models") },
      .doc = "the list [m - base for each model]",
      .plan = bi_plan_task_vectors },
    { .name = "prune_topk", .kind = BK_PRIMITIVE,
      .params = { REQUIRED("deltas"), REQUIRED("density"), { "rescale", "false" } },
      .doc = "keep the largest-magnitude floor(density*n) entries (TIES trim)",
      .plan = bi_plan_sparsify, .exec = bi_exec_sparsify },
    { .name = "drop_random", .kind = BK_PRIMITIVE,
      .params = { REQUIRED("deltas"), REQUIRED("density"), { "seed", "0" }, { "stream", "0" },
                  { "rescale", "true" } },
      .doc = "keep each entry with probability density (DARE)",
      .plan = bi_plan_sparsify, .exec = bi_exec_sparsify },
    { .name = "prune_outliers", .kind = BK_PRIMITIVE,
      .params = { REQUIRED("deltas"), REQUIRED("density"), { "gamma", "0.01" }, { "rescale", "false" } },
      .doc = "drop the largest gamma and the smallest entries (breadcrumbs)",
      .plan = bi_plan_sparsify, .exec = bi_exec_sparsify },
    { .name = "drop_della", .kind = BK_PRIMITIVE,
      .params = { REQUIRED("deltas"), REQUIRED("density"), { "epsilon", "0.15" }, { "seed", "0" }, { "stream", "0" },
                  { "rescale", "true" } },
      .doc = "magnitude-ranked random drop (DELLA)",
      .plan = bi_plan_sparsify, .exec = bi_exec_sparsify },
    { .name = "elect_sign", .kind = BK_PRIMITIVE, .rowwise = true,
      .params = { REQUIRED("deltas"), { "weights", "1" }, { "consensus", "\"sum\"" },
                  { "weighted_election", "true" } },
      .doc = "the TIES sign election as a model of +1/-1",
      .plan = bi_plan_consensus, .exec = bi_exec_consensus },
    { .name = "disjoint_merge", .kind = BK_PRIMITIVE, .rowwise = true,
      .params = { REQUIRED("base"), REQUIRED("deltas"), { "weights", "1" }, { "consensus", "\"sum\"" },
                  { "normalize", "true" }, { "lambda", "1" }, { "weighted_election", "true" },
                  { "divisor", "\"weights\"" } },
      .doc = "the base plus the deltas that agree with the elected sign, weighted, normalized, times lambda",
      .plan = bi_plan_consensus, .exec = bi_exec_consensus },

    /* ---- tensor names ---- */
    { .name = "select", .kind = BK_NAMES, .rowwise = true,
      .params = { REQUIRED("model"), REQUIRED("pattern"), { "mode", "\"substring\"" } },
      .doc = "the tensors whose names match (mode \"glob\", \"regex\" or \"exact\" too)",
      .plan = bi_plan_select, .exec = bi_exec_select },
    { .name = "drop", .kind = BK_NAMES, .rowwise = true,
      .params = { REQUIRED("model"), REQUIRED("pattern"), { "mode", "\"substring\"" } },
      .doc = "the tensors whose names do not match",
      .plan = bi_plan_drop, .exec = bi_exec_drop },
    { .name = "rename", .kind = BK_NAMES, .rowwise = true, .new_frame = true, .lazy_args = true,
      .params = { REQUIRED("model"), REQUIRED("from"), REQUIRED("to") },
      .doc = "every occurrence of the string from in the names becomes to",
      .plan = bi_plan_rename, .exec = bi_exec_rename },
    { .name = "glob", .kind = BK_NAMES, .rowwise = true,
      .params = { REQUIRED("text"), REQUIRED("pattern") },
      .doc = "shell-style match, e.g. glob(name, \"*.layers.1?.*\")",
      .plan = bi_plan_glob, .exec = bi_exec_glob },
    { .name = "regex", .kind = BK_NAMES, .rowwise = true,
      .params = { REQUIRED("text"), REQUIRED("pattern") },
      .doc = "POSIX extended regular expression search",
      .plan = bi_plan_regex, .exec = bi_exec_regex },

    /* ---- lists ---- */
    { .name = "len", .kind = BK_LIST,
      .params = { REQUIRED("x") },
      .doc = "items of a list, bytes of a string, tensors of a model",
      .plan = bi_plan_len },
    { .name = "range", .kind = BK_LIST,
      .params = { REQUIRED("a"), { "b", "none" } },
      .doc = "range(n) = [0, ..., n-1]; range(a, b) = [a, ..., b-1]",
      .plan = bi_plan_range },
    { .name = "map", .kind = BK_LIST,
      .params = { REQUIRED("f"), REQUIRED("xs") },
      .doc = "[f(x) for each x in xs]",
      .plan = bi_plan_map },
    { .name = "zip", .kind = BK_LIST,
      .params = { REQUIRED("xs"), REQUIRED("ys") },
      .doc = "[[x0, y0], [x1, y1], ...]",
      .plan = bi_plan_zip },
    { .name = "sum", .kind = BK_LIST,
      .params = { REQUIRED("xs") },
      .doc = "numbers or models added left to right (0 for an empty list)",
      .plan = bi_plan_sum },
    { .name = "assert", .kind = BK_CHECK, .rowwise = true,
      .params = { REQUIRED("cond"), { "message", "none" } },
      .doc = "an error when cond is false (per tensor when cond depends on it); the value is true",
      .plan = bi_plan_assert, .exec = bi_exec_assert },

    /* ---- one model changed ---- */
    { .name = "lora", .kind = BK_TRANSFORM, .rowwise = true,
      .params = { REQUIRED("base"), REQUIRED("adapter"), { "scale", "1" } },
      .doc = "the PEFT LoRA adapter in the folder adapter applied, W + scale * alpha/r * B @ A",
      .plan = bi_plan_lora, .exec = bi_exec_lora },
    { .name = "untie", .kind = BK_TRANSFORM, .rowwise = true, .new_frame = true, .lazy_args = true,
      .params = { REQUIRED("model") },
      .doc = "a model whose head is tied to its embedding, with that embedding as its head lm_head.weight "
             "(as mergekit reads a tied model merged with untied ones)",
      .plan = bi_plan_untie, .exec = bi_exec_untie },
    /* Not row-wise: a row of the result is another row of m. Lazy: m and
     * to are forced for other tensor names to build the matching. */
    { .name = "align", .kind = BK_TRANSFORM, .lazy_args = true,
      .params = { REQUIRED("m"), REQUIRED("to"), { "heads", "none" }, { "kv_heads", "none" },
                  { "attention", "true" } },
      .doc = "m with its MLP units and attention heads permuted to match to (Git Re-Basin weight matching)",
      .paper = "Git Re-Basin weight matching (Ainsworth, Hayase & Srinivasa, ICLR 2023, arXiv:2209.04836)",
      .plan = bi_plan_align, .exec = bi_exec_align },

    /* ---- depth ---- */
    { .name = "gradient", .kind = BK_LAYERS, .rowwise = true,
      .params = { REQUIRED("values") },
      .doc = "a per-tensor number through values = [v0, ..., vk], piecewise linear in layer / (n_layers - 1)",
      .plan = bi_plan_gradient, .exec = bi_exec_gradient },
    { .name = "layers", .kind = BK_LAYERS, .rowwise = true, .new_frame = true, .lazy_args = true,
      .params = { REQUIRED("model"), REQUIRED("from"), REQUIRED("to") },
      .doc = "blocks from .. to-1, renumbered from 0",
      .plan = bi_plan_layers, .exec = bi_exec_layers },
    { .name = "stack", .kind = BK_LAYERS, .rowwise = true, .new_frame = true, .lazy_args = true,
      .params = { REQUIRED("*slices") },
      .doc = "stack(s1, s2, ...): the blocks of the slices one after another",
      .plan = bi_plan_stack, .exec = bi_exec_stack },

    /* ---- statistics: a number per tensor ---- */
    { .name = "norm", .kind = BK_STATISTIC,
      .params = { REQUIRED("model") },
      .doc = "L2 norm of the tensor (a number per tensor)",
      .plan = bi_plan_norm, .exec = bi_exec_norm },
    { .name = "mean", .kind = BK_STATISTIC,
      .params = { REQUIRED("model") },
      .doc = "mean of the tensor's entries",
      .plan = bi_plan_mean, .exec = bi_exec_mean },
    { .name = "std", .kind = BK_STATISTIC,
      .params = { REQUIRED("model") },
      .doc = "population standard deviation of the tensor's entries",
      .plan = bi_plan_std, .exec = bi_exec_std },
    { .name = "dot", .kind = BK_STATISTIC,
      .params = { REQUIRED("a"), REQUIRED("b") },
      .doc = "inner product of the two tensors",
      .plan = bi_plan_dot, .exec = bi_exec_dot },
    { .name = "cos", .kind = BK_STATISTIC,
      .params = { REQUIRED("a"), REQUIRED("b") },
      .doc = "cosine similarity of the two tensors (0 if either is zero)",
      .plan = bi_plan_cos, .exec = bi_exec_cos },

    /* ---- element-wise ---- */
    { .name = "abs", .kind = BK_ELEMENTWISE, .rowwise = true,
      .params = { REQUIRED("model") },
      .doc = "element-wise absolute value",
      .plan = bi_plan_abs, .exec = bi_exec_abs },
    { .name = "sign", .kind = BK_ELEMENTWISE, .rowwise = true,
      .params = { REQUIRED("model") },
      .doc = "element-wise -1, 0 or 1",
      .plan = bi_plan_sign, .exec = bi_exec_sign },
    { .name = "clamp", .kind = BK_ELEMENTWISE, .rowwise = true,
      .params = { REQUIRED("model"), REQUIRED("lo"), REQUIRED("hi") },
      .doc = "element-wise clamp",
      .plan = bi_plan_clamp, .exec = bi_exec_clamp },
    { .name = "where", .kind = BK_ELEMENTWISE, .rowwise = true,
      .params = { REQUIRED("mask"), REQUIRED("a"), REQUIRED("b") },
      .doc = "a where mask is nonzero, else b (models or numbers)",
      .plan = bi_plan_where, .exec = bi_exec_where },
};

const BuiltinTable builtin_table = { table, sizeof table / sizeof table[0] };

const Builtin *builtin_find(const char *name) { return builtin_table_find(&builtin_table, name); }

size_t builtin_count(void) { return builtin_table.n; }

const Builtin *builtin_at(size_t i) { return i < builtin_table.n ? &table[i] : NULL; }

const char *builtin_kind_title(BuiltinKind kind) {
    static const char *const titles[BK_N_KINDS] = {
        [BK_METHOD] = "merge methods",
        [BK_PRIMITIVE] = "primitives (the task-arithmetic family in pieces)",
        [BK_STATISTIC] = "statistics (a number per tensor)",
        [BK_ELEMENTWISE] = "element-wise",
        [BK_TRANSFORM] = "one model changed",
        [BK_LAYERS] = "depth and layers",
        [BK_NAMES] = "tensor names",
        [BK_LIST] = "lists",
        [BK_IO] = "reading and writing",
        [BK_CHECK] = "checks",
    };
    return kind < BK_N_KINDS && titles[kind] ? titles[kind] : "other";
}
