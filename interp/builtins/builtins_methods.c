/* builtins_methods.c - the merge methods outside the task-arithmetic family:
 * nuslerp, multislerp, karcher, model_stock, nearswap, sce, ram,
 * ramplus_tl, arcee_fusion. Plan-time checks and signatures, parameter
 * reading per tensor, and the call into runtime/kernels/methods.h. Semantics follow
 * mergekit (docs/methods.md). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "runtime/kernels/methods.h"
#include "runtime/core/rng.h"
#include "interp/builtins/builtins_int.h"

/* Row layout of a tensor: the last dimension is a row; a 1-D tensor is one. */
static void rows_of(const Shape *s, size_t *n_rows, size_t *row_len) {
    int64_t numel = shape_numel(s);
    *row_len = s->rank ? (size_t)s->dims[s->rank - 1] : 1;
    if (*row_len == 0) *row_len = 1;
    *n_rows = numel > 0 ? (size_t)numel / *row_len : 0;
}

static bool optional_number(Plan *p, Value v, SrcSpan at, const char *pname) {
    return v.kind == V_NONE || bi_expect_number(p, v, at, pname);
}

static bool optional_bool(Plan *p, Value v, SrcSpan at, const char *pname) {
    return v.kind == V_NONE || bi_expect_bool(p, v, at, pname);
}

