/* builtins_prims.c - small per-tensor built-ins: gradient() and the tensor
 * primitives methods are composed from. */
#include <math.h>

#include "builtins_int.h"

/* ---- gradient(values) ------------------------------------------------------------------- */

Value plan_gradient(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
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
Value exec_gradient(Exec *x, const Node *n, Value *args) {
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

