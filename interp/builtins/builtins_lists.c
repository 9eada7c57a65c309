/* builtins_lists.c - list helpers for writing methods over lists of models:
 * len, range, map, zip, sum. They run when planning (lists are plan-time
 * values); sum over models builds the same nodes `a + b` would. */
#include <math.h>
#include <string.h>

#include "interp/builtins/builtins_int.h"

static Value list_value(Plan *p, size_t n, ValList **out) {
    ValList *l = plan_alloc(p, sizeof *l);
    l->n = n;
    l->items = plan_alloc(p, (n ? n : 1) * sizeof *l->items);
    *out = l;
    Value v = { .kind = V_LIST, .u.list = l };
    return v;
}

Value bi_plan_len(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    if (args[0].kind == V_LIST) return val_num((double)args[0].u.list->n);
    if (args[0].kind == V_STR) return val_num((double)args[0].u.str.len);
    if (args[0].kind == V_MODEL) return val_num((double)args[0].u.node->set->n);
    return plan_error(p, sp[0], "len() takes a list, a string or a model, found %s",
                      val_kind_name(args[0].kind));
}

static bool whole(Value v, long *out) {
    if (v.kind != V_NUM || v.u.num != floor(v.u.num) || fabs(v.u.num) > 1e9) return false;
    *out = (long)v.u.num;
    return true;
}

/* range(n) = [0, ..., n-1]; range(a, b) = [a, ..., b-1]. */
Value bi_plan_range(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    long a = 0, b;
    if (!whole(args[0], &b)) return plan_error(p, sp[0], "range() expects whole numbers");
    if (args[1].kind != V_NONE) {
        a = b;
        if (!whole(args[1], &b)) return plan_error(p, sp[1], "range() expects whole numbers");
    }
    if (b - a > 1000000) return plan_error(p, call, "range() of more than a million numbers");
    if (b > a && !plan_spend(p, b - a, call)) return val_error();
    ValList *l;
    Value v = list_value(p, b > a ? (size_t)(b - a) : 0, &l);
    for (size_t i = 0; i < l->n; i++) l->items[i] = val_num((double)(a + (long)i));
    return v;
}

/* map(f, xs) = [f(x) for x in xs]. */
Value bi_plan_map(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    if (args[0].kind != V_FUNC && args[0].kind != V_BUILTIN)
        return plan_error(p, sp[0], "map() expects a function first, found %s", val_kind_name(args[0].kind));
    if (args[1].kind != V_LIST)
        return plan_error(p, sp[1], "map() expects a list, found %s", val_kind_name(args[1].kind));
    ValList *l;
    Value v = list_value(p, args[1].u.list->n, &l);
    for (size_t i = 0; i < l->n; i++) {
        l->items[i] = plan_apply(p, args[0], &args[1].u.list->items[i], 1, call);
        if (l->items[i].kind == V_ERROR) return val_error();
    }
    return v;
}

/* zip(xs, ys) = [[x0, y0], [x1, y1], ...], as long as the shorter list. */
Value bi_plan_zip(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    for (int i = 0; i < 2; i++)
        if (args[i].kind != V_LIST)
            return plan_error(p, sp[i], "zip() expects lists, found %s", val_kind_name(args[i].kind));
    size_t n = args[0].u.list->n < args[1].u.list->n ? args[0].u.list->n : args[1].u.list->n;
    ValList *l;
    Value v = list_value(p, n, &l);
    for (size_t i = 0; i < n; i++) {
        ValList *pair;
        l->items[i] = list_value(p, 2, &pair);
        pair->items[0] = args[0].u.list->items[i];
        pair->items[1] = args[1].u.list->items[i];
    }
    return v;
}

/* sum(xs): numbers, per-tensor numbers or models, added left to right. */
Value bi_plan_sum(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    if (args[0].kind != V_LIST) return plan_error(p, sp[0], "sum() expects a list, found %s", val_kind_name(args[0].kind));
    const ValList *l = args[0].u.list;
    if (l->n == 0) return val_num(0);
    Value acc = l->items[0];
    for (size_t i = 1; i < l->n; i++) {
        acc = plan_binary(p, OP_ADD, acc, l->items[i], sp[0], call);
        if (acc.kind == V_ERROR) return acc;
    }
    return acc;
}
