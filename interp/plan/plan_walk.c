/* plan_walk.c - the plan stage's expression walker and statements (plan.h).
 *
 * Each expression is evaluated once. Constants are folded right away; an
 * operation with a lazy operand becomes a graph node instead. Static rules
 * decide the kind of a node's result (model or per-tensor scalar) so that
 * type errors are reported here, before any tensor is read. */
#include "interp/plan/plan.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/io/hfnames.h"
#include "interp/plan/ops.h"
#include "interp/syntax/suggest.h"
#include "interp/syntax/syntax.h"

#define PLAN_MAX_DEPTH 200
static const char *const context_names[] = { "name", "layer", "n_layers", "shape", "dtype" };
#define N_CONTEXT_NAMES (sizeof context_names / sizeof context_names[0])

static Value walk(Plan *p, Env *env, const Ast *n);

/* ---- environments ----------------------------------------------------------- */

/* A scope is an array of bindings in definition order. A scope with many
 * names (a generated or hostile recipe may define hundreds of thousands)
 * also gets a hash index of the array, so that defining and looking up names
 * is not quadratic. The array stays the truth: the index is brought up to
 * date lazily, and an index entry counts only when the binding it points to
 * exists and has the name looked for (the REPL cuts the array back after a
 * failed input). */
#define ENV_INDEX_MIN 16

static size_t name_hash(const char *s) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (size_t)h;
}

static void env_index_sync(Plan *p, Env *e) {
    if (e->n_indexed > e->n) e->n_indexed = e->n;
    if (e->n_indexed == e->n) return;
    if (2 * (e->n_filled + e->n - e->n_indexed) > e->n_slots) {
        size_t ns = 64;
        while (ns < 4 * e->n) ns *= 2;
        e->slots = plan_alloc(p, ns * sizeof *e->slots);
        e->n_slots = ns;
        e->n_filled = 0;
        e->n_indexed = 0;
    }
    for (; e->n_indexed < e->n; e->n_indexed++) {
        size_t h = name_hash(e->items[e->n_indexed].name) & (e->n_slots - 1);
        while (e->slots[h]) h = (h + 1) & (e->n_slots - 1);
        e->slots[h] = e->n_indexed + 1;
        e->n_filled++;
    }
}

static Binding *env_find_local(Plan *p, Env *e, const char *name) {
    if (e->n < ENV_INDEX_MIN) {
        for (size_t i = 0; i < e->n; i++)
            if (strcmp(e->items[i].name, name) == 0) return &e->items[i];
        return NULL;
    }
    env_index_sync(p, e);
    for (size_t h = name_hash(name) & (e->n_slots - 1); e->slots[h]; h = (h + 1) & (e->n_slots - 1)) {
        size_t i = e->slots[h] - 1;
        if (i < e->n && strcmp(e->items[i].name, name) == 0) return &e->items[i];
    }
    return NULL;
}

static Binding *env_lookup(Plan *p, Env *e, const char *name) {
    for (; e; e = e->parent) {
        Binding *b = env_find_local(p, e, name);
        if (b) return b;
    }
    return NULL;
}

/* Function scopes are few and small; their bindings live in the plan arena
 * (copied on growth), globals in a malloc'd array that plan_free releases. */
static void env_define(Plan *p, Env *e, const char *name, Value v, SrcSpan at) {
    Binding *b = env_find_local(p, e, name);
    if (b) {
        b->value = v;
        b->at = at;
        return;
    }
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 8;
        Binding *items;
        if (e == &p->globals) {
            items = realloc(e->items, cap * sizeof *items);
            if (!items) {
                fprintf(stderr, "mergelang: out of memory\n");
                exit(4);
            }
        } else {
            items = plan_alloc(p, cap * sizeof *items);
            if (e->n) memcpy(items, e->items, e->n * sizeof *items);
        }
        e->items = items;
        e->cap = cap;
    }
    e->items[e->n].name = name;
    e->items[e->n].value = v;
    e->items[e->n].at = at;
    e->n++;
}

static int context_index(const char *name) {
    for (size_t i = 0; i < N_CONTEXT_NAMES; i++)
        if (strcmp(context_names[i], name) == 0) return (int)i;
    return -1;
}

static Value context_value(Plan *p, int which) {
    if (!p->context[which]) {
        SrcSpan none = { 0 };
        Node *n = plan_new_node(p, N_CONTEXT, none);
        n->u.ctx = (ContextVar)which;
        p->context[which] = n;
    }
    return plan_node_value(p->context[which]);
}

