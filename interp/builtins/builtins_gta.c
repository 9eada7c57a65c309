/* builtins_gta.c - the generalized task-arithmetic family as built-ins:
 * task_arithmetic, ties, dare_ties, dare_linear, breadcrumbs,
 * breadcrumbs_ties, della, della_linear: task vectors -> sparsify ->
 * optional L1 rescale -> optional sign consensus -> weighted sum -> optional
 * normalize -> lambda. Each built-in's `info` is a GtaMethod with its
 * sparsifier and consensus; its defaults are its registry row's. A
 * parameter a method does not list is one its sparsifier and consensus
 * never read (no rescale without one: nothing is dropped).
 *
 * A big tensor is streamed (BuiltinStream): statistics passes over its row
 * ranges find what needs the whole tensor (the exact top-k cutoff per model,
 * two for breadcrumbs, L1 norms before and after sparsifying), then each
 * range is merged on its own. The result is the same as for the whole
 * tensor, except that L1 sums are added range by range (float64 rounding
 * order). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/kernels/gta.h"
#include "runtime/kernels/kernels.h"
#include "runtime/io/hash.h"
#include "runtime/core/rng.h"
#include "runtime/kernels/topk_stream.h"
#include "interp/builtins/builtins_int.h"
#include "interp/exec/exec_stats.h"

static bool expect_choice(Plan *p, Value v, SrcSpan at, const char *pname, const char *a,
                          const char *b) {
    if (v.kind == V_NONE) return true;
    if (v.kind == V_STR && ((strlen(a) == v.u.str.len && memcmp(v.u.str.s, a, v.u.str.len) == 0) ||
                            (strlen(b) == v.u.str.len && memcmp(v.u.str.s, b, v.u.str.len) == 0)))
        return true;
    plan_error(p, at, "%s must be \"%s\" or \"%s\"", pname, a, b);
    return false;
}

Value bi_plan_gta(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    char what[80];
    snprintf(what, sizeof what, "%s() argument 'base'", bi->name);
    if (!bi_expect_model(p, args[0], sp[0], what)) return val_error();
    if (!bi_expect_models_cropped(p, bi, args[1], sp[1], args[0].u.node->set, "the base",
                                  bi_vocab_rule(p, bi, args, sp)))
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

/* ---- per-tensor settings ---------------------------------------------------- */

/* Everything a tensor's merge reads from the arguments, once. */
typedef struct GtaSetup {
    const GtaMethod *m;
    size_t k;                  /* models */
    GtaOptions opt;
    bool rescale, per_row;
    uint64_t seed;
    double *w, *density, *gamma, *epsilon;
    const Tensor *base;
    const Shape *shape;        /* the output's (this range's) shape */
    size_t numel, row_len;
} GtaSetup;

