/* builtins_align.c - align(m, to, heads, kv_heads, attention):
 * Git Re-Basin weight matching (Ainsworth, Hayase & Srinivasa, ICLR 2023).
 * m's hidden units are permuted to best match to's without changing the
 * function m computes: per block, the MLP units (rows of gate_proj and
 * up_proj, columns of down_proj) and the attention heads (rows of q/k/v,
 * columns of o_proj; with grouped-query attention a key/value head moves
 * with its group of query heads). The residual stream is not permuted, so
 * embeddings, norms and every other tensor pass through.
 *
 * The plan stage finds the groups of coupled tensors ("layer groups") and
 * checks their shapes. A group's permutation is computed the first time
 * one of its tensors is asked for: the group's tensors of m and of to are
 * forced in their own frames (exec_in_frame), their similarity matrix is
 * built and the assignment solved; every tensor of the group then applies
 * it. Tensors are computed on several threads, so each group's result sits
 * behind its own mutex in the node's `extra`, allocated at plan time. The
 * permutation is a deterministic function of the weights, so the output
 * is the same for any -j. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/io/hfconfig.h"
#include "runtime/kernels/lap.h"
#include "runtime/kernels/rebasin.h"
#include "interp/builtins/builtins_int.h"

typedef struct AlignMember {
    const char *name;          /* the tensor, in m and in to */
    size_t group;
    RebasinAxis axis;          /* the units are blocks of its rows or of its columns */
} AlignMember;

typedef struct AlignGroup {
    const AlignMember *members;  /* in the order the similarity sums them */
    size_t first_member, n_members;  /* members = AlignInfo's list + first_member */
    size_t n_units;            /* MLP width, or key/value heads */
    bool heads;                /* attention (else MLP) */
    /* The cache, written once under lock by whichever thread gets there
     * first. */
    pthread_mutex_t lock;
    bool done;
    int32_t *perm;             /* unit j of the result is unit perm[j] of m */
} AlignGroup;

typedef struct AlignInfo {
    AlignMember *index;        /* every member, sorted by name */
    size_t n_index;
    AlignGroup *groups;
    size_t n_groups;
} AlignInfo;

/* ---- plan ------------------------------------------------------------------------ */

/* Builds the groups while planning. */
typedef struct Finder {
    Plan *p;
    const TensorSet *set;      /* m's */
    SrcSpan at;                /* m's argument, for messages about its tensors */
    AlignMember *members;      /* every member found, grouped */
    size_t n_members, cap_members;
    AlignGroup *groups;
    size_t n_groups, cap_groups;
} Finder;

static int member_cmp(const void *a, const void *b) {
    return strcmp(((const AlignMember *)a)->name, ((const AlignMember *)b)->name);
}

/* The text before `suffix` when name ends with it at a component boundary
 * ("model.layers.0.mlp." for "...mlp.gate_proj.weight"), else NULL. */
static const char *prefix_of(Plan *p, const char *name, const char *suffix) {
    size_t n = strlen(name), k = strlen(suffix);
    if (n < k || strcmp(name + n - k, suffix) != 0) return NULL;
    if (n > k && name[n - k - 1] != '.') return NULL;
    return arena_strndup(&p->arena, name, n - k);
}

static const char *joined(Plan *p, const char *prefix, const char *part) {
    size_t a = strlen(prefix), b = strlen(part);
    char *s = plan_alloc(p, a + b + 1);
    memcpy(s, prefix, a);
    memcpy(s + a, part, b + 1);
    return s;
}

/* The tensor prefix+part of m: required ones must exist; all must be
 * float tensors of the given rank. NULL when absent (after reporting an
 * error when required; *bad is set then). */
static const TensorInfo *part_of(Finder *f, const char *prefix, const char *part, int rank,
                                 const char *sibling, bool required, bool *bad) {
    const char *name = joined(f->p, prefix, part);
    const TensorInfo *t = tset_find(f->set, name);
    if (!t) {
        if (required) {
            plan_error(f->p, f->at, "align(): m has '%s%s' but no '%s'", prefix, sibling, name);
            diag_hint(f->p->diag, "align permutes Llama-style blocks: gate_proj, up_proj and down_proj; "
                                  "q_proj, k_proj, v_proj and o_proj (attention = false skips attention)");
            *bad = true;
        }
        return NULL;
    }
    if (!dtype_is_computable(t->dtype) || t->shape.rank != rank) {
        char s[96];
        plan_error(f->p, f->at, "align(): '%s' must be a float tensor of rank %d, found %s %s", name, rank,
                   dtype_st_name(t->dtype), shape_format(&t->shape, s, sizeof s));
        *bad = true;
        return NULL;
    }
    return t;
}