static void report_unknown_name(Plan *p, Env *env, const char *name, SrcSpan at) {
    diag_error(p->diag, at, "unknown name '%s'", name);
    /* Past the errors shown, a suggestion would only cost time (quadratic
     * in a recipe with many names and many unknown ones). */
    if (p->diag->max_errors > 0 && p->diag->n_errors > p->diag->max_errors) return;
    /* Gather every visible name for the suggestion. */
    size_t cap = p->builtins->n + N_CONTEXT_NAMES;
    for (Env *e = env; e; e = e->parent) cap += e->n;
    const char **cands = plan_alloc(p, cap * sizeof *cands);
    size_t n = 0;
    for (Env *e = env; e; e = e->parent)
        for (size_t i = 0; i < e->n; i++) cands[n++] = e->items[i].name;
    for (size_t i = 0; i < p->builtins->n; i++) cands[n++] = p->builtins->items[i].name;
    for (size_t i = 0; i < N_CONTEXT_NAMES; i++) cands[n++] = context_names[i];
    const char *s = suggest_closest(name, cands, n);
    if (s) diag_hint(p->diag, "did you mean '%s'?", s);
}

static Value lookup_name(Plan *p, Env *env, const Ast *n) {
    Binding *b = env_lookup(p, env, n->u.name);
    if (b) return b->value;
    int ci = context_index(n->u.name);
    if (ci >= 0) return context_value(p, ci);
    const Builtin *bi = builtin_table_find(p->builtins, n->u.name);
    if (bi) {
        Value v = { .kind = V_BUILTIN, .u.builtin = bi };
        return v;
    }
    report_unknown_name(p, env, n->u.name, n->span);
    return val_error();
}

/* ---- checkpoints ---------------------------------------------------------------- */

/* ---- operators ------------------------------------------------------------------ */

/* For model (op) model: every tensor of the left model must exist in the right
 * one with the same shape. The result has the left model's names. Reports
 * the first disagreement and how many more there are. */
static bool check_same_tensors(Plan *p, const TensorSet *a, const TensorSet *b, SrcSpan at,
                               const char *what) {
    size_t bad = 0;
    for (size_t i = 0; i < a->n; i++) {
        const TensorInfo *ta = &a->items[i];
        if (!dtype_is_computable(ta->dtype)) continue;
        const TensorInfo *tb = tset_find(b, ta->name);
        if (tb && shape_equal(&ta->shape, &tb->shape)) continue;
        if (bad++ > 0) continue;
        if (!tb) {
            plan_error(p, at, "%s: tensor '%s' is missing from the right-hand side", what, ta->name);
        } else {
            char sa[96], sb[96];
            plan_error(p, at, "%s: tensor '%s' has shape %s on the left but %s on the right", what,
                       ta->name, shape_format(&ta->shape, sa, sizeof sa),
                       shape_format(&tb->shape, sb, sizeof sb));
        }
    }
    plan_hint_more_tensors(p, bad);
    return bad == 0;
}

static Value make_op_node(Plan *p, NodeKind kind, AstOp op, Value a, Value b, SrcSpan span,
                          const TensorSet *set) {
    Node *n = plan_new_node(p, kind, span);
    n->set = set;
    n->u.op.op = op;
    n->u.op.a = a;
    n->u.op.b = b;
    return plan_node_value(n);
}

static bool is_scalarish(Value v) { return v.kind == V_NUM || v.kind == V_LAZY; }

Value plan_binary(Plan *p, AstOp op, Value a, Value b, SrcSpan op_at, SrcSpan whole) {
    if (a.kind == V_ERROR || b.kind == V_ERROR) return val_error();
    if (!val_is_lazy(a) && !val_is_lazy(b)) {
        char err[256];
        Value r = ops_binary(&p->arena, op, a, b, err, sizeof err);
        if (r.kind == V_ERROR) return plan_error(p, op_at, "%s", err);
        return r;
    }
    bool arith = op == OP_ADD || op == OP_SUB || op == OP_MUL || op == OP_DIV;
    if (arith) {
        if (a.kind == V_MODEL && b.kind == V_MODEL) {
            char what[64];
            snprintf(what, sizeof what, "cannot apply '%s'", ast_op_text(op));
            if (!check_same_tensors(p, a.u.node->set, b.u.node->set, op_at, what)) return val_error();
            return make_op_node(p, N_BINARY, op, a, b, whole, a.u.node->set);
        }
        if (a.kind == V_MODEL && is_scalarish(b))
            return make_op_node(p, N_BINARY, op, a, b, whole, a.u.node->set);
        if (b.kind == V_MODEL && is_scalarish(a))
            return make_op_node(p, N_BINARY, op, a, b, whole, b.u.node->set);
        if (a.kind == V_LAZY || b.kind == V_LAZY) {
            Value other = a.kind == V_LAZY ? b : a;
            if (other.kind == V_LAZY || other.kind == V_NUM || other.kind == V_STR)
                return make_op_node(p, N_BINARY, op, a, b, whole, NULL);
        }
        return plan_error(p, op_at, "cannot apply '%s' to %s and %s", ast_op_text(op),
                          val_kind_name(a.kind), val_kind_name(b.kind));
    }
    if (a.kind == V_MODEL || b.kind == V_MODEL) {
        diag_error(p->diag, op_at, "cannot apply '%s' to a model", ast_op_text(op));
        diag_hint(p->diag, "compare a statistic of the model instead, such as its norm");
        return val_error();
    }
    return make_op_node(p, N_BINARY, op, a, b, whole, NULL);
}

