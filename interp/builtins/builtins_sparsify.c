/* builtins_sparsify.c - the pieces of the task-arithmetic family as
 * primitives of the language, so users can compose their own methods:
 *
 *   task_vectors(base, models)            [m - base for each model]
 *   prune_topk(d, density)                TIES trim
 *   drop_random(d, density, seed)         DARE
 *   prune_outliers(d, density, gamma)     breadcrumbs
 *   drop_della(d, density, epsilon, seed) DELLA
 *   elect_sign(ds, weights)               the TIES sign election, as a +-1 model
 *   disjoint_merge(base, ds, weights)     sign consensus, weighted sum, normalize, lambda
 *
 * The sparsifiers take one task vector or a list of them; with a list,
 * per-model parameters (density, gamma, epsilon) may be lists too, and
 * element i draws from random stream i, exactly as the built-in methods do
 * for model i, so a composed method gives the same bytes as the built-in
 * (stdlib/methods.merge and its golden test). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "runtime/kernels/gta.h"
#include "runtime/core/rng.h"
#include "interp/builtins/builtins_int.h"

/* ---- task_vectors(base, models) ------------------------------------------------------ */

Value bi_plan_task_vectors(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    if (!bi_expect_model(p, args[0], sp[0], "task_vectors() argument 'base'") ||
        !bi_expect_models(p, bi, args[1], sp[1], args[0].u.node->set, "the base"))
        return val_error();
    const ValList *ms = args[1].u.list;
    ValList *out = plan_alloc(p, sizeof *out);
    out->n = ms->n;
    out->items = plan_alloc(p, ms->n * sizeof *out->items);
    for (size_t i = 0; i < ms->n; i++) {
        /* The same node `m - base` would make, with the model's names. */
        Node *n = plan_new_node(p, N_BINARY, call);
        n->set = ms->items[i].u.node->set;
        n->u.op.op = OP_SUB;
        n->u.op.a = ms->items[i];
        n->u.op.b = args[0];
        out->items[i].kind = V_MODEL;
        out->items[i].u.node = n;
    }
    Value v = { .kind = V_LIST, .u.list = out };
    return v;
}

/* ---- the sparsifiers -------------------------------------------------------------------- */

static const char *const per_model_params[] = { "density", "gamma", "epsilon" };

Value bi_plan_sparsify(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    Value d = args[0];
    size_t k = d.kind == V_LIST ? d.u.list->n : 1;
    if (d.kind == V_LIST) {
        if (!bi_expect_models(p, bi, d, sp[0], NULL, NULL)) return val_error();
    } else {
        char what[64];
        snprintf(what, sizeof what, "%s() argument 'deltas'", bi->name);
        if (!bi_expect_model(p, d, sp[0], what)) return val_error();
    }
    for (size_t i = 0; i < 3; i++) {
        int at = bi_param_index(bi, per_model_params[i]);
        if (at < 0) continue;
        if (d.kind != V_LIST && args[at].kind == V_LIST)
            return plan_error(p, sp[at], "%s is a list but there is one task vector", per_model_params[i]);
        if (!bi_expect_per_model(p, args[at], k, sp[at], per_model_params[i])) return val_error();
    }
    int at;
    if ((at = bi_param_index(bi, "seed")) >= 0 && args[at].kind != V_NONE &&
        !bi_expect_number(p, args[at], sp[at], "seed"))
        return val_error();
    if ((at = bi_param_index(bi, "rescale")) >= 0 && args[at].kind != V_NONE &&
        !bi_expect_bool(p, args[at], sp[at], "rescale"))
        return val_error();
    if (d.kind != V_LIST) return bi_make_call(p, bi, args, call, d.u.node->set);
    /* A list: one node per task vector, with its own parameters and stream. */
    int np = builtin_n_params(bi), stream = bi_param_index(bi, "stream");
    ValList *out = plan_alloc(p, sizeof *out);
    out->n = k;
    out->items = plan_alloc(p, k * sizeof *out->items);
    for (size_t i = 0; i < k; i++) {
        Value one[BUILTIN_MAX_PARAMS];
        memcpy(one, args, (size_t)np * sizeof *one);
        one[0] = d.u.list->items[i];
        for (size_t q = 0; q < 3; q++) {
            int pi = bi_param_index(bi, per_model_params[q]);
            if (pi >= 0 && one[pi].kind == V_LIST) one[pi] = one[pi].u.list->items[i];
        }
        if (stream >= 0) one[stream] = val_num((double)i);
        out->items[i] = bi_make_call(p, bi, one, call, d.u.list->items[i].u.node->set);
    }
    Value v = { .kind = V_LIST, .u.list = out };
    return v;
}

