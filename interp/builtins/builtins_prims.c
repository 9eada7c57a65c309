/* builtins_prims.c - small per-tensor built-ins: gradient() and the tensor
 * primitives methods are composed from. */
#include <math.h>
#include <stdio.h>

#include "runtime/kernels/kernels.h"

#include "interp/builtins/builtins_int.h"

/* ---- gradient(values) ------------------------------------------------------------------- */

Value bi_plan_gradient(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    Value v = args[0];
    if (v.kind != V_LIST || v.u.list->n == 0)
        return plan_error(p, sp[0], "gradient() expects a non-empty list of numbers");
    for (size_t i = 0; i < v.u.list->n; i++)
        if (v.u.list->items[i].kind != V_NUM)
            return plan_error(p, sp[0], "entry %zu of the gradient must be a number, found %s", i + 1,
                              val_kind_name(v.u.list->items[i].kind));
    return bi_make_call(p, bi, args, call, NULL);
}

/* mergekit's rule: block i of n sits at i/(n-1) (1 when n == 1); tensors
 * outside the blocks at 0; linear between neighbouring anchors. */
Value bi_exec_gradient(Exec *x, const Node *n, Value *args) {
    const ValList *l = args[0].u.list;
    double pos = 0;
    if (x->layer >= 0) pos = x->n_layers > 1 ? (double)x->layer / (double)(x->n_layers - 1) : 1.0;
    size_t L = l->n;
    double s = pos * (double)(L - 1);
    double i0d = floor(s);
    if (i0d < 0) i0d = 0;
    if (i0d > (double)(L - 1)) i0d = (double)(L - 1);
    size_t i0 = (size_t)i0d, i1 = i0 + 1 < L ? i0 + 1 : L - 1;
    double f = s - i0d;
    return val_num((1 - f) * l->items[i0].u.num + f * l->items[i1].u.num);
}


/* ---- statistics: one number per tensor -------------------------------------------- */

static Value bi_plan_stat(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call,
                       int n_models) {
    for (int i = 0; i < n_models; i++) {
        char what[64];
        snprintf(what, sizeof what, "%s() argument '%s'", bi->name, bi->params[i].name);
        if (!bi_expect_model(p, args[i], sp[i], what)) return val_error();
    }
    if (n_models == 2 &&
        !bi_check_compatible(p, bi, args[0].u.node->set, args[1], sp[1], "the first model",
                             "the second model"))
        return val_error();
    return bi_make_call(p, bi, args, call, NULL);
}

/* The float data of a forced tensor argument (pass-through tensors have none). */
static const Tensor *float_tensor(Exec *x, const Node *n, Value v) {
    if (v.kind != V_TENSOR || !v.u.tensor->f) {
        exec_fail(x, n->span, "tensor '%s' is not a float tensor", x->out->name);
        return NULL;
    }
    return v.u.tensor;
}

Value bi_plan_norm(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    return bi_plan_stat(p, bi, args, sp, call, 1);
}
Value bi_plan_mean(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    return bi_plan_stat(p, bi, args, sp, call, 1);
}
Value bi_plan_std(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    return bi_plan_stat(p, bi, args, sp, call, 1);
}
Value bi_plan_dot(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    return bi_plan_stat(p, bi, args, sp, call, 2);
}
Value bi_plan_cos(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    return bi_plan_stat(p, bi, args, sp, call, 2);
}

Value bi_exec_norm(Exec *x, const Node *n, Value *args) {
    const Tensor *t = float_tensor(x, n, args[0]);
    return t ? val_num(sqrt(kern_sumsq(t->f, (size_t)t->numel))) : val_error();
}

Value bi_exec_mean(Exec *x, const Node *n, Value *args) {
    const Tensor *t = float_tensor(x, n, args[0]);
    if (!t) return val_error();
    double s = 0;
    for (int64_t j = 0; j < t->numel; j++) s += t->f[j];
    return val_num(t->numel ? s / (double)t->numel : 0.0);
}

/* Population standard deviation (divides by n), two-pass for accuracy. */
Value bi_exec_std(Exec *x, const Node *n, Value *args) {
    const Tensor *t = float_tensor(x, n, args[0]);
    if (!t) return val_error();
    if (t->numel == 0) return val_num(0);
    double mean = 0, ss = 0;
    for (int64_t j = 0; j < t->numel; j++) mean += t->f[j];
    mean /= (double)t->numel;
    for (int64_t j = 0; j < t->numel; j++) ss += (t->f[j] - mean) * (t->f[j] - mean);
    return val_num(sqrt(ss / (double)t->numel));
}

Value bi_exec_dot(Exec *x, const Node *n, Value *args) {
    const Tensor *a = float_tensor(x, n, args[0]), *b = a ? float_tensor(x, n, args[1]) : NULL;
    return b ? val_num(kern_dot(a->f, b->f, (size_t)a->numel)) : val_error();
}

/* Cosine similarity of two whole tensors; 0 when either is all zeros. */
Value bi_exec_cos(Exec *x, const Node *n, Value *args) {
    const Tensor *a = float_tensor(x, n, args[0]), *b = a ? float_tensor(x, n, args[1]) : NULL;
    if (!b) return val_error();
    double na = kern_sumsq(a->f, (size_t)a->numel), nb = kern_sumsq(b->f, (size_t)b->numel);
    if (na == 0 || nb == 0) return val_num(0);
    return val_num(kern_dot(a->f, b->f, (size_t)a->numel) / sqrt(na * nb));
}

/* ---- element-wise maps -------------------------------------------------------------- */