/* Task vectors x_i - base for k inputs already cropped to the base. */
static float **task_vectors(Exec *x, const Node *n, const float *base, const float **xs, size_t k,
                            size_t numel) {
    float **d = arena_array(x->arena, k, sizeof *d);
    if (!d) {
        exec_fail(x, n->span, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < k; i++) {
        d[i] = arena_array(x->arena, numel ? numel : 1, sizeof(float));
        if (!d[i]) {
            exec_fail(x, n->span, "out of memory");
            return NULL;
        }
        for (size_t j = 0; j < numel; j++) d[i][j] = xs[i][j] - base[j];
    }
    return d;
}

/* ---- nuslerp ------------------------------------------------------------------------------ */

Value bi_plan_nuslerp(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    if (args[2].kind != V_NONE && !bi_expect_model(p, args[2], sp[2], "nuslerp() argument 'base'"))
        return val_error();
    const TensorSet *set = bi_plan_models(p, bi, args[2], args[0], sp[0],
                                          bi_vocab_rule(p, bi, args, sp), 2, 2);
    if (!set || !bi_expect_per_model(p, args[1], 2, sp[1], "weights") ||
        !optional_bool(p, args[3], sp[3], "nuslerp_flatten") ||
        !optional_bool(p, args[4], sp[4], "nuslerp_row_wise"))
        return val_error();
    return bi_make_call(p, bi, args, call, set);
}

Value bi_exec_nuslerp(Exec *x, const Node *n, Value *args) {
    size_t k;
    const Value *ms = bi_items_of(args[0], &k);
    const Tensor *first = args[2].kind == V_TENSOR ? args[2].u.tensor : ms[0].u.tensor;
    if (!first->f) return args[2].kind == V_TENSOR ? args[2] : ms[0];
    const Shape *shape = bi_out_shape(x, n, first);
    const float **xs = bi_gather(x, n, ms, k, shape);
    if (!xs) return val_error();
    double w0, w1;
    bool flatten, row_wise;
    /* mergekit takes t from the weights as Python floats (unrounded). */
    if (!bi_per_model_at(x, n, args[1], 0, "weights", &w0) ||
        !bi_per_model_at(x, n, args[1], 1, "weights", &w1) ||
        !bi_bool_param(x, n, args[3], "nuslerp_flatten", &flatten) ||
        !bi_bool_param(x, n, args[4], "nuslerp_row_wise", &row_wise))
        return val_error();
    double t = fabs(w0 + w1) < 1e-6 ? 0.5 : w1 / (w0 + w1);
    size_t n_rows, row_len, numel = (size_t)shape_numel(shape);
    rows_of(shape, &n_rows, &row_len);
    /* Column mode: mergekit's vectors lie along dim 0, so the "rows" the
     * kernel walks are shape[0] by everything else (for 2-D tensors the same
     * as the last-dimension split; for a 1-D tensor dim 0 is the whole
     * vector, i.e. one row). */
    int mode = flatten ? 0 : row_wise && shape->rank >= 2 ? 2 : 1;
    if (mode == 2) {
        n_rows = (size_t)shape->dims[0];
        row_len = n_rows ? numel / n_rows : 1;
    }
    Tensor *r = exec_new_tensor(x, shape, first->dtype, n->span);
    if (!r) return val_error();
    if (args[2].kind != V_TENSOR) {
        meth_nuslerp(xs[0], xs[1], n_rows, row_len, mode, t, r->f);
        return bi_tensor_value(r);
    }
    const float **b = bi_gather(x, n, &args[2], 1, shape);
    float **d = b ? task_vectors(x, n, b[0], xs, 2, numel) : NULL;
    if (!d) return val_error();
    meth_nuslerp(d[0], d[1], n_rows, row_len, mode, t, r->f);
    for (size_t j = 0; j < numel; j++) r->f[j] += b[0][j];
    return bi_tensor_value(r);
}

/* ---- multislerp --------------------------------------------------------------------------- */

Value bi_plan_multislerp(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    if (args[2].kind != V_NONE && !bi_expect_model(p, args[2], sp[2], "multislerp() argument 'base'"))
        return val_error();
    const TensorSet *set = bi_plan_models(p, bi, args[2], args[0], sp[0], BI_VOCAB_NONE, 1, SIZE_MAX);
    if (!set || !bi_expect_per_model(p, args[1], args[0].u.list->n, sp[1], "weights") ||
        !optional_bool(p, args[3], sp[3], "normalize_weights") ||
        !optional_number(p, args[4], sp[4], "eps"))
        return val_error();
    return bi_make_call(p, bi, args, call, set);
}

Value bi_exec_multislerp(Exec *x, const Node *n, Value *args) {
    size_t k;
    const Value *ms = bi_items_of(args[0], &k);
    const Tensor *first = ms[0].u.tensor;
    if (!first->f) return ms[0];
    const Shape *shape = bi_out_shape(x, n, first);
    const float **xs = bi_gather(x, n, ms, k, shape);
    const float **b = args[2].kind == V_TENSOR ? bi_gather(x, n, &args[2], 1, shape) : NULL;
    if (!xs || (args[2].kind == V_TENSOR && !b)) return val_error();
    double *w = arena_array(x->arena, k, sizeof *w), eps;
    bool normalize;
    if (!w) return exec_fail(x, n->span, "out of memory");
    for (size_t i = 0; i < k; i++)
        if (!bi_weight_at(x, n, args[1], i, &w[i])) return val_error();
    if (!bi_bool_param(x, n, args[3], "normalize_weights", &normalize) ||
        !bi_number_param(x, n, args[4], "eps", &eps))
        return val_error();
    size_t numel = (size_t)shape_numel(shape);
    Tensor *r = exec_new_tensor(x, shape, first->dtype, n->span);
    float *scratch = arena_array(x->arena, 2 * numel + 1, sizeof(float));
    if (!r || !scratch) return exec_fail(x, n->span, "out of memory");
    const char *why = NULL;
    if (meth_multislerp(xs, w, k, b ? b[0] : NULL, numel, normalize, eps, r->f, scratch, &why) != 0)
        return exec_fail(x, n->span, "multislerp(): %s for tensor '%s'", why ? why : "failed",
                         x->out->name);
    return bi_tensor_value(r);
}

/* ---- karcher ------------------------------------------------------------------------------ */

Value bi_plan_karcher(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    const TensorSet *set = bi_plan_models(p, bi, val_none(), args[0], sp[0],
                                          bi_vocab_rule(p, bi, args, sp), 1, SIZE_MAX);
    if (!set || !optional_number(p, args[1], sp[1], "max_iter") ||
        !optional_number(p, args[2], sp[2], "tol"))
        return val_error();
    return bi_make_call(p, bi, args, call, set);
}

Value bi_exec_karcher(Exec *x, const Node *n, Value *args) {
    size_t k;
    const Value *ms = bi_items_of(args[0], &k);
    const Tensor *first = ms[0].u.tensor;
    if (!first->f) return ms[0];
    const Shape *shape = bi_out_shape(x, n, first);
    const float **xs = bi_gather(x, n, ms, k, shape);
    double max_iter, tol;
    if (!xs || !bi_number_param(x, n, args[1], "max_iter", &max_iter) ||
        !bi_number_param(x, n, args[2], "tol", &tol))
        return val_error();
    if (max_iter < 0 || max_iter > 1e6)
        return exec_fail(x, n->span, "karcher(): max_iter must be from 0 to 1000000");
    size_t numel = (size_t)shape_numel(shape);
    Tensor *r = exec_new_tensor(x, shape, first->dtype, n->span);
    float *scratch = arena_array(x->arena, 3 * numel + 1, sizeof(float));
    if (!r || !scratch) return exec_fail(x, n->span, "out of memory");
    meth_karcher(xs, k, numel, (int)max_iter, tol, r->f, scratch);
    return bi_tensor_value(r);
}

/* ---- model_stock -------------------------------------------------------------------------- */

Value bi_plan_model_stock(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    if (!bi_expect_model(p, args[0], sp[0], "model_stock() argument 'base'")) return val_error();
    const TensorSet *set = bi_plan_models(p, bi, args[0], args[1], sp[1],
                                          bi_vocab_rule(p, bi, args, sp), 2, SIZE_MAX);
    if (!set || !optional_bool(p, args[2], sp[2], "filter_wise")) return val_error();
    return bi_make_call(p, bi, args, call, set);
}

Value bi_exec_model_stock(Exec *x, const Node *n, Value *args) {
    const Tensor *base = args[0].u.tensor;
    if (!base->f) return args[0];
    size_t k;
    const Value *ms = bi_items_of(args[1], &k);
    const Shape *shape = bi_out_shape(x, n, base);
    const float **b = bi_gather(x, n, args, 1, shape);
    const float **xs = bi_gather(x, n, ms, k, shape);
    bool filter_wise;
    if (!b || !xs || !bi_bool_param(x, n, args[2], "filter_wise", &filter_wise)) return val_error();
    size_t n_rows, row_len;
    rows_of(shape, &n_rows, &row_len);
    Tensor *r = exec_new_tensor(x, shape, base->dtype, n->span);
    if (!r) return val_error();
    meth_model_stock(b[0], xs, k, n_rows, row_len, filter_wise, r->f);
    return bi_tensor_value(r);
}

/* ---- nearswap(base, model, t) ---------------------------------------------------------------- */

Value bi_plan_nearswap(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    if (!bi_expect_model(p, args[0], sp[0], "nearswap() argument 'base'") ||
        !bi_expect_model(p, args[1], sp[1], "nearswap() argument 'model'") ||
        !bi_expect_number(p, args[2], sp[2], "t"))
        return val_error();
    const TensorSet *set = bi_common_set(p, bi, args, 2, sp[1], BI_VOCAB_NONE);
    return set ? bi_make_call(p, bi, args, call, set) : val_error();
}

Value bi_exec_nearswap(Exec *x, const Node *n, Value *args) {
    const Tensor *base = args[0].u.tensor;
    if (!base->f) return args[0];
    const float **xs = bi_gather(x, n, args, 2, &base->shape);
    double t;
    if (!xs || !bi_number_arg(x, n, args[2], "t", &t)) return val_error();
    Tensor *r = exec_new_tensor(x, &base->shape, base->dtype, n->span);
    if (!r) return val_error();
    meth_nearswap(xs[0], xs[1], (size_t)base->numel, t, r->f);
    return bi_tensor_value(r);
}

/* ---- sce ---------------------------------------------------------------------------------- */

Value bi_plan_sce(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    if (!bi_expect_model(p, args[0], sp[0], "sce() argument 'base'")) return val_error();
    const TensorSet *set = bi_plan_models(p, bi, args[0], args[1], sp[1], BI_VOCAB_NONE, 1, SIZE_MAX);
    if (!set || !optional_number(p, args[2], sp[2], "select_topk")) return val_error();
    return bi_make_call(p, bi, args, call, set);
}

Value bi_exec_sce(Exec *x, const Node *n, Value *args) {
    const Tensor *base = args[0].u.tensor;
    if (!base->f) return args[0];
    size_t k;
    const Value *ms = bi_items_of(args[1], &k);
    const float **xs = bi_gather(x, n, ms, k, &base->shape);
    double topk;
    if (!xs || !bi_number_param(x, n, args[2], "select_topk", &topk)) return val_error();
    if (!(topk > 0 && topk <= 1))
        return exec_fail(x, n->span, "sce(): select_topk must be in (0, 1], found %g", topk);
    size_t numel = (size_t)base->numel;
    Tensor *r = exec_new_tensor(x, &base->shape, base->dtype, n->span);
    float *sf = arena_array(x->arena, numel + 1, sizeof(float));
    uint32_t *si = arena_array(x->arena, numel + 1, sizeof(uint32_t));
    uint8_t *sm = arena_array(x->arena, numel + 1, 1);
    if (!r || !sf || !si || !sm) return exec_fail(x, n->span, "out of memory");
    meth_sce(base->f, xs, k, numel, topk, r->f, sf, si, sm);
    return bi_tensor_value(r);
}

/* ---- ram, ramplus_tl ---------------------------------------------------------------------- */

Value bi_plan_ram(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    char what[64];
    snprintf(what, sizeof what, "%s() argument 'base'", bi->name);
    if (!bi_expect_model(p, args[0], sp[0], what)) return val_error();
    const TensorSet *set = bi_plan_models(p, bi, args[0], args[1], sp[1], BI_VOCAB_NONE, 1, SIZE_MAX);
    if (!set) return val_error();
    for (int i = 2; i < builtin_n_params(bi); i++)
        if (!optional_number(p, args[i], sp[i], bi->params[i].name)) return val_error();
    return bi_make_call(p, bi, args, call, set);
}

Value bi_exec_ram(Exec *x, const Node *n, Value *args) {
    const Builtin *bi = n->u.call.bi;
    bool plus = builtin_n_params(bi) > 3;
    const Tensor *base = args[0].u.tensor;
    if (!base->f) return args[0];
    size_t k;
    const Value *ms = bi_items_of(args[1], &k);
    const float **xs = bi_gather(x, n, ms, k, &base->shape);
    /* ram has no r and alpha: meth_ram reads them only for ramplus_tl. */
    double eps, r_param = 0, alpha = 0;
    if (!xs || !bi_number_param(x, n, args[2], "epsilon", &eps) ||
        (plus && (!bi_number_param(x, n, args[3], "r", &r_param) ||
                  !bi_number_param(x, n, args[4], "alpha", &alpha))))
        return val_error();
    size_t numel = (size_t)base->numel;
    Tensor *r = exec_new_tensor(x, &base->shape, base->dtype, n->span);
    uint8_t *scratch = arena_array(x->arena, numel + 1, 1);
    if (!r || !scratch) return exec_fail(x, n->span, "out of memory");
    meth_ram(base->f, xs, k, numel, eps, plus, r_param, alpha, r->f, scratch);
    return bi_tensor_value(r);
}

/* ---- arcee_fusion ------------------------------------------------------------------------- */

Value bi_plan_arcee_fusion(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    if (!bi_expect_model(p, args[0], sp[0], "arcee_fusion() argument 'base'") ||
        !bi_expect_model(p, args[1], sp[1], "arcee_fusion() argument 'model'") ||
        !optional_number(p, args[2], sp[2], "seed"))
        return val_error();
    const TensorSet *set = bi_common_set(p, bi, args, 2, sp[1], bi_vocab_rule(p, bi, args, sp));
    return set ? bi_make_call(p, bi, args, call, set) : val_error();
}

Value bi_exec_arcee_fusion(Exec *x, const Node *n, Value *args) {
    const Tensor *base = args[0].u.tensor;
    if (!base->f) return args[0];
    const Shape *shape = bi_out_shape(x, n, base);
    const float **xs = bi_gather(x, n, args, 2, shape);
    double seed;
    if (!xs || !bi_number_param(x, n, args[2], "seed", &seed)) return val_error();
    size_t n_rows, row_len, numel = (size_t)shape_numel(shape);
    rows_of(shape, &n_rows, &row_len);
    Tensor *r = exec_new_tensor(x, shape, base->dtype, n->span);
    float *sf = arena_array(x->arena, 2 * numel + 1, sizeof(float));
    double *sr = arena_array(x->arena, n_rows + 1, sizeof(double));
    if (!r || !sf || !sr) return exec_fail(x, n->span, "out of memory");
    meth_arcee_fusion(xs[0], xs[1], n_rows, row_len, rng_stream((uint64_t)seed, x->out->name, 0), r->f,
                      sf, sr);
    return bi_tensor_value(r);
}