static Value walk_binary(Plan *p, Env *env, const Ast *n) {
    AstOp op = n->u.op.op;
    Value a = walk(p, env, n->u.op.a);
    /* Short-circuit on a known left side, so `false and f()` never plans f(). */
    if ((op == OP_AND || op == OP_OR) && a.kind == V_BOOL) {
        if (op == OP_AND && !a.u.b) return a;
        if (op == OP_OR && a.u.b) return a;
    }
    Value b = walk(p, env, n->u.op.b);
    return plan_binary(p, op, a, b, n->u.op.op_span, n->span);
}

static Value walk_unary(Plan *p, Env *env, const Ast *n) {
    Value a = walk(p, env, n->u.op.a);
    if (a.kind == V_ERROR) return a;
    if (!val_is_lazy(a)) {
        char err[256];
        Value r = ops_unary(&p->arena, n->u.op.op, a, err, sizeof err);
        if (r.kind == V_ERROR) return plan_error(p, n->span, "%s", err);
        return r;
    }
    if (n->u.op.op == OP_NOT && a.kind == V_MODEL)
        return plan_error(p, n->span, "'not' needs a boolean, found a model");
    return make_op_node(p, N_UNARY, n->u.op.op, a, val_none(), n->span,
                        a.kind == V_MODEL ? a.u.node->set : NULL);
}

static Value walk_if(Plan *p, Env *env, const Ast *n) {
    Value c = walk(p, env, n->u.cond.cond);
    if (c.kind == V_ERROR) return c;
    if (c.kind == V_BOOL) return walk(p, env, c.u.b ? n->u.cond.then_ : n->u.cond.else_);
    if (c.kind != V_LAZY)
        return plan_error(p, n->u.cond.cond->span, "the condition must be true or false, found %s",
                          val_kind_name(c.kind));
    Value t = walk(p, env, n->u.cond.then_);
    Value e = walk(p, env, n->u.cond.else_);
    if (t.kind == V_ERROR || e.kind == V_ERROR) return val_error();
    const TensorSet *set = NULL;
    if (t.kind == V_MODEL || e.kind == V_MODEL) {
        if (t.kind != V_MODEL || e.kind != V_MODEL)
            return plan_error(p, n->span,
                              "both branches must be models when one is (found %s and %s)",
                              val_kind_name(t.kind), val_kind_name(e.kind));
        /* The condition may pick either branch for any tensor, so both must
         * be able to produce every tensor of the first. */
        if (!check_same_tensors(p, t.u.node->set, e.u.node->set, n->u.cond.else_->span,
                                "the else branch cannot stand in for the then branch"))
            return val_error();
        set = t.u.node->set;
    }
    Node *node = plan_new_node(p, N_IF, n->span);
    node->set = set;
    node->u.cond.cond = c;
    node->u.cond.then_ = t;
    node->u.cond.else_ = e;
    return plan_node_value(node);
}

/* ---- calls ---------------------------------------------------------------------- */

