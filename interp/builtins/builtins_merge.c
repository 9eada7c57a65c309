/* builtins_merge.c - the merge methods as built-ins: argument checks and
 * signatures at plan time, parameter reading per tensor, and the call into
 * the runtime kernels. Method semantics follow mergekit (docs/methods.md). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/kernels/gta.h"
#include "runtime/io/hfnames.h"
#include "runtime/kernels/kernels.h"
#include "runtime/kernels/methods.h"
#include "runtime/core/rng.h"
#include "interp/builtins/builtins_int.h"
#include "interp/exec/exec_stats.h"

/* ---- linear ---------------------------------------------------------------------------- */

Value bi_plan_linear(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    const TensorSet *set = bi_plan_models(p, bi, val_none(), args[0], sp[0],
                                          bi_vocab_rule(p, bi, args, sp), 1, SIZE_MAX);
    if (!set) return val_error();
    size_t n = args[0].u.list->n;
    if (!bi_expect_per_model(p, args[1], n, sp[1], "weights")) return val_error();
    if (args[2].kind != V_NONE && !bi_expect_bool(p, args[2], sp[2], "normalize")) return val_error();
    return bi_make_call(p, bi, args, call, set);
}

Value bi_exec_linear(Exec *x, const Node *n, Value *args) {
    size_t k;
    const Value *ms = bi_items_of(args[0], &k);
    const Tensor *first = ms[0].u.tensor;
    if (!first->f) return ms[0];
    const Shape *shape = bi_out_shape(x, n, first);
    const float **xs = bi_gather(x, n, ms, k, shape);
    if (!xs) return val_error();
    bool normalize;
    if (!bi_bool_param(x, n, args[2], "normalize", &normalize)) return val_error();
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

Value bi_plan_slerp(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    if (!bi_expect_model(p, args[0], sp[0], "slerp() argument 'a'") ||
        !bi_expect_model(p, args[1], sp[1], "slerp() argument 'b'") ||
        !bi_expect_number(p, args[2], sp[2], "t"))
        return val_error();
    const TensorSet *set = bi_common_set(p, bi, args, 2, span_join(sp[0], sp[1]),
                                         bi_vocab_rule(p, bi, args, sp));
    return set ? bi_make_call(p, bi, args, call, set) : val_error();
}

/* Streamed slerp: one statistics round sums a.a, b.b and a.b per row range;
 * the sums are added range by range in order. t must not vary within a
 * tensor, which holds: it is a per-tensor number. */
typedef struct SlerpStream {
    size_t n_parts;
    double *sums;              /* [part][3] */
    double t, s0, s1;
} SlerpStream;

static void slerp_stream_free(void *state) {
    SlerpStream *s = state;
    if (s) free(s->sums);
    free(s);
}

static void *slerp_stream_open(Exec *x, const Node *n, Value *args, size_t n_parts) {
    double t;
    if (!bi_number_arg(x, n, args[2], "t", &t)) return NULL;
    SlerpStream *s = calloc(1, sizeof *s);
    if (s) s->sums = calloc(3 * n_parts, sizeof *s->sums);
    if (!s || !s->sums) {
        slerp_stream_free(s);
        return NULL;
    }
    s->n_parts = n_parts;
    s->t = t;
    return s;
}

static Value slerp_stream_scan(Exec *x, const Node *n, Value *args, void *state, int round) {
    SlerpStream *s = state;
    const Tensor *a = args[0].u.tensor;
    if (round < 0 || !a->f) return args[0];
    const Shape *shape = bi_out_shape(x, n, a);
    const float **xs = bi_gather(x, n, args, 2, shape);
    if (!xs) return val_error();
    size_t m = (size_t)shape_numel(shape);
    double *sums = &s->sums[3 * x->part];
    sums[0] = kern_sumsq(xs[0], m);
    sums[1] = kern_sumsq(xs[1], m);
    sums[2] = kern_dot(xs[0], xs[1], m);
    return args[0];
}

static int slerp_stream_close(void *state, int round, char *msg, size_t msg_len) {
    SlerpStream *s = state;
    double aa = 0, bb = 0, ab = 0;
    for (size_t p = 0; p < s->n_parts; p++) {
        aa += s->sums[3 * p];
        bb += s->sums[3 * p + 1];
        ab += s->sums[3 * p + 2];
    }
    kern_slerp_scales(aa, bb, ab, s->t, &s->s0, &s->s1);
    return 1;
}

const BuiltinStream slerp_stream = {
    .open = slerp_stream_open,
    .scan = slerp_stream_scan,
    .close_round = slerp_stream_close,
    .free = slerp_stream_free,
};

Value bi_exec_slerp(Exec *x, const Node *n, Value *args) {
    const Tensor *a = args[0].u.tensor;
    if (!a->f) return args[0];
    const SlerpStream *st = exec_stats_of(x, n);
    if (x->row_end && !st) return exec_fail(x, n->span, "internal error: slerp() given a row range without its statistics");
    const Shape *shape = bi_out_shape(x, n, a);
    const float **xs = bi_gather(x, n, args, 2, shape);
    double t;
    if (!xs || !bi_number_arg(x, n, args[2], "t", &t)) return val_error();
    Tensor *r = exec_new_tensor(x, shape, a->dtype, n->span);
    if (!r) return val_error();
    if (st) kern_slerp_apply(xs[0], xs[1], st->s0, st->s1, r->f, (size_t)r->numel);
    else kern_slerp(xs[0], xs[1], t, r->f, (size_t)r->numel);
    return bi_tensor_value(r);
}