static void add_member(Finder *f, const TensorInfo *t, RebasinAxis axis) {
    if (f->n_members == f->cap_members) {
        size_t cap = f->cap_members ? 2 * f->cap_members : 16;
        AlignMember *m = plan_alloc(f->p, cap * sizeof *m);
        if (f->n_members) memcpy(m, f->members, f->n_members * sizeof *m);
        f->members = m;
        f->cap_members = cap;
    }
    f->members[f->n_members++] = (AlignMember){ t->name, f->n_groups, axis };
}

/* Closes the group whose members were added since `first`. */
static void add_group(Finder *f, size_t first, size_t n_units, bool heads) {
    if (f->n_groups == f->cap_groups) {
        size_t cap = f->cap_groups ? 2 * f->cap_groups : 8;
        AlignGroup *g = plan_alloc(f->p, cap * sizeof *g);
        if (f->n_groups) memcpy(g, f->groups, f->n_groups * sizeof *g);
        f->groups = g;
        f->cap_groups = cap;
    }
    AlignGroup *g = &f->groups[f->n_groups++];
    memset(g, 0, sizeof *g);
    g->first_member = first;   /* members is set once the list stops growing */
    g->n_members = f->n_members - first;
    g->n_units = n_units;
    g->heads = heads;
}

/* "'<t>' has shape [..]; it needs <want> <unit> (<why>)". */
static bool shape_error(Finder *f, const TensorInfo *t, long want, const char *unit, const char *why) {
    char s[96];
    plan_error(f->p, f->at, "align(): '%s' has shape %s; it needs %ld %s (%s)", t->name,
               shape_format(&t->shape, s, sizeof s), want, unit, why);
    return false;
}

/* An MLP: gate_proj and up_proj [F, D], down_proj [D, F], optional biases of
 * gate_proj and up_proj [F] (down_proj's bias lives in the residual stream
 * and stays). The F units are single rows and columns. */
static bool find_mlp(Finder *f, const char *prefix) {
    bool bad = false;
    const TensorInfo *gate = part_of(f, prefix, "gate_proj.weight", 2, "", true, &bad);
    const TensorInfo *up = part_of(f, prefix, "up_proj.weight", 2, "gate_proj.weight", true, &bad);
    const TensorInfo *down = part_of(f, prefix, "down_proj.weight", 2, "gate_proj.weight", true, &bad);
    const TensorInfo *gb = part_of(f, prefix, "gate_proj.bias", 1, "", false, &bad);
    const TensorInfo *ub = part_of(f, prefix, "up_proj.bias", 1, "", false, &bad);
    if (bad || !gate || !up || !down) return false;
    long F = (long)gate->shape.dims[0];
    if (!shape_equal(&up->shape, &gate->shape)) {
        char s[96], t[96];
        plan_error(f->p, f->at, "align(): '%s' has shape %s but '%s' has %s", up->name,
                   shape_format(&up->shape, s, sizeof s), gate->name, shape_format(&gate->shape, t, sizeof t));
        return false;
    }
    if (down->shape.dims[1] != F) return shape_error(f, down, F, "columns", "the rows of gate_proj");
    if (gb && gb->shape.dims[0] != F) return shape_error(f, gb, F, "entries", "the rows of gate_proj");
    if (ub && ub->shape.dims[0] != F) return shape_error(f, ub, F, "entries", "the rows of gate_proj");
    if (F <= 0) return true;   /* nothing to permute */
    size_t first = f->n_members;
    add_member(f, gate, REBASIN_ROWS);
    add_member(f, up, REBASIN_ROWS);
    add_member(f, down, REBASIN_COLS);
    if (gb) add_member(f, gb, REBASIN_ROWS);
    if (ub) add_member(f, ub, REBASIN_ROWS);
    add_group(f, first, (size_t)F, false);
    return true;
}

