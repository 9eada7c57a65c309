/* builtins_merge.c - the merge methods as built-ins: argument checks and
 * signatures at plan time, parameter reading per tensor, and the call into
 * the runtime kernels. Method semantics follow mergekit (docs/methods.md). */
#include <math.h>
#include <string.h>

#include "../runtime/kernels.h"
#include "builtins_int.h"

/* ---- linear(models, weights=, normalize=true) ------------------------------------------ */

Value plan_linear(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    if (!bi_expect_models(p, bi, args[0], sp[0], NULL, NULL)) return val_error();
    size_t n = args[0].u.list->n;
    if (!bi_expect_per_model(p, args[1], n, sp[1], "weights")) return val_error();
    if (args[2].kind != V_NONE && !bi_expect_bool(p, args[2], sp[2], "normalize")) return val_error();
    return bi_make_call(p, bi, args, call, args[0].u.list->items[0].u.node->set);
}

Value exec_linear(Exec *x, const Node *n, Value *args) {
    Value models = args[0];
    size_t k = models.u.list->n;
    const Tensor *first;
    const float **xs = bi_tensor_data(x, n, models, &first);
    if (!xs) return val_error();
    if (!first->f) return models.u.list->items[0];
    bool normalize;
    if (!bi_bool_arg(x, n, args[2], true, "normalize", &normalize)) return val_error();
    double *w = arena_array(x->arena, k, sizeof *w);
    if (!w) return exec_fail(x, n->span, "out of memory");
    double sum = 0;
    for (size_t i = 0; i < k; i++) {
        if (!bi_per_model_at(x, n, args[1], i, 1.0, "weights", &w[i])) return val_error();
        sum += w[i];
    }
    if (normalize && sum == 0)
        return exec_fail(x, n->span, "linear(): the weights sum to zero for tensor '%s', so they cannot be normalized",
                         x->out->name);
    Tensor *r = exec_new_tensor(x, &first->shape, first->dtype, n->span);
    if (!r) return val_error();
    kern_weighted_sum(xs, w, k, normalize ? sum : 1.0, r->f, (size_t)r->numel);
    return bi_tensor_value(r);
}

/* ---- slerp(a, b, t) ------------------------------------------------------------------ */

Value plan_slerp(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    if (!bi_expect_model(p, args[0], sp[0], "slerp() argument 'a'") ||
        !bi_expect_model(p, args[1], sp[1], "slerp() argument 'b'") ||
        !bi_check_compatible(p, bi, args[0].u.node->set, args[1], sp[1], "the first model", "the second model") ||
        !bi_expect_number(p, args[2], sp[2], "t"))
        return val_error();
    return bi_make_call(p, bi, args, call, args[0].u.node->set);
}

Value exec_slerp(Exec *x, const Node *n, Value *args) {
    const Tensor *a = args[0].u.tensor, *b = args[1].u.tensor;
    if (!a->f) return args[0];
    if (!b->f || !shape_equal(&a->shape, &b->shape))
        return exec_fail(x, n->span, "slerp(): tensor '%s' differs in shape or dtype between the models", x->out->name);
    double t;
    if (!bi_number_arg(x, n, args[2], "t", &t)) return val_error();
    Tensor *r = exec_new_tensor(x, &a->shape, a->dtype, n->span);
    if (!r) return val_error();
    kern_slerp(a->f, b->f, t, r->f, (size_t)r->numel);
    return bi_tensor_value(r);
}

/* ---- task_arithmetic(base, models, weights=, lambda=1, normalize=false) ------------------- */

Value plan_task_arithmetic(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    if (!bi_expect_model(p, args[0], sp[0], "task_arithmetic() argument 'base'")) return val_error();
    if (!bi_expect_models(p, bi, args[1], sp[1], args[0].u.node->set, "the base")) return val_error();
    size_t n = args[1].u.list->n;
    if (!bi_expect_per_model(p, args[2], n, sp[2], "weights")) return val_error();
    if (args[3].kind != V_NONE && !bi_expect_number(p, args[3], sp[3], "lambda")) return val_error();
    if (args[4].kind != V_NONE && !bi_expect_bool(p, args[4], sp[4], "normalize")) return val_error();
    return bi_make_call(p, bi, args, call, args[0].u.node->set);
}

Value exec_task_arithmetic(Exec *x, const Node *n, Value *args) {
    const Tensor *base = args[0].u.tensor;
    if (!base->f) return args[0];
    Value models = args[1];
    size_t k = models.u.list->n;
    const Tensor *first;
    const float **xs = bi_tensor_data(x, n, models, &first);
    if (!xs) return val_error();
    for (size_t i = 0; i < k; i++)
        if (!xs[i] || !shape_equal(&models.u.list->items[i].u.tensor->shape, &base->shape))
            return exec_fail(x, n->span, "task_arithmetic(): tensor '%s' differs in shape or dtype from the base",
                             x->out->name);
    double lambda = 1.0;
    if (args[3].kind != V_NONE && !bi_number_arg(x, n, args[3], "lambda", &lambda)) return val_error();
    bool normalize;
    if (!bi_bool_arg(x, n, args[4], false, "normalize", &normalize)) return val_error();
    double *w = arena_array(x->arena, k, sizeof *w);
    if (!w) return exec_fail(x, n->span, "out of memory");
    double sum = 0;
    for (size_t i = 0; i < k; i++) {
        if (!bi_per_model_at(x, n, args[2], i, 1.0, "weights", &w[i])) return val_error();
        sum += w[i];
    }
    /* mergekit's guard: a (near) zero weight sum divides by one instead. */
    double divisor = normalize && fabs(sum) >= 1e-8 ? sum : 1.0;
    Tensor *r = exec_new_tensor(x, &base->shape, base->dtype, n->span);
    if (!r) return val_error();
    kern_task_sum(base->f, xs, w, k, divisor, lambda, r->f, (size_t)r->numel);
    return bi_tensor_value(r);
}