static bool gta_setup(Exec *x, const Node *n, Value *args, GtaSetup *g) {
    const Builtin *bi = n->u.call.bi;
    memset(g, 0, sizeof *g);
    g->m = bi->info;
    g->base = args[0].u.tensor;
    g->shape = bi_out_shape(x, n, g->base);
    g->k = args[1].u.list->n;
    g->numel = (size_t)g->base->numel;
    g->row_len = g->base->shape.rank ? (size_t)g->base->shape.dims[g->base->shape.rank - 1] : 1;
    if (g->row_len == 0) g->row_len = 1;
    /* Only the parameters bi lists are read; the others stay zero, which
     * its sparsifier and consensus never look at (gta_merge divides by the
     * weights without a divisor, and a method without rescale keeps every
     * entry of its task vectors). */
    double seed_d = 0;
    Value v;
    if (!bi_number_param(x, n, bi_arg(bi, args, "lambda"), "lambda", &g->opt.lambda) ||
        !bi_bool_param(x, n, bi_arg(bi, args, "normalize"), "normalize", &g->opt.normalize))
        return false;
    g->opt.consensus = g->m->consensus;
    if (bi_param_index(bi, "seed") >= 0 && !bi_number_param(x, n, bi_arg(bi, args, "seed"), "seed", &seed_d))
        return false;
    g->seed = (uint64_t)seed_d;
    if (bi_param_index(bi, "weighted_election") >= 0 &&
        !bi_bool_param(x, n, bi_arg(bi, args, "weighted_election"), "weighted_election", &g->opt.elect_weighted))
        return false;
    if (bi_param_index(bi, "rescale") >= 0 &&
        !bi_bool_param(x, n, bi_arg(bi, args, "rescale"), "rescale", &g->rescale))
        return false;
    if (g->m->consensus != GTA_CONSENSUS_NONE) {
        if ((v = bi_choice_param(x, n, bi_arg(bi, args, "consensus"), "consensus")).kind == V_ERROR) return false;
        if (bi_str_is(v, "count")) g->opt.consensus = GTA_CONSENSUS_COUNT;
    }
    if (bi_param_index(bi, "divisor") >= 0) {
        if ((v = bi_choice_param(x, n, bi_arg(bi, args, "divisor"), "divisor")).kind == V_ERROR) return false;
        g->opt.divide_by_count = bi_str_is(v, "count");
    }
    if (bi_param_index(bi, "trim") >= 0) {
        if ((v = bi_choice_param(x, n, bi_arg(bi, args, "trim"), "trim")).kind == V_ERROR) return false;
        g->per_row = bi_str_is(v, "row");
    }
    g->w = arena_array(x->arena, 4 * g->k, sizeof *g->w);
    if (!g->w) {
        exec_fail(x, n->span, "out of memory");
        return false;
    }
    g->density = g->w + g->k;
    g->gamma = g->density + g->k;
    g->epsilon = g->gamma + g->k;
    static const char *const per_model[] = { "density", "gamma", "epsilon" };
    double *per_model_out[] = { g->density, g->gamma, g->epsilon };
    for (size_t i = 0; i < g->k; i++) {
        if (!bi_weight_at(x, n, bi_arg(bi, args, "weights"), i, &g->w[i])) return false;
        for (size_t q = 0; q < 3; q++)
            if (bi_param_index(bi, per_model[q]) >= 0 &&
                !bi_per_model_at(x, n, bi_arg(bi, args, per_model[q]), i, per_model[q], &per_model_out[q][i]))
                return false;
    }
    return true;
}

/* Model i's task vector for this tensor (or range) into d. */
static bool task_vector(Exec *x, const Node *n, const GtaSetup *g, Value *args, size_t i, float *d) {
    const Tensor *t = bi_crop_to(x, n, args[1].u.list->items[i].u.tensor, g->shape);
    if (!t) return false;
    if (!t->f) {
        exec_fail(x, n->span, "%s(): tensor '%s' is not a float tensor in model %zu", n->u.call.bi->name,
                  x->out->name, i + 1);
        return false;
    }
    kern_binary(KERN_SUB, t->f, g->base->f, d, g->numel);
    return true;
}

/* ---- streaming ----------------------------------------------------------------- */

typedef struct GtaStream {
    size_t k, n_parts;
    ExecHints *hints;          /* cutoffs of earlier tensors, as first guesses */
    /* Cutoffs, two slots per model: slot i is model i's top-k (magnitude
     * trim), or the lower cutoff of its breadcrumbs ranks; slot k + i the
     * upper one. Each slot used where topk_on[slot]. */
    TopkStream *topk;
    bool *topk_on;
    uint64_t *hint_key;        /* per slot */
    float *guess;              /* per slot: the cutoff guessed, 0 for none */
    int *rounds;               /* per slot: statistics rounds its cutoff took */
    bool l1_now;               /* this round sums L1 norms */
    bool l1_done;
    double *l1_parts;          /* [part][model][2]: before, after sparsifying */
    double *l1_before, *l1_after;
} GtaStream;

/* The band around a guessed cutoff, as a fraction of it: four times how far
 * the last guess for the same key was off, within these bounds. A narrow
 * band collects fewer entries; a miss costs a histogram round, and the
 * next band is the widest again. */
#define HINT_WIDEST 0.05f
#define HINT_NARROWEST 0.01f
#define HINT_WIDTH_KEY 0x5bd1e9955bd1e995ull

static void put_hint(GtaStream *s, size_t i) {
    uint32_t cutoff = s->topk[i].cutoff;
    float c, width = HINT_WIDEST;
    memcpy(&c, &cutoff, sizeof c);
    if (s->guess[i] > 0 && s->rounds[i] == 1) {
        float off = fabsf(c - s->guess[i]) / s->guess[i] * 4;
        width = off < HINT_NARROWEST ? HINT_NARROWEST : off < HINT_WIDEST ? off : HINT_WIDEST;
    }
    uint32_t width_bits;
    memcpy(&width_bits, &width, sizeof width_bits);
    exec_hints_put(s->hints, s->hint_key[i], cutoff);
    exec_hints_put(s->hints, s->hint_key[i] ^ HINT_WIDTH_KEY, width_bits);
}