/* Attention: q_proj [H hd, D], k_proj and v_proj [KV hd, D], o_proj
 * [D, H hd], optional q/k/v biases (Qwen2). The units are the KV key/value
 * heads, each with its H/KV query heads: query head h uses key/value head
 * h / (H/KV), as transformers' repeat_kv lays them out. */
static bool find_attention(Finder *f, const char *prefix, long heads, long kv_heads, const char *source) {
    bool bad = false;
    const TensorInfo *q = part_of(f, prefix, "q_proj.weight", 2, "", true, &bad);
    const TensorInfo *k = part_of(f, prefix, "k_proj.weight", 2, "q_proj.weight", true, &bad);
    const TensorInfo *v = part_of(f, prefix, "v_proj.weight", 2, "q_proj.weight", true, &bad);
    const TensorInfo *o = part_of(f, prefix, "o_proj.weight", 2, "q_proj.weight", true, &bad);
    const TensorInfo *qb = part_of(f, prefix, "q_proj.bias", 1, "", false, &bad);
    const TensorInfo *kb = part_of(f, prefix, "k_proj.bias", 1, "", false, &bad);
    const TensorInfo *vb = part_of(f, prefix, "v_proj.bias", 1, "", false, &bad);
    if (bad || !q || !k || !v || !o) return false;
    long qrows = (long)q->shape.dims[0];
    if (qrows % heads != 0) {
        char s[96];
        plan_error(f->p, f->at, "align(): '%s' has shape %s: its %ld rows are not %ld heads of equal size",
                   q->name, shape_format(&q->shape, s, sizeof s), qrows, heads);
        diag_hint(f->p->diag, "the head counts come from %s", source);
        return false;
    }
    long hd = qrows / heads;
    const TensorInfo *kv[] = { k, v, kb, vb };
    for (int i = 0; i < 4; i++) {
        if (kv[i] && kv[i]->shape.dims[0] != kv_heads * hd) {
            shape_error(f, kv[i], kv_heads * hd, i < 2 ? "rows" : "entries", "key/value heads times the head size");
            diag_hint(f->p->diag, "%ld key/value heads of size %ld (q_proj's rows / %ld heads); the counts come from %s",
                      kv_heads, hd, heads, source);
            return false;
        }
    }
    if (o->shape.dims[1] != qrows) return shape_error(f, o, qrows, "columns", "the rows of q_proj");
    if (qb && qb->shape.dims[0] != qrows) return shape_error(f, qb, qrows, "entries", "the rows of q_proj");
    size_t first = f->n_members;
    add_member(f, q, REBASIN_ROWS);
    add_member(f, k, REBASIN_ROWS);
    add_member(f, v, REBASIN_ROWS);
    add_member(f, o, REBASIN_COLS);
    if (qb) add_member(f, qb, REBASIN_ROWS);
    if (kb) add_member(f, kb, REBASIN_ROWS);
    if (vb) add_member(f, vb, REBASIN_ROWS);
    add_group(f, first, (size_t)kv_heads, true);
    return true;
}

/* A checkpoint the value reads from (to's first, usually a plain model()),
 * for its config.json. Each node is visited once. */
static const Ckpt *source_of(Value v, bool *seen) {
    if (v.kind == V_LIST) {
        for (size_t i = 0; i < v.u.list->n; i++) {
            const Ckpt *c = source_of(v.u.list->items[i], seen);
            if (c) return c;
        }
        return NULL;
    }
    if (!val_is_lazy(v) || seen[v.u.node->id]) return NULL;
    const Node *n = v.u.node;
    seen[n->id] = true;
    Value next[2];
    size_t k = 0;
    switch (n->kind) {
    case N_SOURCE: return n->u.source.ckpt;
    case N_CALL:
        for (size_t i = 0; i < n->u.call.nargs; i++) {
            const Ckpt *c = source_of(n->u.call.args[i], seen);
            if (c) return c;
        }
        return NULL;
    case N_UNARY:
    case N_BINARY: next[k++] = n->u.op.a; next[k++] = n->u.op.b; break;
    case N_IF: next[k++] = n->u.cond.then_; next[k++] = n->u.cond.else_; break;
    default: return NULL;
    }
    for (size_t i = 0; i < k; i++) {
        const Ckpt *c = source_of(next[i], seen);
        if (c) return c;
    }
    return NULL;
}