/* A parameter the sparsifier takes, or 0 for one it does not take (its
 * branch below never reads it). */
static bool num_param(Exec *x, const Node *n, Value *args, const char *name, double *out) {
    int at = bi_param_index(n->u.call.bi, name);
    if (at < 0) {
        *out = 0;
        return true;
    }
    return bi_number_param(x, n, args[at], name, out);
}

Value bi_exec_sparsify(Exec *x, const Node *n, Value *args) {
    const Builtin *bi = n->u.call.bi;
    const Tensor *t = args[0].u.tensor;
    if (!t->f) return args[0];
    double density, gamma, epsilon, seed, stream;
    bool rescale;
    if (!num_param(x, n, args, "density", &density) || !num_param(x, n, args, "gamma", &gamma) ||
        !num_param(x, n, args, "epsilon", &epsilon) || !num_param(x, n, args, "seed", &seed) ||
        !num_param(x, n, args, "stream", &stream) ||
        !bi_bool_param(x, n, bi_arg(bi, args, "rescale"), "rescale", &rescale))
        return val_error();
    size_t numel = (size_t)t->numel;
    size_t row_len = t->shape.rank ? (size_t)t->shape.dims[t->shape.rank - 1] : 1;
    if (row_len == 0) row_len = 1;
    Tensor *r = exec_new_tensor(x, &t->shape, t->dtype, n->span);
    void *scratch = arena_alloc(x->arena, numel * (sizeof(float) + sizeof(uint32_t)) + 64);
    if (!r || !scratch) return exec_fail(x, n->span, "out of memory");
    memcpy(r->f, t->f, numel * sizeof(float));
    double orig_l1 = rescale ? gta_l1(r->f, numel) : 0;
    uint64_t s = rng_stream((uint64_t)seed, x->out->name, (uint64_t)stream);
    if (strcmp(bi->name, "prune_topk") == 0) {
        gta_trim_magnitude(r->f, numel, row_len, false, density, scratch);
    } else if (strcmp(bi->name, "drop_random") == 0) {
        gta_drop_random(r->f, numel, density, s);
    } else if (strcmp(bi->name, "prune_outliers") == 0) {
        gta_trim_outliers(r->f, numel, density, gamma, scratch, (uint32_t *)((float *)scratch + numel));
    } else if (gta_drop_della(r->f, numel, row_len, density, epsilon, s, scratch) == (size_t)-1) {
        return exec_fail(x, n->span, "drop_della(): needs 0 < density - epsilon and density + epsilon < 1 "
                                     "(density %g, epsilon %g)", density, epsilon);
    }
    if (rescale) gta_rescale_l1(r->f, numel, orig_l1);
    return bi_tensor_value(r);
}

/* ---- elect_sign and disjoint_merge ----------------------------------------------------------- */


static bool check_choice(Plan *p, Value v, SrcSpan at, const char *pname, const char *const *ok, size_t n) {
    if (v.kind == V_NONE) return true;
    for (size_t i = 0; i < n; i++)
        if (bi_str_is(v, ok[i])) return true;
    plan_error(p, at, "%s must be one of \"%s\", \"%s\"%s%s%s", pname, ok[0], ok[1], n > 2 ? ", \"" : "",
               n > 2 ? ok[2] : "", n > 2 ? "\"" : "");
    return false;
}

static const char *const consensus_choices[] = { "sum", "count", "none" };
static const char *const divisor_choices[] = { "weights", "count" };

/* elect_sign(deltas, weights, consensus, weighted_election)
 * disjoint_merge(base, deltas, weights, consensus, normalize, lambda,
 *                weighted_election, divisor); the defaults are the rows'. */