static Value call_builtin(Plan *p, Env *env, const Builtin *bi, const Ast *call) {
    int np = builtin_n_params(bi);
    Value args[BUILTIN_MAX_PARAMS];
    SrcSpan spans[BUILTIN_MAX_PARAMS];
    bool given[BUILTIN_MAX_PARAMS] = { false };
    bool bad = false, seen_kw = false;
    int pos = 0;
    for (int i = 0; i < np; i++) {
        args[i] = val_none();
        spans[i] = call->span;
    }
    const AstList *al = &call->u.call.args;
    bool variadic = np > 0 && bi->params[0].name[0] == '*';
    char hint[BUILTIN_TEXT_MAX];
    ValList *rest = NULL;
    if (variadic) {
        rest = plan_alloc(p, sizeof *rest);
        rest->items = plan_alloc(p, (al->n ? al->n : 1) * sizeof *rest->items);
        args[0].kind = V_LIST;
        args[0].u.list = rest;
        given[0] = true;
        pos = 1;
    }
    for (size_t k = 0; k < al->n; k++) {
        const Ast *a = al->items[k];
        int idx;
        const Ast *vexpr;
        if (variadic && a->kind != AST_KWARG) {
            if (seen_kw) {
                plan_error(p, a->span, "a positional argument cannot follow keyword arguments");
                bad = true;
                continue;
            }
            Value v = walk(p, env, a);
            if (v.kind == V_ERROR) bad = true;
            if (rest->n == 0) spans[0] = a->span;
            else spans[0] = span_join(spans[0], a->span);
            rest->items[rest->n++] = v;
            continue;
        }
        if (a->kind == AST_KWARG) {
            seen_kw = true;
            idx = -1;
            for (int i = 0; i < np; i++)
                if (strcmp(bi->params[i].name, a->u.bind.name) == 0) idx = i;
            vexpr = a->u.bind.value;
            if (idx < 0) {
                diag_error(p->diag, a->u.bind.name_span, "%s() has no parameter '%s'", bi->name,
                           a->u.bind.name);
                const char *names[BUILTIN_MAX_PARAMS];
                const char *s = suggest_closest(a->u.bind.name, names, builtin_param_names(bi, names));
                if (s) diag_hint(p->diag, "did you mean '%s'?", s);
                else diag_hint(p->diag, "%s", builtin_hint(bi, hint, sizeof hint));
                (void)walk(p, env, vexpr);
                bad = true;
                continue;
            }
            if (given[idx]) {
                plan_error(p, a->u.bind.name_span, "argument '%s' is given twice", bi->params[idx].name);
                bad = true;
                continue;
            }
        } else {
            vexpr = a;
            if (seen_kw) {
                plan_error(p, a->span, "a positional argument cannot follow keyword arguments");
                bad = true;
                continue;
            }
            if (pos >= np) {
                diag_error(p->diag, a->span, "%s() takes at most %d argument%s", bi->name, np,
                           np == 1 ? "" : "s");
                diag_hint(p->diag, "%s", builtin_hint(bi, hint, sizeof hint));
                bad = true;
                continue;
            }
            idx = pos++;
        }
        args[idx] = walk(p, env, vexpr);
        spans[idx] = vexpr->span;
        given[idx] = true;
        if (args[idx].kind == V_ERROR) bad = true;
    }
    for (int i = 0; i < builtin_n_required(bi) && !bad; i++) {
        if (!given[i]) {
            diag_error(p->diag, call->span, "%s() is missing its argument '%s'", bi->name,
                       bi->params[i].name);
            diag_hint(p->diag, "%s", builtin_hint(bi, hint, sizeof hint));
            bad = true;
        }
    }
    if (bad) return val_error();
    return bi->plan(p, bi, args, spans, call->span);
}

static Value call_closure(Plan *p, Env *env, Closure *c, const Ast *call, const char *fname) {
    const Ast *def = c->def;
    const AstList *params = &def->u.def.params;
    size_t np = params->n;
    Env *local = plan_alloc(p, sizeof *local);
    local->parent = c->env;
    bool *given = plan_alloc(p, (np ? np : 1) * sizeof *given);
    bool bad = false, seen_kw = false;
    size_t pos = 0;
    const AstList *al = &call->u.call.args;
    for (size_t k = 0; k < al->n; k++) {
        const Ast *a = al->items[k];
        size_t idx = np;
        const Ast *vexpr = a;
        if (a->kind == AST_KWARG) {
            seen_kw = true;
            vexpr = a->u.bind.value;
            for (size_t i = 0; i < np; i++) {
                const Ast *pa = params->items[i];
                const char *pn = pa->kind == AST_NAME ? pa->u.name : pa->u.bind.name;
                if (strcmp(pn, a->u.bind.name) == 0) idx = i;
            }
            if (idx == np) {
                plan_error(p, a->u.bind.name_span, "%s() has no parameter '%s'", fname,
                           a->u.bind.name);
                bad = true;
                continue;
            }
            if (given[idx]) {
                plan_error(p, a->u.bind.name_span, "argument '%s' is given twice", a->u.bind.name);
                bad = true;
                continue;
            }
        } else {
            if (seen_kw) {
                plan_error(p, a->span, "a positional argument cannot follow keyword arguments");
                bad = true;
                continue;
            }
            if (pos >= np) {
                plan_error(p, a->span, "%s() takes %zu argument%s", fname, np, np == 1 ? "" : "s");
                bad = true;
                continue;
            }
            idx = pos++;
        }
        Value v = walk(p, env, vexpr);
        if (v.kind == V_ERROR) bad = true;
        const Ast *pa = params->items[idx];
        env_define(p, local, pa->kind == AST_NAME ? pa->u.name : pa->u.bind.name, v, vexpr->span);
        given[idx] = true;
    }
    for (size_t i = 0; i < np && !bad; i++) {
        if (given[i]) continue;
        const Ast *pa = params->items[i];
        if (pa->kind == AST_NAME) {
            plan_error(p, call->span, "%s() is missing its argument '%s'", fname, pa->u.name);
            bad = true;
            break;
        }
        Value v = walk(p, c->env, pa->u.bind.value);
        if (v.kind == V_ERROR) bad = true;
        env_define(p, local, pa->u.bind.name, v, pa->span);
    }
    if (bad) return val_error();
    return walk(p, local, def->u.def.body);
}

