/* builtins_merge.c - the merge methods as built-ins: argument checks and
 * signatures at plan time, parameter reading per tensor, and the call into
 * the runtime kernels. Method semantics follow mergekit (docs/methods.md). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../runtime/gta.h"
#include "../runtime/hfnames.h"
#include "../runtime/kernels.h"
#include "../runtime/methods.h"
#include "../runtime/rng.h"
#include "builtins_int.h"

/* ---- linear(models, weights=, normalize=true) ------------------------------------------ */

Value plan_linear(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    const TensorSet *set = bi_plan_models(p, bi, val_none(), args[0], sp[0], true, 1, SIZE_MAX);
    if (!set) return val_error();
    size_t n = args[0].u.list->n;
    if (!bi_expect_per_model(p, args[1], n, sp[1], "weights")) return val_error();
    if (args[2].kind != V_NONE && !bi_expect_bool(p, args[2], sp[2], "normalize")) return val_error();
    return bi_make_call(p, bi, args, call, set);
}

Value exec_linear(Exec *x, const Node *n, Value *args) {
    size_t k;
    const Value *ms = bi_items_of(args[0], &k);
    const Tensor *first = ms[0].u.tensor;
    if (!first->f) return ms[0];
    const Shape *shape = bi_out_shape(x, n, first);
    const float **xs = bi_gather(x, n, ms, k, shape);
    if (!xs) return val_error();
    bool normalize;
    if (!bi_bool_arg(x, n, args[2], true, "normalize", &normalize)) return val_error();
    double *w = arena_array(x->arena, k, sizeof *w);
    if (!w) return exec_fail(x, n->span, "out of memory");
    double sum = 0;
    for (size_t i = 0; i < k; i++) {
        if (!bi_weight_at(x, n, args[1], i, &w[i])) return val_error();
        sum += w[i];
    }
    if (normalize && sum == 0)
        return exec_fail(x, n->span, "linear(): the weights sum to zero, so they cannot be normalized");
    Tensor *r = exec_new_tensor(x, shape, first->dtype, n->span);
    if (!r) return val_error();
    kern_weighted_sum(xs, w, k, normalize ? sum : 1.0, r->f, (size_t)r->numel);
    return bi_tensor_value(r);
}

/* ---- slerp(a, b, t) ------------------------------------------------------------------ */

Value plan_slerp(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    if (!bi_expect_model(p, args[0], sp[0], "slerp() argument 'a'") ||
        !bi_expect_model(p, args[1], sp[1], "slerp() argument 'b'") ||
        !bi_expect_number(p, args[2], sp[2], "t"))
        return val_error();
    const TensorSet *set = bi_common_set(p, bi, args, 2, span_join(sp[0], sp[1]), true);
    return set ? bi_make_call(p, bi, args, call, set) : val_error();
}

Value exec_slerp(Exec *x, const Node *n, Value *args) {
    const Tensor *a = args[0].u.tensor;
    if (!a->f) return args[0];
    const Shape *shape = bi_out_shape(x, n, a);
    const float **xs = bi_gather(x, n, args, 2, shape);
    double t;
    if (!xs || !bi_number_arg(x, n, args[2], "t", &t)) return val_error();
    Tensor *r = exec_new_tensor(x, shape, a->dtype, n->span);
    if (!r) return val_error();
    kern_slerp(xs[0], xs[1], t, r->f, (size_t)r->numel);
    return bi_tensor_value(r);
}