static bool whole_positive(Value v, long *out) {
    if (v.kind != V_NUM || !(v.u.num >= 1 && v.u.num <= 1e9) || v.u.num != (double)(long)v.u.num) return false;
    *out = (long)v.u.num;
    return true;
}

/* The head counts: heads= and kv_heads= when given, else the config.json of
 * a checkpoint the models read from (to's first); kv_heads defaults to
 * heads. *source says where they came from, for messages. */
static bool head_counts(Plan *p, Value *args, const SrcSpan *sp, SrcSpan call, long *heads, long *kv_heads,
                        const char **source) {
    bool have_heads = false, have_kv = false;
    for (int i = 2; i <= 3; i++) {
        if (args[i].kind == V_NONE) continue;
        if (!whole_positive(args[i], i == 2 ? heads : kv_heads)) {
            plan_error(p, sp[i], "%s must be a whole number of heads, at least 1", i == 2 ? "heads" : "kv_heads");
            return false;
        }
        *(i == 2 ? &have_heads : &have_kv) = true;
    }
    const char *config = NULL;   /* where heads (and maybe kv_heads) were read */
    bool kv_in_config = false;
    if (!have_heads || !have_kv) {
        bool *seen = plan_alloc(p, (size_t)p->n_nodes + 1);
        const Ckpt *c = source_of(args[1], seen);
        if (!c) c = source_of(args[0], seen);
        const char *why = "no checkpoint";
        if (c) {
            char path[1200];
            snprintf(path, sizeof path, "%s/config.json", c->dir);
            ErrBuf err;
            const char *why_kv;
            int rc = have_heads ? 0 : hfconfig_get_long(c->dir, "num_attention_heads", heads, &why, &err);
            if (rc == 0 && !have_heads) {
                have_heads = true;
                config = arena_strdup(&p->arena, path);
            }
            if (rc == 0 && !have_kv) {
                rc = hfconfig_get_long(c->dir, "num_key_value_heads", kv_heads, &why_kv, &err);
                if (rc == 0) {
                    have_kv = kv_in_config = true;
                    if (!config) config = arena_strdup(&p->arena, path);
                }
                if (rc == 1) rc = 0;
            }
            if (rc < 0) return plan_error(p, call, "align(): %s", err.msg), false;
        }
        if (!have_heads) {
            plan_error(p, call, "align(): the number of attention heads is not known");
            if (!c) diag_hint(p->diag, "no checkpoint to read a config.json from");
            else if (strcmp(why, "no config.json") == 0) diag_hint(p->diag, "%s has no config.json", c->dir);
            else diag_hint(p->diag, "%s/config.json: num_attention_heads: %s", c->dir, why);
            diag_hint(p->diag, "give heads = N (and kv_heads = K with grouped-query attention), "
                               "or attention = false to align the MLP only");
            return false;
        }
        if (!have_kv) *kv_heads = *heads;
    }
    bool heads_in_config = args[2].kind == V_NONE;
    char text[1400];
    if (heads_in_config && kv_in_config) {
        snprintf(text, sizeof text, "%s", config);
    } else {
        char h[1300], k[1300];
        if (heads_in_config) snprintf(h, sizeof h, "num_attention_heads = %ld in %s", *heads, config);
        else snprintf(h, sizeof h, "heads = %ld", *heads);
        if (kv_in_config) snprintf(k, sizeof k, "num_key_value_heads = %ld in %s", *kv_heads, config);
        else if (args[3].kind != V_NONE) snprintf(k, sizeof k, "kv_heads = %ld", *kv_heads);
        else snprintf(k, sizeof k, "as many key/value heads");
        snprintf(text, sizeof text, "%.600s and %.600s", h, k);
    }
    *source = arena_strdup(&p->arena, text);
    if (*heads % *kv_heads != 0) {
        plan_error(p, args[3].kind != V_NONE ? sp[3] : call,
                   "align(): %ld attention heads cannot share %ld key/value heads equally", *heads, *kv_heads);
        diag_hint(p->diag, "the head counts come from %s", *source);
        return false;
    }
    return true;
}