Value bi_plan_consensus(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    bool merge = strcmp(bi->name, "disjoint_merge") == 0;
    int d = merge ? 1 : 0;
    const TensorSet *set;
    if (merge) {
        if (!bi_expect_model(p, args[0], sp[0], "disjoint_merge() argument 'base'") ||
            !bi_expect_models(p, bi, args[1], sp[1], args[0].u.node->set, "the base"))
            return val_error();
        set = args[0].u.node->set;
    } else {
        if (!bi_expect_models(p, bi, args[0], sp[0], NULL, NULL)) return val_error();
        set = args[0].u.list->items[0].u.node->set;
    }
    size_t k = args[d].u.list->n;
    if (!bi_expect_per_model(p, args[d + 1], k, sp[d + 1], "weights") ||
        !check_choice(p, args[d + 2], sp[d + 2], "consensus", consensus_choices, 3))
        return val_error();
    for (int i = d + 3; i < builtin_n_params(bi); i++) {
        const char *pn = bi->params[i].name;
        bool ok = args[i].kind == V_NONE ||
                  (strcmp(pn, "lambda") == 0 ? bi_expect_number(p, args[i], sp[i], pn)
                   : strcmp(pn, "divisor") == 0 ? check_choice(p, args[i], sp[i], pn, divisor_choices, 2)
                                                : bi_expect_bool(p, args[i], sp[i], pn));
        if (!ok) return val_error();
    }
    return bi_make_call(p, bi, args, call, set);
}

static bool read_consensus(Exec *x, const Node *n, Value *args, int first, GtaOptions *opt, double **w,
                           size_t k) {
    const Builtin *bi = n->u.call.bi;
    *w = arena_array(x->arena, k, sizeof **w);
    if (!*w) {
        exec_fail(x, n->span, "out of memory");
        return false;
    }
    for (size_t i = 0; i < k; i++)
        if (!bi_weight_at(x, n, args[first + 1], i, &(*w)[i])) return false;
    Value c = bi_choice_param(x, n, args[first + 2], "consensus");
    if (c.kind == V_ERROR) return false;
    /* Of the options below, elect_sign lists only weighted_election, and
     * reads no other. */
    memset(opt, 0, sizeof *opt);
    opt->consensus = bi_str_is(c, "none") ? GTA_CONSENSUS_NONE : bi_str_is(c, "count") ? GTA_CONSENSUS_COUNT
                                                                                  : GTA_CONSENSUS_SUM;
    for (int i = first + 3; i < builtin_n_params(bi); i++) {
        const char *pn = bi->params[i].name;
        if (strcmp(pn, "lambda") == 0) {
            if (!bi_number_param(x, n, args[i], pn, &opt->lambda)) return false;
        } else if (strcmp(pn, "divisor") == 0) {
            Value d = bi_choice_param(x, n, args[i], pn);
            if (d.kind == V_ERROR) return false;
            opt->divide_by_count = bi_str_is(d, "count");
        } else if (strcmp(pn, "normalize") == 0) {
            if (!bi_bool_param(x, n, args[i], pn, &opt->normalize)) return false;
        } else if (!bi_bool_param(x, n, args[i], pn, &opt->elect_weighted)) {
            return false;
        }
    }
    return true;
}

Value bi_exec_consensus(Exec *x, const Node *n, Value *args) {
    bool merge = strcmp(n->u.call.bi->name, "disjoint_merge") == 0;
    int d = merge ? 1 : 0;
    size_t k;
    const Value *ds = bi_items_of(args[d], &k);
    const Tensor *ref = merge ? args[0].u.tensor : ds[0].u.tensor;
    if (!ref->f) return merge ? args[0] : ds[0];
    const float **xs = bi_gather(x, n, ds, k, &ref->shape);
    GtaOptions opt;
    double *w;
    if (!xs || !read_consensus(x, n, args, d, &opt, &w, k)) return val_error();
    size_t numel = (size_t)ref->numel;
    Tensor *r = exec_new_tensor(x, &ref->shape, ref->dtype, n->span);
    if (!r) return val_error();
    if (merge) {
        gta_merge(ref->f, xs, w, k, numel, &opt, r->f);
        return bi_tensor_value(r);
    }
    /* The elected sign: + where the (weighted) sum, or the count of signs,
     * is >= 0, as in gta_merge. */
    for (size_t j = 0; j < numel; j++) {
        double s = 0;
        for (size_t i = 0; i < k; i++) {
            float v = opt.elect_weighted ? (float)(w[i] * xs[i][j]) : xs[i][j];
            s += opt.consensus == GTA_CONSENSUS_COUNT ? (double)((v > 0) - (v < 0)) : (double)v;
        }
        r->f[j] = s >= 0 ? 1.0f : -1.0f;
    }
    return bi_tensor_value(r);
}
