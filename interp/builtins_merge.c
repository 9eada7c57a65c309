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

/* ---- the generalized task-arithmetic family ---------------------------------------------
 * task_arithmetic, ties, dare_ties, dare_linear, breadcrumbs, breadcrumbs_ties,
 * della, della_linear: task vectors -> sparsify -> optional L1 rescale ->
 * optional sign consensus -> weighted sum -> optional normalize -> lambda.
 * Each built-in's `info` is a GtaMethod with its sparsifier and defaults;
 * parameters a built-in does not list read as none. */


static bool expect_choice(Plan *p, Value v, SrcSpan at, const char *pname, const char *a,
                          const char *b) {
    if (v.kind == V_NONE) return true;
    if (v.kind == V_STR && ((strlen(a) == v.u.str.len && memcmp(v.u.str.s, a, v.u.str.len) == 0) ||
                            (strlen(b) == v.u.str.len && memcmp(v.u.str.s, b, v.u.str.len) == 0)))
        return true;
    plan_error(p, at, "%s must be \"%s\" or \"%s\"", pname, a, b);
    return false;
}


Value plan_gta(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    char what[80];
    snprintf(what, sizeof what, "%s() argument 'base'", bi->name);
    if (!bi_expect_model(p, args[0], sp[0], what)) return val_error();
    if (!bi_expect_models_cropped(p, bi, args[1], sp[1], args[0].u.node->set, "the base"))
        return val_error();
    size_t k = args[1].u.list->n;
    static const char *const per_model[] = { "weights", "density", "gamma", "epsilon" };
    for (size_t i = 0; i < sizeof per_model / sizeof per_model[0]; i++) {
        int at = bi_param_index(bi, per_model[i]);
        if (at >= 0 && !bi_expect_per_model(p, args[at], k, sp[at], per_model[i])) return val_error();
    }
    static const char *const numbers[] = { "lambda", "seed" };
    for (size_t i = 0; i < 2; i++) {
        int at = bi_param_index(bi, numbers[i]);
        if (at >= 0 && args[at].kind != V_NONE && !bi_expect_number(p, args[at], sp[at], numbers[i]))
            return val_error();
    }
    static const char *const flags[] = { "normalize", "rescale", "weighted_election" };
    for (size_t i = 0; i < 3; i++) {
        int at = bi_param_index(bi, flags[i]);
        if (at >= 0 && args[at].kind != V_NONE && !bi_expect_bool(p, args[at], sp[at], flags[i]))
            return val_error();
    }
    int at;
    if ((at = bi_param_index(bi, "consensus")) >= 0 && !expect_choice(p, args[at], sp[at], "consensus", "sum", "count"))
        return val_error();
    if ((at = bi_param_index(bi, "divisor")) >= 0 && !expect_choice(p, args[at], sp[at], "divisor", "weights", "count"))
        return val_error();
    if ((at = bi_param_index(bi, "trim")) >= 0 && !expect_choice(p, args[at], sp[at], "trim", "tensor", "row"))
        return val_error();
    if ((at = bi_param_index(bi, "seed")) >= 0 && args[at].kind == V_NUM &&
        !(args[at].u.num >= 0 && args[at].u.num < 9007199254740992.0 && args[at].u.num == floor(args[at].u.num)))
        return plan_error(p, sp[at], "seed must be a whole number from 0 to 2^53");
    return bi_make_call(p, bi, args, call, args[0].u.node->set);
}

/* Sparsifies task vector d (model i) in place as the method says. */
static bool sparsify(Exec *x, const Node *n, const GtaMethod *m, Value *args, size_t i, float *d,
                     size_t numel, size_t row_len, uint64_t seed, void *scratch) {
    const Builtin *bi = n->u.call.bi;
    double density, gamma, epsilon;
    if (!bi_per_model_at(x, n, bi_arg(bi, args, "density"), i, 1.0, "density", &density) ||
        !bi_per_model_at(x, n, bi_arg(bi, args, "gamma"), i, 0.01, "gamma", &gamma) ||
        !bi_per_model_at(x, n, bi_arg(bi, args, "epsilon"), i, 0.15, "epsilon", &epsilon))
        return false;
    uint64_t stream = rng_stream(seed, x->out->name, i);
    switch (m->sparsify) {
    case SPARSIFY_NONE: return true;
    case SPARSIFY_MAGNITUDE: {
        bool per_row = bi_str_is(bi_arg(bi, args, "trim"), "row");
        gta_trim_magnitude(d, numel, row_len, per_row, density, scratch);
        return true;
    }
    case SPARSIFY_RANDOM: gta_drop_random(d, numel, density, stream); return true;
    case SPARSIFY_OUTLIERS:
        gta_trim_outliers(d, numel, density, gamma, scratch, (uint32_t *)((float *)scratch + numel));
        return true;
    case SPARSIFY_DELLA:
        if (gta_drop_della(d, numel, row_len, density, epsilon, stream, scratch) == (size_t)-1) {
            exec_fail(x, n->span,
                      "%s(): model %zu needs 0 < density - epsilon and density + epsilon < 1 "
                      "(density %g, epsilon %g)", bi->name, i + 1, density, epsilon);
            return false;
        }
        return true;
    }
    return true;
}