Value bi_plan_align(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    if (!bi_expect_model(p, args[0], sp[0], "align() argument 'm'")) return val_error();
    if (!bi_expect_model(p, args[1], sp[1], "align() argument 'to'")) return val_error();
    Value attention_arg = bi_arg_or_default(bi, args, "attention");
    if (attention_arg.kind != V_BOOL)
        return plan_error(p, sp[4], "attention must be true or false, found %s", val_kind_name(attention_arg.kind));
    bool attention = attention_arg.u.b;
    const TensorSet *mset = args[0].u.node->set, *tset = args[1].u.node->set;
    /* The same names and shapes both ways: a unit of m is matched to a unit
     * of to through every coupled tensor. */
    if (!bi_check_compatible(p, bi, mset, args[1], sp[1], "m", "to")) return val_error();
    if (!bi_check_compatible(p, bi, tset, args[0], sp[0], "to", "m")) return val_error();

    Finder f = { .p = p, .set = mset, .at = sp[0] };
    long heads = 0, kv_heads = 0;
    const char *source = NULL;
    bool heads_known = false;
    for (size_t i = 0; i < mset->n; i++) {
        const char *name = mset->items[i].name, *prefix;
        if ((prefix = prefix_of(p, name, "gate_proj.weight"))) {
            if (!find_mlp(&f, prefix)) return val_error();
        } else if (attention && (prefix = prefix_of(p, name, "q_proj.weight"))) {
            if (!heads_known && !head_counts(p, args, sp, call, &heads, &kv_heads, &source)) return val_error();
            heads_known = true;
            if (!find_attention(&f, prefix, heads, kv_heads, source)) return val_error();
        }
    }
    if (f.n_groups == 0) {
        plan_error(p, sp[0], "align(): m has no Llama-style MLP%s to permute", attention ? " or attention" : "");
        diag_hint(p->diag, "align looks for <prefix>gate_proj/up_proj/down_proj.weight and "
                           "<prefix>q_proj/k_proj/v_proj/o_proj.weight (Llama, Mistral, Qwen)");
        return val_error();
    }
    AlignInfo *info = plan_alloc(p, sizeof *info);
    info->groups = f.groups;
    info->n_groups = f.n_groups;
    for (size_t g = 0; g < f.n_groups; g++) {
        AlignGroup *gr = &f.groups[g];
        gr->members = f.members + gr->first_member;
        gr->perm = plan_alloc(p, gr->n_units * sizeof *gr->perm);
        if (pthread_mutex_init(&gr->lock, NULL) != 0) return plan_error(p, call, "align(): cannot create a lock");
    }
    info->n_index = f.n_members;
    info->index = plan_alloc(p, f.n_members * sizeof *info->index);
    memcpy(info->index, f.members, f.n_members * sizeof *info->index);
    qsort(info->index, info->n_index, sizeof *info->index, member_cmp);
    Value v = bi_make_call(p, bi, args, call, mset);
    v.u.node->u.call.extra = info;
    return v;
}

/* ---- exec -------------------------------------------------------------------------- */

/* Tensor `name` of model argument `arg`, computed in a frame of its own. */
static const Tensor *member_tensor(Exec *x, const Node *n, Value arg, const char *name, const char *label) {
    const TensorSet *set = arg.u.node->set;
    const TensorInfo *info = tset_find(set, name);
    if (!info) return exec_fail(x, n->span, "align(): %s has no tensor '%s'", label, name), NULL;
    Value v = exec_in_frame(x, arg, info, set);
    if (v.kind == V_ERROR) return NULL;
    if (v.kind != V_TENSOR || !v.u.tensor->f || !shape_equal(&v.u.tensor->shape, &info->shape))
        return exec_fail(x, n->span, "align(): tensor '%s' of %s is not a float tensor of its planned shape", name,
                         label), NULL;
    return v.u.tensor;
}

/* Builds the group's similarity matrix from the tensors of m and to and
 * solves the matching into g->perm. Runs under g->lock. The tensors are
 * computed in a scratch arena, dropped member by member, so the group needs
 * two tensors, their transposes and the n x n matrix at a time. */