static Value walk_call(Plan *p, Env *env, const Ast *n) {
    Value f = walk(p, env, n->u.call.callee);
    if (f.kind == V_ERROR) return f;
    if (f.kind == V_BUILTIN) return call_builtin(p, env, f.u.builtin, n);
    if (f.kind == V_FUNC) {
        const Ast *callee = n->u.call.callee;
        const char *fname = callee->kind == AST_NAME ? callee->u.name : f.u.func->def->u.def.name;
        return call_closure(p, env, f.u.func, n, fname);
    }
    return plan_error(p, n->u.call.callee->span, "%s is not a function", val_kind_name(f.kind));
}

Value plan_apply(Plan *p, Value f, const Value *args, size_t n, SrcSpan at) {
    if (f.kind == V_ERROR) return f;
    if (!plan_spend(p, 1, at)) return val_error();
    if (p->depth >= PLAN_MAX_DEPTH) {
        if (!p->depth_reported) {
            diag_error(p->diag, at, "evaluation nested too deeply (more than %d levels)", PLAN_MAX_DEPTH);
            p->depth_reported = true;
        }
        return val_error();
    }
    if (f.kind == V_BUILTIN) {
        const Builtin *bi = f.u.builtin;
        int np = builtin_n_params(bi);
        Value a[BUILTIN_MAX_PARAMS];
        SrcSpan spans[BUILTIN_MAX_PARAMS];
        for (int i = 0; i < np; i++) {
            a[i] = val_none();
            spans[i] = at;
        }
        if (np > 0 && bi->params[0].name[0] == '*') {
            ValList *l = plan_alloc(p, sizeof *l);
            l->n = n;
            l->items = plan_alloc(p, (n ? n : 1) * sizeof *l->items);
            memcpy(l->items, args, n * sizeof *args);
            a[0].kind = V_LIST;
            a[0].u.list = l;
        } else {
            if (n > (size_t)np)
                return plan_error(p, at, "%s() takes at most %d argument%s", bi->name, np, np == 1 ? "" : "s");
            if (n < (size_t)builtin_n_required(bi))
                return plan_error(p, at, "%s() is missing its argument '%s'", bi->name, bi->params[n].name);
            for (size_t i = 0; i < n; i++) a[i] = args[i];
        }
        if (!bi->plan) return plan_error(p, at, "%s() cannot be called this way", bi->name);
        p->depth++;
        Value r = bi->plan(p, bi, a, spans, at);
        p->depth--;
        return r;
    }
    if (f.kind != V_FUNC) return plan_error(p, at, "%s is not a function", val_kind_name(f.kind));
    const Ast *def = f.u.func->def;
    const AstList *params = &def->u.def.params;
    if (n > params->n)
        return plan_error(p, at, "%s() takes %zu argument%s", def->u.def.name, params->n,
                          params->n == 1 ? "" : "s");
    Env *local = plan_alloc(p, sizeof *local);
    local->parent = f.u.func->env;
    for (size_t i = 0; i < params->n; i++) {
        const Ast *pa = params->items[i];
        const char *pn = pa->kind == AST_NAME ? pa->u.name : pa->u.bind.name;
        Value v;
        if (i < n) v = args[i];
        else if (pa->kind == AST_KWARG) v = walk(p, f.u.func->env, pa->u.bind.value);
        else return plan_error(p, at, "%s() is missing its argument '%s'", def->u.def.name, pn);
        if (v.kind == V_ERROR) return v;
        env_define(p, local, pn, v, pa->span);
    }
    p->depth++;
    Value r = walk(p, local, def->u.def.body);
    p->depth--;
    return r;
}

/* ---- expressions ------------------------------------------------------------------- */

static Value walk_list(Plan *p, Env *env, const Ast *n) {
    ValList *l = plan_alloc(p, sizeof *l);
    l->n = n->u.list.n;
    l->items = plan_alloc(p, (l->n ? l->n : 1) * sizeof *l->items);
    bool bad = false;
    for (size_t i = 0; i < l->n; i++) {
        l->items[i] = walk(p, env, n->u.list.items[i]);
        if (l->items[i].kind == V_ERROR) bad = true;
    }
    if (bad) return val_error();
    Value v = { .kind = V_LIST, .u.list = l };
    return v;
}

/* m["tensor.name"]: select(m, name, "exact"), the model restricted to that
 * one tensor (an error with a did-you-mean hint when it has none). */
static Value index_model(Plan *p, Value model, Value name, SrcSpan model_at, SrcSpan name_at, SrcSpan call) {
    const Builtin *bi = builtin_table_find(p->builtins, "select");
    Value args[3] = { model, name, { .kind = V_STR, .u.str = { "exact", 5 } } };
    SrcSpan spans[3] = { model_at, name_at, name_at };
    return bi->plan(p, bi, args, spans, call);
}

/* list[i], counting from 0 (negative i counts from the end); model["name"],
 * the model restricted to one tensor. */