static void gta_stream_free(void *state) {
    GtaStream *s = state;
    if (!s) return;
    for (size_t i = 0; s->topk && i < 2 * s->k; i++)
        if (s->topk_on[i]) topk_free(&s->topk[i]);
    free(s->topk);
    free(s->topk_on);
    free(s->hint_key);
    free(s->guess);
    free(s->rounds);
    free(s->l1_parts);
    free(s->l1_before);
    free(s->l1_after);
    free(s);
}

/* A hint's key: the node, the model, the tensor's name with its block
 * number left out, and the fraction kept (to within a few percent). */
static uint64_t hint_key(const Node *n, size_t i, const char *name, uint64_t keep) {
    char kind[512];
    size_t k = 0;
    for (const char *c = name; *c && k + 1 < sizeof kind; c++)
        if (*c < '0' || *c > '9') kind[k++] = *c;
    kind[k] = '\0';
    uint64_t h = hash64(kind, k);
    return h ^ ((uint64_t)n->id * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)i << 48) ^ (uint64_t)(63 - __builtin_clzll(keep | 1));
}

/* Starts the cutoff of slot `slot` (model i): the top `keep` entries of
 * the whole tensor, ties shared by index (keep_last: the last ones). */
static bool open_topk(GtaStream *s, const Node *n, const Exec *x, size_t slot, uint64_t keep, bool keep_last) {
    if (topk_init(&s->topk[slot], keep, s->n_parts) != 0) return false;
    s->topk_on[slot] = true;
    if (keep_last) topk_keep_last(&s->topk[slot]);
    /* The same node's cutoff for the same model on a tensor of the same
     * kind (another layer's) is usually within a few percent: collect
     * around it first. A miss costs a round, never a different result. */
    s->hint_key[slot] = hint_key(n, slot, x->out->name, keep);
    uint32_t guess, width_bits;
    if (s->hints && exec_hints_get(s->hints, s->hint_key[slot], &guess)) {
        float v, width = HINT_WIDEST;
        memcpy(&v, &guess, sizeof v);
        if (exec_hints_get(s->hints, s->hint_key[slot] ^ HINT_WIDTH_KEY, &width_bits))
            memcpy(&width, &width_bits, sizeof width);
        s->guess[slot] = v;
        float lo = v * (1 - width), hi = v * (1 + width);
        uint32_t blo, bhi;
        memcpy(&blo, &lo, sizeof blo);
        memcpy(&bhi, &hi, sizeof bhi);
        topk_guess(&s->topk[slot], blo, bhi);
    }
    return true;
}

/* Which statistics this tensor needs: for each model whose magnitude trim
 * keeps some but not all entries of the whole tensor, its top-k cutoff;
 * for breadcrumbs, the two cutoffs around the ranks it keeps (ranks >=
 * start are the top n - start, ranks >= end the top n - end, ties by
 * index as its ascending sort orders them); L1 norms when rescaling. */