static Value bi_plan_elementwise(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    char what[64];
    snprintf(what, sizeof what, "%s() argument 'model'", bi->name);
    if (!bi_expect_model(p, args[0], sp[0], what)) return val_error();
    for (int i = 1; i < builtin_n_params(bi); i++)
        if (!bi_expect_number(p, args[i], sp[i], bi->params[i].name)) return val_error();
    return bi_make_call(p, bi, args, call, args[0].u.node->set);
}

/* A new tensor like t, or NULL after recording a failure. */
static Tensor *like(Exec *x, const Node *n, const Tensor *t) {
    return exec_new_tensor(x, &t->shape, t->dtype, n->span);
}

Value bi_plan_abs(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    return bi_plan_elementwise(p, bi, args, sp, call);
}
Value bi_plan_sign(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    return bi_plan_elementwise(p, bi, args, sp, call);
}
Value bi_plan_clamp(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    return bi_plan_elementwise(p, bi, args, sp, call);
}

Value bi_exec_abs(Exec *x, const Node *n, Value *args) {
    if (!args[0].u.tensor->f) return args[0];
    const Tensor *t = args[0].u.tensor;
    Tensor *r = like(x, n, t);
    if (!r) return val_error();
    for (int64_t j = 0; j < t->numel; j++) r->f[j] = fabsf(t->f[j]);
    return bi_tensor_value(r);
}

Value bi_exec_sign(Exec *x, const Node *n, Value *args) {
    if (!args[0].u.tensor->f) return args[0];
    const Tensor *t = args[0].u.tensor;
    Tensor *r = like(x, n, t);
    if (!r) return val_error();
    for (int64_t j = 0; j < t->numel; j++) r->f[j] = (float)((t->f[j] > 0) - (t->f[j] < 0));
    return bi_tensor_value(r);
}

Value bi_exec_clamp(Exec *x, const Node *n, Value *args) {
    if (!args[0].u.tensor->f) return args[0];
    const Tensor *t = args[0].u.tensor;
    double lo, hi;
    if (!bi_number_arg(x, n, args[1], "lo", &lo) || !bi_number_arg(x, n, args[2], "hi", &hi))
        return val_error();
    if (lo > hi) return exec_fail(x, n->span, "clamp(): lo %g is above hi %g", lo, hi);
    Tensor *r = like(x, n, t);
    if (!r) return val_error();
    float flo = (float)lo, fhi = (float)hi;
    for (int64_t j = 0; j < t->numel; j++)
        r->f[j] = t->f[j] < flo ? flo : t->f[j] > fhi ? fhi : t->f[j];
    return bi_tensor_value(r);
}

/* where(mask, a, b): a where mask is nonzero, b elsewhere; a and b may be
 * models or numbers. */
Value bi_plan_where(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    if (!bi_expect_model(p, args[0], sp[0], "where() argument 'mask'")) return val_error();
    const TensorSet *set = args[0].u.node->set;
    for (int i = 1; i <= 2; i++) {
        if (args[i].kind == V_MODEL) {
            if (!bi_check_compatible(p, bi, set, args[i], sp[i], "the mask", bi->params[i].name))
                return val_error();
        } else if (!bi_expect_number(p, args[i], sp[i], bi->params[i].name)) {
            return val_error();
        }
    }
    return bi_make_call(p, bi, args, call, set);
}

Value bi_exec_where(Exec *x, const Node *n, Value *args) {
    const Tensor *m = float_tensor(x, n, args[0]);
    if (!m) return val_error();
    Tensor *r = like(x, n, m);
    if (!r) return val_error();
    const float *src[2] = { NULL, NULL };
    float num[2] = { 0, 0 };
    for (int i = 0; i < 2; i++) {
        Value v = args[1 + i];
        if (v.kind == V_TENSOR) {
            const Tensor *t = float_tensor(x, n, v);
            if (!t) return val_error();
            src[i] = t->f;
        } else if (v.kind == V_NUM) {
            num[i] = (float)v.u.num;
        } else {
            return exec_fail(x, n->span, "where() expects models or numbers");
        }
    }
    for (int64_t j = 0; j < m->numel; j++) {
        int k = m->f[j] != 0 ? 0 : 1;
        r->f[j] = src[k] ? src[k][j] : num[k];
    }
    return bi_tensor_value(r);
}

/* ---- assert(cond, message) ------------------------------------------------------------
 * A recipe's own checks: a plain false is an error when planning, a
 * per-tensor condition fails the tensor it is false for. The value of an
 * assert is true, so it can be combined: ok = assert(...) and assert(...). */

Value bi_plan_assert(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    if (args[1].kind != V_NONE && args[1].kind != V_STR)
        return plan_error(p, sp[1], "assert()'s message must be a string");
    if (args[0].kind == V_BOOL) {
        if (args[0].u.b) return args[0];
        if (args[1].kind == V_STR)
            return plan_error(p, call, "assertion failed: %.*s", (int)args[1].u.str.len, args[1].u.str.s);
        return plan_error(p, call, "assertion failed");
    }
    if (args[0].kind != V_LAZY)
        return plan_error(p, sp[0], "assert() expects true or false, found %s", val_kind_name(args[0].kind));
    return bi_make_call(p, bi, args, call, NULL);
}

Value bi_exec_assert(Exec *x, const Node *n, Value *args) {
    if (args[0].kind != V_BOOL)
        return exec_fail(x, n->span, "assert() expects true or false, found %s", val_kind_name(args[0].kind));
    if (args[0].u.b) return args[0];
    if (args[1].kind == V_STR)
        return exec_fail(x, n->span, "assertion failed: %.*s", (int)args[1].u.str.len, args[1].u.str.s);
    return exec_fail(x, n->span, "assertion failed");
}