static Value walk_index(Plan *p, Env *env, const Ast *n) {
    Value a = walk(p, env, n->u.op.a);
    Value i = walk(p, env, n->u.op.b);
    if (a.kind == V_ERROR || i.kind == V_ERROR) return val_error();
    if (a.kind == V_MODEL && i.kind == V_STR)
        return index_model(p, a, i, n->u.op.a->span, n->u.op.b->span, n->span);
    if (a.kind != V_LIST)
        return plan_error(p, n->u.op.a->span, "only lists and models can be indexed, found %s",
                          val_kind_name(a.kind));
    /* Compared as doubles: converting a huge or NaN index is undefined. */
    if (i.kind != V_NUM || i.u.num != floor(i.u.num))
        return plan_error(p, n->u.op.b->span, "a list index must be a whole number, found %s",
                          val_kind_name(i.kind));
    size_t len = a.u.list->n;
    double k = i.u.num < 0 ? i.u.num + (double)len : i.u.num;
    if (!(k >= 0 && k < (double)len))
        return plan_error(p, n->u.op.b->span, "index %.15g is outside the list of %zu item%s",
                          i.u.num, len, len == 1 ? "" : "s");
    return a.u.list->items[(size_t)k];
}

static Value walk(Plan *p, Env *env, const Ast *n) {
    if (!plan_spend(p, 1, n->span)) return val_error();
    if (p->depth >= PLAN_MAX_DEPTH) {
        /* Report once: every frame of the runaway recursion would hit it again. */
        if (!p->depth_reported) {
            diag_error(p->diag, n->span, "evaluation nested too deeply (more than %d levels)",
                       PLAN_MAX_DEPTH);
            diag_hint(p->diag, "is a function calling itself without end?");
            p->depth_reported = true;
        }
        return val_error();
    }
    p->depth++;
    Value r;
    switch (n->kind) {
    case AST_NUM: r = val_num(n->u.num); break;
    case AST_STR:
        r.kind = V_STR;
        r.u.str.s = n->u.str.s;
        r.u.str.len = n->u.str.len;
        break;
    case AST_BOOL: r = val_bool(n->u.boolean); break;
    case AST_NONE: r = val_none(); break;
    case AST_NAME: r = lookup_name(p, env, n); break;
    case AST_LIST: r = walk_list(p, env, n); break;
    case AST_UNARY: r = walk_unary(p, env, n); break;
    case AST_BINARY: r = walk_binary(p, env, n); break;
    case AST_IF: r = walk_if(p, env, n); break;
    case AST_CALL: r = walk_call(p, env, n); break;
    case AST_INDEX: r = walk_index(p, env, n); break;
    default: r = plan_error(p, n->span, "this statement cannot be used as a value"); break;
    }
    p->depth--;
    return r;
}

Value plan_eval(Plan *p, const Ast *expr) { return walk(p, &p->globals, expr); }

/* ---- statements ---------------------------------------------------------------------- */

static bool check_assignable(Plan *p, Env *env, const char *name, SrcSpan at) {
    if (context_index(name) >= 0) {
        plan_error(p, at, "'%s' is the tensor context and cannot be assigned", name);
        return false;
    }
    if (builtin_table_find(p->builtins, name)) {
        plan_error(p, at, "'%s' is a built-in function and cannot be assigned", name);
        return false;
    }
    Binding *b = env_find_local(p, env, name);
    if (b && !p->allow_rebind) {
        diag_error(p->diag, at, "'%s' is already defined", name);
        if (b->at.file) diag_note(p->diag, b->at, "'%s' was defined here", name);
        return false;
    }
    return true;
}

/* A -D value: a number, true/false/none, or else a string. */
static Value parse_override(Plan *p, const char *text) {
    if (strcmp(text, "true") == 0) return val_bool(true);
    if (strcmp(text, "false") == 0) return val_bool(false);
    if (strcmp(text, "none") == 0) return val_none();
    char *end;
    errno = 0;
    double d = strtod(text, &end);
    if (*text && *end == '\0' && errno == 0) return val_num(d);
    Value v = { .kind = V_STR };
    v.u.str.s = arena_strdup(&p->arena, text);
    v.u.str.len = strlen(text);
    return v;
}

static void run_param(Plan *p, Env *env, const Ast *s) {
    const char *name = s->u.bind.name;
    if (!check_assignable(p, env, name, s->u.bind.name_span)) return;
    Value def = walk(p, env, s->u.bind.value);
    if (def.kind == V_ERROR) {
        env_define(p, env, name, def, s->u.bind.name_span);
        return;
    }
    if (val_depends_on_tensor(def) || def.kind == V_FUNC || def.kind == V_BUILTIN) {
        plan_error(p, s->u.bind.value->span, "a param's default must be a constant, found %s",
                   val_kind_name(def.kind));
        env_define(p, env, name, val_error(), s->u.bind.name_span);
        return;
    }
    Value v = def;
    for (size_t i = 0; i < p->n_overrides; i++) {
        Override *o = &p->overrides[i];
        if (strcmp(o->name, name) != 0) continue;
        o->used = true;
        v = parse_override(p, o->text);
        if (def.kind != V_NONE && v.kind != def.kind) {
            plan_error(p, s->u.bind.name_span, "-D %s=%s: expected %s like the default, found %s",
                       name, o->text, val_kind_name(def.kind), val_kind_name(v.kind));
            v = val_error();
        }
    }
    env_define(p, env, name, v, s->u.bind.name_span);
}