static void *gta_stream_open(Exec *x, const Node *n, Value *args, size_t n_parts) {
    GtaSetup g;
    if (!gta_setup(x, n, args, &g)) return NULL;
    GtaStream *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->k = g.k;
    s->n_parts = n_parts;
    s->hints = exec_stats_hints(x);
    s->topk = calloc(2 * g.k, sizeof *s->topk);
    s->topk_on = calloc(2 * g.k, sizeof *s->topk_on);
    s->l1_parts = calloc(n_parts * g.k * 2, sizeof *s->l1_parts);
    s->l1_before = calloc(g.k, sizeof *s->l1_before);
    s->l1_after = calloc(g.k, sizeof *s->l1_after);
    s->hint_key = calloc(2 * g.k, sizeof *s->hint_key);
    s->guess = calloc(2 * g.k, sizeof *s->guess);
    s->rounds = calloc(2 * g.k, sizeof *s->rounds);
    if (!s->topk || !s->topk_on || !s->l1_parts || !s->l1_before || !s->l1_after || !s->hint_key || !s->guess ||
        !s->rounds) {
        gta_stream_free(s);
        return NULL;
    }
    uint64_t total = (uint64_t)shape_numel(&x->out->shape);
    bool any_topk = false, ok = true;
    for (size_t i = 0; i < g.k && g.base->f && ok; i++) {
        if (g.per_row || g.density[i] >= 1) continue;
        if (g.m->sparsify == SPARSIFY_MAGNITUDE) {
            uint64_t keep = (uint64_t)gta_kept_count(g.density[i], (size_t)total);
            if (keep == 0 || keep >= total) continue;
            ok = open_topk(s, n, x, i, keep, false);
            any_topk = true;
        } else if (g.m->sparsify == SPARSIFY_OUTLIERS) {
            size_t start, end;
            gta_outlier_range((size_t)total, g.density[i], g.gamma[i], &start, &end);
            if (start >= end) continue;     /* keeps nothing: sparsify zeroes */
            if (start > 0) ok = open_topk(s, n, x, i, total - start, true);
            if (ok && end < total) ok = open_topk(s, n, x, g.k + i, total - end, true);
            any_topk = any_topk || start > 0 || end < total;
        }
    }
    if (!ok) {
        gta_stream_free(s);
        return NULL;
    }
    s->l1_done = !g.rescale || !g.base->f;
    s->l1_now = !any_topk && !s->l1_done;
    return s;
}

/* Sparsifies model i's task vector d (this range) as the method says,
 * using the streamed cutoffs when there are any. */
static bool sparsify(Exec *x, const Node *n, const GtaSetup *g, size_t i, float *d, const GtaStream *st,
                     void *scratch) {
    uint64_t stream = rng_stream(g->seed, x->out->name, i);
    uint64_t first = x->row_end ? (uint64_t)x->row_begin * (uint64_t)(g->numel / (size_t)g->base->shape.dims[0]) : 0;
    double density = g->density[i];
    switch (g->m->sparsify) {
    case SPARSIFY_NONE: return true;
    case SPARSIFY_MAGNITUDE:
        if (!st || g->per_row) {
            gta_trim_magnitude(d, g->numel, g->row_len, g->per_row, density, scratch);
        } else if (st->topk_on[i]) {
            topk_apply(&st->topk[i], x->part, d, g->numel);
        } else if (!(density >= 1) && gta_kept_count(density, (size_t)shape_numel(&x->out->shape)) == 0) {
            memset(d, 0, g->numel * sizeof *d);
        }
        return true;
    case SPARSIFY_RANDOM: gta_drop_random_from(d, g->numel, density, stream, first); return true;
    case SPARSIFY_OUTLIERS:
        if (!st) {
            gta_trim_outliers(d, g->numel, density, g->gamma[i], scratch, (uint32_t *)((float *)scratch + g->numel));
        } else if (st->topk_on[i] || st->topk_on[st->k + i]) {
            topk_keep_between(st->topk_on[i] ? &st->topk[i] : NULL,
                              st->topk_on[st->k + i] ? &st->topk[st->k + i] : NULL, x->part, d, g->numel);
        } else if (!(density >= 1)) {
            size_t start, end;
            gta_outlier_range((size_t)shape_numel(&x->out->shape), density, g->gamma[i], &start, &end);
            if (start >= end) memset(d, 0, g->numel * sizeof *d);
        }
        return true;
    case SPARSIFY_DELLA:
        if (gta_drop_della_from(d, g->numel, g->row_len, density, g->epsilon[i], stream, first, scratch) ==
            (size_t)-1) {
            exec_fail(x, n->span,
                      "%s(): model %zu needs 0 < density - epsilon and density + epsilon < 1 "
                      "(density %g, epsilon %g)", n->u.call.bi->name, i + 1, density, g->epsilon[i]);
            return false;
        }
        return true;
    }
    return true;
}