Value exec_gta(Exec *x, const Node *n, Value *args) {
    const Builtin *bi = n->u.call.bi;
    const GtaMethod *m = bi->info;
    const Tensor *base = args[0].u.tensor;
    if (!base->f) return args[0];
    const Shape *shape = bi_out_shape(x, n, base);
    const ValList *models = args[1].u.list;
    size_t k = models->n, numel = (size_t)base->numel;
    size_t row_len = base->shape.rank ? (size_t)base->shape.dims[base->shape.rank - 1] : 1;
    if (row_len == 0) row_len = 1;
    double lambda = 1.0, seed_d = 0;
    Value v;
    if ((v = bi_arg(bi, args, "lambda")).kind != V_NONE && !bi_number_arg(x, n, v, "lambda", &lambda))
        return val_error();
    if ((v = bi_arg(bi, args, "seed")).kind != V_NONE && !bi_number_arg(x, n, v, "seed", &seed_d))
        return val_error();
    GtaOptions opt = { .consensus = m->consensus, .elect_weighted = true, .lambda = lambda };
    if (!bi_bool_arg(x, n, bi_arg(bi, args, "normalize"), m->normalize, "normalize", &opt.normalize) ||
        !bi_bool_arg(x, n, bi_arg(bi, args, "weighted_election"), true, "weighted_election",
                     &opt.elect_weighted))
        return val_error();
    bool rescale;
    if (!bi_bool_arg(x, n, bi_arg(bi, args, "rescale"), m->rescale, "rescale", &rescale)) return val_error();
    if (m->consensus != GTA_CONSENSUS_NONE && bi_str_is(bi_arg(bi, args, "consensus"), "count"))
        opt.consensus = GTA_CONSENSUS_COUNT;
    opt.divide_by_count = bi_str_is(bi_arg(bi, args, "divisor"), "count");

    double *w = arena_array(x->arena, k, sizeof *w);
    float **deltas = arena_array(x->arena, k, sizeof *deltas);
    void *scratch = arena_alloc(x->arena, numel * (sizeof(float) + sizeof(uint32_t)) + 64);
    if (!w || !deltas || !scratch) return exec_fail(x, n->span, "out of memory");
    for (size_t i = 0; i < k; i++) {
        if (!bi_weight_at(x, n, bi_arg(bi, args, "weights"), i, &w[i])) return val_error();
        const Tensor *t = bi_crop_to(x, n, models->items[i].u.tensor, shape);
        if (!t) return val_error();
        if (!t->f) return exec_fail(x, n->span, "%s(): tensor '%s' is not a float tensor in model %zu",
                                    bi->name, x->out->name, i + 1);
        float *d = arena_array(x->arena, numel ? numel : 1, sizeof *d);
        if (!d) return exec_fail(x, n->span, "out of memory");
        for (size_t j = 0; j < numel; j++) d[j] = t->f[j] - base->f[j];
        double orig_l1 = rescale ? gta_l1(d, numel) : 0;
        if (!sparsify(x, n, m, args, i, d, numel, row_len, (uint64_t)seed_d, scratch)) return val_error();
        if (rescale) gta_rescale_l1(d, numel, orig_l1);
        deltas[i] = d;
    }
    Tensor *r = exec_new_tensor(x, &base->shape, base->dtype, n->span);
    if (!r) return val_error();
    gta_merge(base->f, (const float *const *)deltas, w, k, numel, &opt, r->f);
    return bi_tensor_value(r);
}