/* ---- imports ---------------------------------------------------------------------------
 * `import "file.merge"` is relative to the importing file; `import name`
 * looks for name.merge in $MERGELANG_PATH (':'-separated), then in the
 * stdlib installed beside the binary (<bin>/../share/mergelang/stdlib) and
 * in the source tree's (<bin>/../stdlib, for a binary in build/). A module
 * runs once, in its own scope; its names are then bound in the importer,
 * where a clash with another definition is an error. */

static void run_stmt(Plan *p, Env *env, const Ast *s);

static bool readable_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, R_OK) == 0;
}

/* Fills out with the module's path; returns false when it is not found,
 * with the places searched in `searched`. */
static bool find_module(const Ast *s, char *out, size_t n, char *searched, size_t sn) {
    const char *target = s->u.import.target;
    searched[0] = '\0';
    if (s->u.import.is_path) {
        const char *from = s->span.file ? s->span.file->path : "";
        const char *slash = strrchr(from, '/');
        int w = target[0] == '/' || !slash
                    ? snprintf(out, n, "%s", target)
                    : snprintf(out, n, "%.*s/%s", (int)(slash - from), from, target);
        if (w < 0 || (size_t)w >= n) return false;
        if (snprintf(searched, sn, "%s", out) >= (int)sn) searched[sn - 1] = '\0';
        return readable_file(out);
    }
    char dirs[4096] = "";
    const char *env_path = getenv("MERGELANG_PATH");
    if (env_path && *env_path) snprintf(dirs, sizeof dirs, "%s", env_path);
    size_t user_len = strlen(dirs);
    char exe[2048];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) *slash = '\0';
        size_t used = strlen(dirs);
        int w = snprintf(dirs + used, sizeof dirs - used, "%s%s/../share/mergelang/stdlib:%s/../stdlib",
                         used ? ":" : "", exe, exe);
        if (w < 0 || (size_t)w >= sizeof dirs - used) dirs[used] = '\0';
    }
    for (char *dir = dirs; dir && *dir;) {
        char *colon = strchr(dir, ':');
        if (colon) *colon = '\0';
        int w = snprintf(out, n, "%s/%s.merge", dir, target);
        if (w > 0 && (size_t)w < n && readable_file(out)) return true;
        dir = colon ? colon + 1 : NULL;
    }
    /* Name the places without the binary's absolute folder, so the message
     * reads the same on every machine. */
    snprintf(searched, sn, "%s%.*s%sthe stdlib beside the binary (<bin>/../share/mergelang/stdlib, <bin>/../stdlib)",
             user_len ? "MERGELANG_PATH (" : "", (int)user_len, env_path ? env_path : "",
             user_len ? ") and " : "");
    return false;
}

static void run_import(Plan *p, Env *env, const Ast *s) {
    char path[PATH_MAX], searched[2048], real[PATH_MAX];
    if (!find_module(s, path, sizeof path, searched, sizeof searched)) {
        if (s->u.import.is_path) {
            plan_error(p, s->span, "cannot import '%s': no readable file at %s", s->u.import.target,
                       searched);
        } else {
            diag_error(p->diag, s->span, "no module named '%s'", s->u.import.target);
            diag_hint(p->diag, "searched %s", searched);
        }
        return;
    }
    if (!realpath(path, real)) memcpy(real, path, sizeof real);
    Module *m = NULL;
    for (size_t i = 0; i < p->n_modules; i++)
        if (strcmp(p->modules[i].path, real) == 0) m = &p->modules[i];
    if (m && !m->done) {
        diag_error(p->diag, s->span, "import cycle: '%s' is already being imported", path);
        diag_hint(p->diag, "a module cannot import, directly or not, a module that imports it");
        return;
    }
    if (!m) {
        if (p->n_modules == p->cap_modules) {
            size_t cap = p->cap_modules ? p->cap_modules * 2 : 4;
            Module *mm = realloc(p->modules, cap * sizeof *mm);
            if (!mm) {
                plan_error(p, s->span, "out of memory");
                return;
            }
            p->modules = mm;
            p->cap_modules = cap;
        }
        size_t idx = p->n_modules++;
        m = &p->modules[idx];
        memset(m, 0, sizeof *m);
        m->path = arena_strdup(&p->arena, real);
        m->src = src_load(path);
        if (!m->src) {
            plan_error(p, s->span, "cannot read '%s': %s", path, strerror(errno));
            m->done = true;
            m->failed = true;
            return;
        }
        Ast *prog = syn_parse(m->src, &p->arena, p->diag);
        m->env = plan_alloc(p, sizeof *m->env);
        int before = p->diag->n_errors;
        if (prog) {
            for (size_t i = 0; i < prog->u.list.n; i++) run_stmt(p, m->env, prog->u.list.items[i]);
        }
        /* run_stmt may have grown p->modules: find the record again. */
        m = &p->modules[idx];
        m->done = true;
        m->failed = !prog || p->diag->n_errors > before;
    }
    if (m->failed) {
        diag_note(p->diag, s->span, "in the module imported here");
        return;
    }
    if (p->n_imports == p->cap_imports) {
        size_t cap = p->cap_imports ? p->cap_imports * 2 : 4;
        ImportRecord *r = realloc(p->imports, cap * sizeof *r);
        if (r) {
            p->imports = r;
            p->cap_imports = cap;
        }
    }
    if (p->n_imports < p->cap_imports)
        p->imports[p->n_imports++] = (ImportRecord){ s->span, (size_t)(m - p->modules) };
    for (size_t i = 0; i < m->env->n; i++) {
        const Binding *b = &m->env->items[i];
        Binding *old = env_find_local(p, env, b->name);
        if (old && memcmp(&old->value, &b->value, sizeof b->value) == 0) continue;
        if (old || builtin_table_find(p->builtins, b->name) || context_index(b->name) >= 0) {
            diag_error(p->diag, s->span, "importing '%s' would redefine '%s'", s->u.import.target, b->name);
            if (old && old->at.file) diag_note(p->diag, old->at, "'%s' is defined here", b->name);
            continue;
        }
        env_define(p, env, b->name, b->value, b->at);
    }
}