static Value gta_stream_scan(Exec *x, const Node *n, Value *args, void *state, int round) {
    GtaStream *s = state;
    /* A base that is not float passes through (bi_exec_gta): nothing to add. */
    if (round < 0 || !args[0].u.tensor->f) return args[0];
    GtaSetup g;
    if (!gta_setup(x, n, args, &g)) return val_error();
    float *d = arena_array_uninit(x->arena, g.numel ? g.numel : 1, sizeof *d);
    void *scratch = arena_alloc_uninit(x->arena, g.numel * (sizeof(float) + sizeof(uint32_t)) + 64);
    uint32_t *hist = arena_array_uninit(x->arena, g.numel > TOPK_SCRATCH ? g.numel : TOPK_SCRATCH, sizeof *hist);
    if (!d || !scratch || !hist) return exec_fail(x, n->span, "out of memory");
    for (size_t i = 0; i < g.k; i++) {
        bool pending_lo = s->topk_on[i] && s->topk[i].phase != TOPK_DONE;
        bool pending_hi = s->topk_on[s->k + i] && s->topk[s->k + i].phase != TOPK_DONE;
        if (!pending_lo && !pending_hi && !s->l1_now) continue;
        if (!task_vector(x, n, &g, args, i, d)) return val_error();
        if (pending_lo || pending_hi) {
            if (pending_lo) topk_scan(&s->topk[i], x->part, d, g.numel, hist);
            if (pending_hi) topk_scan(&s->topk[s->k + i], x->part, d, g.numel, hist);
            continue;
        }
        double *sums = &s->l1_parts[(x->part * s->k + i) * 2];
        sums[0] = gta_l1(d, g.numel);
        if (!sparsify(x, n, &g, i, d, s, scratch)) return val_error();
        sums[1] = gta_l1(d, g.numel);
    }
    return args[0];
}

static int gta_stream_close(void *state, int round, char *msg, size_t msg_len) {
    GtaStream *s = state;
    if (s->l1_now) {
        for (size_t i = 0; i < s->k; i++) {
            double before = 0, after = 0;
            for (size_t p = 0; p < s->n_parts; p++) {
                before += s->l1_parts[(p * s->k + i) * 2];
                after += s->l1_parts[(p * s->k + i) * 2 + 1];
            }
            s->l1_before[i] = before;
            s->l1_after[i] = after;
        }
        s->l1_now = false;
        s->l1_done = true;
        return 1;
    }
    bool all = true;
    for (size_t i = 0; i < 2 * s->k; i++) {
        if (!s->topk_on[i] || s->topk[i].phase == TOPK_DONE) continue;
        int r = topk_close(&s->topk[i]);
        if (r < 0) {
            snprintf(msg, msg_len, "out of memory finding the top-k cutoff");
            return -1;
        }
        s->rounds[i]++;
        if (r == 1) put_hint(s, i);
        all = all && r == 1;
    }
    if (!all) return 0;
    if (s->l1_done) return 1;
    s->l1_now = true;
    return 0;
}

const BuiltinStream gta_stream = {
    .open = gta_stream_open,
    .scan = gta_stream_scan,
    .close_round = gta_stream_close,
    .free = gta_stream_free,
};

/* ---- the merge ------------------------------------------------------------------------ */

Value bi_exec_gta(Exec *x, const Node *n, Value *args) {
    if (!args[0].u.tensor->f) return args[0];
    const GtaStream *st = exec_stats_of(x, n);
    if (x->row_end && !st && n->u.call.bi->stream)
        return exec_fail(x, n->span, "internal error: %s() given a row range without its statistics",
                         n->u.call.bi->name);
    GtaSetup g;
    if (!gta_setup(x, n, args, &g)) return val_error();
    float **deltas = arena_array(x->arena, g.k, sizeof *deltas);
    void *scratch = arena_alloc_uninit(x->arena, g.numel * (sizeof(float) + sizeof(uint32_t)) + 64);
    if (!deltas || !scratch) return exec_fail(x, n->span, "out of memory");
    for (size_t i = 0; i < g.k; i++) {
        float *d = arena_array_uninit(x->arena, g.numel ? g.numel : 1, sizeof *d);
        if (!d) return exec_fail(x, n->span, "out of memory");
        if (!task_vector(x, n, &g, args, i, d)) return val_error();
        double orig_l1 = g.rescale && !st ? gta_l1(d, g.numel) : 0;
        if (!sparsify(x, n, &g, i, d, st, scratch)) return val_error();
        if (g.rescale && st) gta_rescale_by(d, g.numel, st->l1_before[i], st->l1_after[i]);
        else if (g.rescale) gta_rescale_l1(d, g.numel, orig_l1);
        deltas[i] = d;
    }
    Tensor *r = exec_new_tensor(x, &g.base->shape, g.base->dtype, n->span);
    if (!r) return val_error();
    gta_merge(g.base->f, (const float *const *)deltas, g.w, g.k, g.numel, &g.opt, r->f);
    return bi_tensor_value(r);
}