static bool compute_perm(Exec *x, const Node *n, Value *args, AlignGroup *g) {
    size_t u = g->n_units;
    if (u > LAP_MAX_N || u > SIZE_MAX / sizeof(double) / u)
        return exec_fail(x, n->span, "align(): %zu units are too many to match", u), false;
    double *S = calloc(u * u, sizeof *S);
    if (!S) return exec_fail(x, n->span, "align(): out of memory for a %zu x %zu similarity matrix", u, u), false;
    Arena scratch, *own = x->arena;
    arena_init(&scratch);
    x->arena = &scratch;
    bool ok = true;
    for (size_t i = 0; ok && i < g->n_members; i++) {
        const AlignMember *m = &g->members[i];
        const Tensor *a = member_tensor(x, n, args[0], m->name, "m");
        const Tensor *b = a ? member_tensor(x, n, args[1], m->name, "to") : NULL;
        ok = b != NULL;
        if (!ok) break;
        size_t rows = (size_t)a->shape.dims[0], cols = a->shape.rank == 2 ? (size_t)a->shape.dims[1] : 1;
        if (rebasin_add_similarity(S, u, a->f, b->f, rows, cols, m->axis) != 0) {
            exec_fail(x, n->span, "align(): out of memory comparing '%s'", m->name);
            ok = false;
        }
        arena_reset(&scratch);
    }
    x->arena = own;
    arena_free(&scratch);
    if (ok) {
        int rc = rebasin_match(S, u, g->perm);
        if (rc == -2)
            exec_fail(x, n->span, "align(): the similarity of '%s' is not finite (NaN or infinite weights)",
                      g->members[0].name);
        else if (rc != 0)
            exec_fail(x, n->span, "align(): out of memory matching '%s'", g->members[0].name);
        ok = rc == 0;
    }
    free(S);
    return ok;
}

Value bi_exec_align(Exec *x, const Node *n, Value *args) {
    const AlignInfo *info = n->u.call.extra;
    Value v = exec_force(x, args[0]);
    if (v.kind == V_ERROR) return v;
    AlignMember key = { .name = x->out->name };
    const AlignMember *m = bsearch(&key, info->index, info->n_index, sizeof key, member_cmp);
    if (!m) return v;
    if (x->row_end != 0) return exec_fail(x, n->span, "internal error: align() asked for a row range");
    const Tensor *t = v.u.tensor;
    if (v.kind != V_TENSOR || !t->f) return exec_fail(x, n->span, "align(): '%s' is not a float tensor", m->name);
    AlignGroup *g = &info->groups[m->group];
    pthread_mutex_lock(&g->lock);
    bool ok = g->done || (g->done = compute_perm(x, n, args, g));
    pthread_mutex_unlock(&g->lock);
    if (!ok) return val_error();
    Tensor *r = exec_new_tensor(x, &t->shape, t->dtype, n->span);
    if (!r) return val_error();
    size_t rows = (size_t)t->shape.dims[0], cols = t->shape.rank == 2 ? (size_t)t->shape.dims[1] : 1;
    rebasin_permute(t->f, r->f, g->n_units, rows, cols, m->axis, g->perm);
    return bi_tensor_value(r);
}

/* ---- for `mergelang plan` -------------------------------------------------------- */

const char *bi_align_note(const Node *n, const char *name, char *buf, size_t len, double *matching_bytes) {
    const AlignInfo *info = n->u.call.extra;
    AlignMember key = { .name = name };
    const AlignMember *m = bsearch(&key, info->index, info->n_index, sizeof key, member_cmp);
    *matching_bytes = 0;
    if (!m) return "passes through";
    const AlignGroup *g = &info->groups[m->group];
    /* The similarity matrix, then per member its tensors of m and to and
     * their transposes (the largest member counts). */
    double largest = 0;
    for (size_t i = 0; i < g->n_members; i++) {
        const TensorInfo *t = tset_find(n->set, g->members[i].name);
        double numel = t ? (double)shape_numel(&t->shape) : 0;
        if (numel > largest) largest = numel;
    }
    *matching_bytes = (double)g->n_units * (double)g->n_units * 8 + 4 * largest * 4;
    snprintf(buf, len, "%zu %s permuted", g->n_units, g->heads ? "key/value head groups" : "MLP units");
    return buf;
}