static void run_stmt(Plan *p, Env *env, const Ast *s) {
    p->depth_reported = false;
    switch (s->kind) {
    case AST_ASSIGN: {
        if (!check_assignable(p, env, s->u.bind.name, s->u.bind.name_span)) {
            (void)walk(p, env, s->u.bind.value);
            return;
        }
        Value v = walk(p, env, s->u.bind.value);
        env_define(p, env, s->u.bind.name, v, s->u.bind.name_span);
        return;
    }
    case AST_PARAM: run_param(p, env, s); return;
    case AST_DEF: {
        if (!check_assignable(p, env, s->u.def.name, s->u.def.name_span)) return;
        Closure *c = plan_alloc(p, sizeof *c);
        c->def = s;
        c->env = env;
        Value v = { .kind = V_FUNC, .u.func = c };
        env_define(p, env, s->u.def.name, v, s->u.def.name_span);
        return;
    }
    case AST_IMPORT: run_import(p, env, s); return;
    case AST_EXPR_STMT: (void)walk(p, env, s->u.op.a); return;
    default: plan_error(p, s->span, "unexpected statement"); return;
    }
}

/* An output folder must not be, or contain, any input: replacing it would
 * destroy what is being read. Checked after every statement has run, since
 * a model may be opened after the save that would overwrite it. */
static void check_outputs_spare_inputs(Plan *p) {
    for (size_t s = 0; s < p->n_saves; s++) {
        char out[PATH_MAX];
        if (!realpath(p->saves[s].path, out)) continue;   /* does not exist yet: holds nothing */
        size_t len = strlen(out);
        for (size_t i = 0; i < p->n_ckpts; i++) {
            char in[PATH_MAX];
            if (!realpath(p->ckpts[i].path, in)) continue;
            if (strncmp(in, out, len) == 0 && (in[len] == '\0' || in[len] == '/')) {
                diag_error(p->diag, p->saves[s].span, "the output folder '%s' contains the input '%s'",
                           p->saves[s].path, p->ckpts[i].path);
                diag_hint(p->diag, "write the merge somewhere else; inputs are never overwritten");
                break;
            }
        }
    }
}

int plan_program(Plan *p, const Ast *program) {
    int before = p->diag->n_errors;
    for (size_t i = 0; i < program->u.list.n; i++) run_stmt(p, &p->globals, program->u.list.items[i]);
    check_outputs_spare_inputs(p);
    for (size_t i = 0; i < p->n_overrides; i++) {
        if (p->overrides[i].used) continue;
        char declared[512] = "";
        size_t len = 0;
        for (size_t k = 0; k < program->u.list.n; k++) {
            const Ast *s = program->u.list.items[k];
            if (s->kind != AST_PARAM) continue;
            int w = snprintf(declared + len, sizeof declared - len, "%s%s", len ? ", " : "",
                             s->u.bind.name);
            if (w < 0 || (size_t)w >= sizeof declared - len) break;
            len += (size_t)w;
        }
        diag_plain(p->diag, "-D %s: the recipe declares no param '%s' (declared: %s)",
                   p->overrides[i].name, p->overrides[i].name, len ? declared : "none");
    }
    return p->diag->n_errors - before;
}
