/* mergekit_emit.c - writes the recipe for validated MkStage records.
 *
 * The translation follows mergekit's planner:
 *   - the models form is one slice over every layer; the slices form is one
 *     merge per slice, each input cut with layers(m, from, to), then
 *     stack(...): inside a slice `layer` and `n_layers` are the slice's own,
 *     so gradients restart per slice as in mergekit;
 *   - a parameter is looked up, highest precedence first, in the slice
 *     source's (or models entry's) parameters, the slice's, the top level's,
 *     then the method default. A filter list whose filters match nothing
 *     falls through to the next level, so all levels fold into one
 *     `if name ~ "..." then ... else ...` chain;
 *   - each mergekit-multi stage becomes a variable, in dependency order.
 * Parameter expressions that are not plain numbers get a name of their own,
 * so that the call that uses them stays one readable line. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interp/builtins/builtins.h"
#include "interp/mergekit/mergekit_int.h"

#define MAX_RECIPE_BYTES ((size_t)64 * 1024 * 1024)
#define LINE_WIDTH 100

typedef struct Buf {
    char *s;
    size_t len, cap;
    bool failed;
} Buf;

typedef struct Bound {
    const char *expr, *var;
} Bound;

typedef struct Em {
    Mk *mk;
    Buf out;
    const char *yaml;      /* the YAML file's name, for comments */
    MkStage *st;           /* the stage being written */
    size_t slice;          /* its slice being written */
    Bound *bound;          /* expressions named in this stage, for reuse */
    size_t n_bound, cap_bound;
    const MkYNode **warned;  /* filters already warned about */
    size_t n_warned, cap_warned;
} Em;

/* ---- text ---------------------------------------------------------------------- */

static void put(Em *e, const char *s, size_t n) {
    Buf *b = &e->out;
    if (b->failed) return;
    if (b->len + n + 1 > MAX_RECIPE_BYTES) {
        diag_plain(e->mk->diag, "the recipe would be larger than 64 MB");
        b->failed = true;
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1) cap *= 2;
        char *m = realloc(b->s, cap);
        if (!m) {
            diag_plain(e->mk->diag, "out of memory");
            b->failed = true;
            return;
        }
        b->s = m;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void out(Em *e, const char *f, ...) __attribute__((format(printf, 2, 3)));
static void out(Em *e, const char *f, ...) {
    char small[512];
    va_list ap;
    va_start(ap, f);
    int n = vsnprintf(small, sizeof small, f, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof small) {
        put(e, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        diag_plain(e->mk->diag, "out of memory");
        e->out.failed = true;
        return;
    }
    va_start(ap, f);
    vsnprintf(big, (size_t)n + 1, f, ap);
    va_end(ap);
    put(e, big, (size_t)n);
    free(big);
}

/* printf into the arena. */
static char *fmt(Em *e, const char *f, ...) __attribute__((format(printf, 2, 3)));
static char *fmt(Em *e, const char *f, ...) {
    va_list ap;
    va_start(ap, f);
    int n = vsnprintf(NULL, 0, f, ap);
    va_end(ap);
    char *s = n >= 0 ? arena_alloc(e->mk->arena, (size_t)n + 1) : NULL;
    if (!s) {
        e->out.failed = true;
        return "";
    }
    va_start(ap, f);
    vsnprintf(s, (size_t)n + 1, f, ap);
    va_end(ap);
    return s;
}

static int line_of(const Em *e, SrcSpan at) {
    int line, col;
    src_line_col(at.file, at.start, &line, &col);
    return line;
}

/* A mergelang string literal. */
static char *quote(Em *e, const char *s) {
    size_t n = 2;
    for (const char *p = s; *p; p++) n += 4;
    char *q = arena_alloc(e->mk->arena, n + 1);
    if (!q) {
        e->out.failed = true;
        return "\"\"";
    }
    char *w = q;
    *w++ = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            *w++ = '\\';
            *w++ = (char)*p;
        } else if (*p == '\n') {
            *w++ = '\\', *w++ = 'n';
        } else if (*p == '\t') {
            *w++ = '\\', *w++ = 't';
        } else if (*p == '\r') {
            *w++ = '\\', *w++ = 'r';
        } else if (*p < 0x20 || *p == 0x7F) {
            w += sprintf(w, "\\x%02X", *p);
        } else {
            *w++ = (char)*p;
        }
    }
    *w++ = '"';
    *w = '\0';
    return q;
}

/* A comment's text on one line, whatever the YAML string held. */
static char *comment_safe(Em *e, const char *s) {
    char *c = arena_strdup(e->mk->arena, s);
    if (!c) return "";
    for (char *p = c; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    return c;
}

/* ---- values ---------------------------------------------------------------------- */

static bool bool_word(const char *s, bool *b) {
    static const char *const yes[] = { "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON" };
    static const char *const no[] = { "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF" };
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcmp(s, yes[i]) == 0) return *b = true, true;
        if (strcmp(s, no[i]) == 0) return *b = false, true;
    }
    return false;
}

/* Whether s (after an optional '-') is a number as the recipe lexer reads
 * it: digits[.digits] or .digits, then an optional exponent. */
static bool lexer_number(const char *s) {
    const char *p = s;
    if (*p == '-') p++;
    if (*p >= '0' && *p <= '9') {
        while (*p >= '0' && *p <= '9') p++;
        if (*p == '.') {
            p++;
            if (!(*p >= '0' && *p <= '9')) return false;
            while (*p >= '0' && *p <= '9') p++;
        }
    } else if (*p == '.') {
        p++;
        if (!(*p >= '0' && *p <= '9')) return false;
        while (*p >= '0' && *p <= '9') p++;
    } else {
        return false;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (!(*p >= '0' && *p <= '9')) return false;
        while (*p >= '0' && *p <= '9') p++;
    }
    return *p == '\0';
}

/* A number as written in the YAML when the recipe can read it so ("0.7",
 * "1e-3"), else the shortest text that reads back as the same double. */
static char *number_text(Em *e, const char *s) {
    bool b;
    if (bool_word(s, &b)) return b ? "1" : "0";
    if (*s == '+') s++;
    if (lexer_number(s)) return arena_strdup(e->mk->arena, s);
    double v = strtod(s, NULL);
    char buf[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
    return arena_strdup(e->mk->arena, buf);
}

/* A validated scalar or gradient as an expression of the parameter's type. */
static char *value_expr(Em *e, const MkParam *p, const MkYNode *v) {
    if (v->kind == MKY_SCALAR) {
        if (p->type == MKP_CHOICE) return quote(e, v->text);
        char *n = number_text(e, v->text);
        if (p->type == MKP_BOOL) return strtod(n, NULL) != 0 ? "true" : "false";
        return n;
    }
    size_t len = 32;
    char **items = arena_array(e->mk->arena, v->n, sizeof *items);
    if (!items) return "";
    for (size_t i = 0; i < v->n; i++) {
        items[i] = number_text(e, v->items[i]->text);
        len += strlen(items[i]) + 2;
    }
    char *g = arena_alloc(e->mk->arena, len);
    if (!g) return "";
    strcpy(g, "gradient([");
    for (size_t i = 0; i < v->n; i++) {
        if (i) strcat(g, ", ");
        strcat(g, items[i]);
    }
    strcat(g, "])");
    /* mergekit reads a flag as a float and tests its truth. */
    return p->type == MKP_BOOL ? fmt(e, "%s != 0", g) : g;
}

static bool is_filter_list(const MkYNode *v) {
    return v->kind == MKY_SEQ && v->n > 0 && v->items[0]->kind == MKY_MAP;
}

/* Inside a slice, `name` is the slice's renumbered tensor name; mergekit
 * matches per-model filters against the input model's names and others
 * against the output's. Only a filter that spells a layer number can tell. */
static void check_filter_in_slice(Em *e, const MkYNode *f) {
    if (!e->st->slices_form || !strpbrk(f->text, "0123456789")) return;
    for (size_t i = 0; i < e->n_warned; i++)
        if (e->warned[i] == f) return;
    if (e->n_warned == e->cap_warned) {
        size_t cap = e->cap_warned ? e->cap_warned * 2 : 8;
        const MkYNode **m = realloc(e->warned, cap * sizeof *m);
        if (!m) return;
        e->warned = m;
        e->cap_warned = cap;
    }
    e->warned[e->n_warned++] = f;
    mkimport_warn(e->mk, f->at,
                  "filter '%s' has a digit: in a slice the recipe matches it against the slice's own tensor names "
                  "(layers renumbered from 0), mergekit against the input model's or the output's names",
                  f->text);
}

typedef struct Chain {
    char *expr;            /* NULL when no level sets the parameter */
    bool complete;         /* every tensor gets a value */
    SrcSpan at;            /* the first value found */
} Chain;

/* The parameter p looked up in levels (highest precedence first; NULL
 * levels are skipped), folded into one expression. A filter list that may
 * match nothing falls through to the next level, then to p's default. */
static Chain chain(Em *e, const MkParam *p, const MkYNode *const *levels, int n_levels) {
    Chain c = { NULL, false, { NULL, 0, 0 } };
    size_t cap = 4, n = 0;
    char **conds = malloc(cap * sizeof *conds), **vals = malloc(cap * sizeof *vals);
    if (!conds || !vals) {
        free(conds);
        free(vals);
        e->out.failed = true;
        return c;
    }
    for (int l = 0; l < n_levels && !c.complete; l++) {
        const MkYNode *v = mkimport_yaml_get(levels[l], p->name);
        if (!v) continue;
        if (!c.at.file) c.at = v->at;
        const MkYNode *single[1] = { v };
        const MkYNode *const *entries = single;
        size_t k = 1;
        if (is_filter_list(v)) {
            entries = (const MkYNode *const *)v->items;
            k = v->n;
        }
        for (size_t i = 0; i < k && !c.complete; i++) {
            const MkYNode *val = entries[i], *f = NULL;
            if (is_filter_list(v)) {
                f = mkimport_yaml_get(entries[i], "filter");
                val = mkimport_yaml_get(entries[i], "value");
                /* no filter, "*" and "" match every tensor */
                if (f && (strcmp(f->text, "*") == 0 || f->len == 0)) f = NULL;
            }
            if (n + 2 > cap) {
                /* room for this entry and the default */
                cap *= 2;
                char **mc = realloc(conds, cap * sizeof *conds);
                if (mc) conds = mc;
                char **mv = mc ? realloc(vals, cap * sizeof *vals) : NULL;
                if (mv) vals = mv;
                if (!mc || !mv) {
                    free(conds);
                    free(vals);
                    e->out.failed = true;
                    return c;
                }
            }
            if (f) check_filter_in_slice(e, f);
            conds[n] = f ? fmt(e, "name ~ %s", quote(e, f->text)) : NULL;
            vals[n] = value_expr(e, p, val);
            n++;
            if (!f) c.complete = true;
        }
    }
    const char *dflt = mkimport_param_default(e->st->method, p);
    if (n > 0 && !c.complete && dflt) {
        conds[n] = NULL;
        vals[n++] = (char *)dflt;
        c.complete = true;
    }
    if (n > 0) {
        size_t len = 1;
        for (size_t i = 0; i < n; i++) len += strlen(vals[i]) + (conds[i] ? strlen(conds[i]) + 16 : 8);
        char *s = arena_alloc(e->mk->arena, len);
        if (s) {
            for (size_t i = 0; i < n; i++) {
                if (conds[i]) {
                    strcat(s, "if ");
                    strcat(s, conds[i]);
                    strcat(s, " then ");
                    strcat(s, vals[i]);
                    strcat(s, " else ");
                } else {
                    strcat(s, vals[i]);
                }
            }
            /* An incomplete chain ends in "else "; the caller reports it. */
        }
        c.expr = s;
    }
    free(conds);
    free(vals);
    return c;
}

static bool is_simple(const char *expr) {
    return strncmp(expr, "if ", 3) != 0 && !strstr(expr, "gradient(");
}

/* expr itself when it is short and plain, else a variable bound to it (one
 * per distinct expression in a stage). */
static const char *bind(Em *e, const char *hint, const char *expr) {
    if (is_simple(expr)) return expr;
    for (size_t i = 0; i < e->n_bound; i++)
        if (strcmp(e->bound[i].expr, expr) == 0) return e->bound[i].var;
    if (e->n_bound == e->cap_bound) {
        size_t cap = e->cap_bound ? e->cap_bound * 2 : 8;
        Bound *m = realloc(e->bound, cap * sizeof *m);
        if (!m) {
            e->out.failed = true;
            return expr;
        }
        e->bound = m;
        e->cap_bound = cap;
    }
    const char *var = mkimport_name(e->mk, hint);
    e->bound[e->n_bound++] = (Bound){ expr, var };
    out(e, "%s = ", var);
    if (strlen(var) + 3 + strlen(expr) <= LINE_WIDTH) {
        out(e, "%s\n", expr);
        return var;
    }
    /* One condition per line: a newline before `else` continues the
     * statement. Filters are string literals that may hold " else ". */
    int indent = (int)strlen(var) + 3;
    const char *from = expr;
    bool in_str = false;
    for (const char *p = expr; *p; p++) {
        if (in_str) {
            if (*p == '\\' && p[1]) p++;
            else if (*p == '"') in_str = false;
        } else if (*p == '"') {
            in_str = true;
        } else if (strncmp(p, " else ", 6) == 0) {
            out(e, "%.*s\n%*s", (int)(p - from), from, indent, "");
            from = p + 1;
        }
    }
    out(e, "%s\n", from);
    return var;
}

/* ---- names --------------------------------------------------------------------------- */

static const char *ref_var(Em *e, int ref) {
    MkRef *r = &e->mk->refs[ref];
    if (r->kind == REF_STAGE) return e->mk->stages[r->stage].var;
    return r->var;
}

/* A name hint for something of the current stage and slice. */
static const char *hint_for(Em *e, const char *what, const char *model_var) {
    const char *stage = e->st->name ? e->st->var : NULL;
    char slice[24] = "";
    if (e->st->n_slices > 1) snprintf(slice, sizeof slice, "_s%zu", e->slice + 1);
    return fmt(e, "%s%s%s%s%s%s", stage ? stage : "", stage ? "_" : "", what, model_var ? "_" : "",
               model_var ? model_var : "", slice);
}

/* ---- calls ------------------------------------------------------------------------------ */

typedef struct Args {
    const char *pos[2];
    size_t n_pos;
    const char *kw[MK_MAX_PARAMS + 2];
    const char *val[MK_MAX_PARAMS + 2];
    size_t n_kw;
} Args;

static void add_kw(Args *a, const char *kw, const char *val) {
    a->kw[a->n_kw] = kw;
    a->val[a->n_kw++] = val;
}

/* `var = func(args)`, wrapped at LINE_WIDTH with continuation lines
 * aligned after the parenthesis. */
static void emit_call(Em *e, const char *var, const char *func, const char *const *args, size_t n) {
    size_t lead = strlen(var) + 3 + strlen(func) + 1;
    size_t total = lead + 1;  /* and ')' */
    for (size_t i = 0; i < n; i++) total += strlen(args[i]) + (i ? 2 : 0);
    out(e, "%s = %s(", var, func);
    if (total <= LINE_WIDTH) {
        for (size_t i = 0; i < n; i++) out(e, "%s%s", i ? ", " : "", args[i]);
        out(e, ")\n");
        return;
    }
    size_t indent = lead <= 40 ? lead : 4;
    size_t col = lead;
    if (indent != lead) {
        out(e, "\n%*s", (int)indent, "");
        col = indent;
    }
    for (size_t i = 0; i < n; i++) {
        size_t w = strlen(args[i]) + 1;  /* and the ',' or ')' after it */
        if (i > 0) {
            if (col + 2 + w > LINE_WIDTH) {
                out(e, ",\n%*s", (int)indent, "");
                col = indent;
            } else {
                out(e, ", ");
                col += 2;
            }
        }
        out(e, "%s", args[i]);
        col += strlen(args[i]);
    }
    out(e, ")\n");
}

/* Orders keyword arguments as the built-in lists them and checks that it
 * has each one (the interpreter's table is the authority). */
static bool finish_call(Em *e, const char *var, const char *func, Args *a) {
    const Builtin *bi = builtin_find(func);
    if (!bi) {
        diag_error(e->mk->diag, e->st->method_at, "mergelang has no built-in %s()", func);
        return false;
    }
    const char *args[MK_MAX_PARAMS + 4];
    size_t n = 0;
    for (size_t i = 0; i < a->n_pos; i++) args[n++] = a->pos[i];
    int np = builtin_n_params(bi);
    size_t used = 0;
    for (int k = 0; k < np; k++) {
        for (size_t i = 0; i < a->n_kw; i++) {
            if (strcmp(bi->params[k].name, a->kw[i]) == 0) {
                args[n++] = fmt(e, "%s = %s", a->kw[i], a->val[i]);
                used++;
            }
        }
    }
    if (used != a->n_kw) {
        for (size_t i = 0; i < a->n_kw; i++) {
            bool found = false;
            for (int k = 0; k < np; k++) found = found || strcmp(bi->params[k].name, a->kw[i]) == 0;
            if (!found)
                diag_error(e->mk->diag, e->st->method_at, "mergelang's %s() has no parameter '%s' to translate to",
                           func, a->kw[i]);
        }
        return false;
    }
    emit_call(e, var, func, args, n);
    return true;
}

/* ---- one slice ---------------------------------------------------------------------------- */

static const char *source_expr(Em *e, const MkSource *s) {
    const char *var = ref_var(e, s->ref);
    if (!s->ranged) return var;
    return fmt(e, "layers(%s, %ld, %ld)", var, s->from, s->to);
}

static const char *model_label(const Em *e, const MkSource *s) { return e->mk->refs[s->ref].path; }

/* The per-model parameters of method m for the inputs, as keyword args. */
static bool per_model_args(Em *e, const MkSlice *sl, const MkSource *const *inputs, size_t n, Args *a) {
    const MkMethod *m = e->st->method;
    bool ok = true;
    for (int k = 0; k < MK_MAX_PARAMS && m->params[k].name; k++) {
        const MkParam *p = &m->params[k];
        if (!p->per_model || !p->arg || m->form == FORM_PASSTHROUGH) continue;
        const char *dflt = mkimport_param_default(m, p);
        const char **vals = arena_array(e->mk->arena, n ? n : 1, sizeof *vals);
        if (!vals) return false;
        size_t given = 0;
        for (size_t i = 0; i < n; i++) {
            const MkYNode *levels[3] = { inputs[i]->params, sl->params, e->st->params };
            Chain c = chain(e, p, levels, 3);
            if (c.expr && !c.complete) {
                diag_error(e->mk->diag, c.at, "%s of '%s': tensors that match none of its filters get no value",
                           p->name, model_label(e, inputs[i]));
                diag_hint(e->mk->diag, "mergekit stops with \"Missing required parameter\" there; add an entry "
                                       "without filter, e.g. `- value: 1`");
                ok = false;
                continue;
            }
            if (c.expr) {
                given++;
                vals[i] = bind(e, hint_for(e, p->name, ref_var(e, inputs[i]->ref)), c.expr);
            } else if (dflt) {
                vals[i] = dflt;
            } else {
                if (inputs[i]->appended) {
                    diag_error(e->mk->diag, inputs[i]->at, "%s merges base_model as one more input, and it has no %s",
                               m->name, p->name);
                    diag_hint(e->mk->diag, "list the base model under models with a %s, or drop base_model "
                                           "(mergekit fails here too)", p->name);
                } else {
                    diag_error(e->mk->diag, inputs[i]->at, "missing required parameter '%s' for '%s'", p->name,
                               model_label(e, inputs[i]));
                    diag_hint(e->mk->diag, "give it under the model's `parameters:` or for all models in the "
                                           "top-level `parameters:`");
                }
                ok = false;
            }
        }
        if (!ok || given == 0) continue;
        bool same = true;
        for (size_t i = 1; i < n; i++) same = same && strcmp(vals[i], vals[0]) == 0;
        if (same) {
            add_kw(a, p->arg, vals[0]);
            continue;
        }
        size_t len = 3;
        for (size_t i = 0; i < n; i++) len += strlen(vals[i]) + 2;
        char *list = arena_alloc(e->mk->arena, len);
        if (!list) return false;
        strcpy(list, "[");
        for (size_t i = 0; i < n; i++) {
            if (i) strcat(list, ", ");
            strcat(list, vals[i]);
        }
        strcat(list, "]");
        add_kw(a, p->arg, list);
    }
    return ok;
}

static bool global_args(Em *e, const MkSlice *sl, Args *a) {
    const MkMethod *m = e->st->method;
    bool ok = true;
    for (int k = 0; k < MK_MAX_PARAMS && m->params[k].name; k++) {
        const MkParam *p = &m->params[k];
        if (p->per_model || !p->arg) continue;
        const MkYNode *levels[2] = { sl->params, e->st->params };
        Chain c = chain(e, p, levels, 2);
        if (c.expr && !c.complete) {
            diag_error(e->mk->diag, c.at, "%s: tensors that match none of its filters get no value", p->name);
            diag_hint(e->mk->diag, "mergekit stops with \"Missing required parameter\" there; add an entry without "
                                   "filter, e.g. `- value: 0.5`");
            ok = false;
            continue;
        }
        if (!c.expr) {
            if (p->required) {
                diag_error(e->mk->diag, e->st->method_at, "%s needs the parameter '%s'", m->name, p->name);
                diag_hint(e->mk->diag, "add it under the top-level `parameters:`, e.g. `%s: 0.5`", p->name);
                ok = false;
            }
            continue;
        }
        if (strcmp(p->arg, "consensus") == 0 && strcmp(c.expr, "\"sum\"") != 0)
            out(e, "# consensus_method (%s:%d): mergekit ignores it and elects by sum; mergelang honours it\n",
                e->yaml, line_of(e, c.at));
        add_kw(a, p->arg, bind(e, hint_for(e, p->name, NULL), c.expr));
    }
    if (mkimport_is_random(m)) add_kw(a, "seed", "seed");
    return ok;
}

/* Whether mergekit would crop embeddings of different vocabulary sizes
 * here (rectify_embed_sizes): without a tokenizer source, for the methods
 * that do it. mergelang's default refuses the difference, so the recipe
 * asks for mergekit's rule. karcher's crop has no effect in mergekit (it
 * fails on the difference), so it is not asked for there. */
static bool crops_embeddings(const MkStage *st) {
    const Builtin *bi = st->method->builtin ? builtin_find(st->method->builtin) : NULL;
    return st->tokenizer < 0 && !st->tokenizer_base && bi && builtin_param_index(bi, "vocab") >= 0 &&
           strcmp(bi->name, "karcher") != 0;
}

/* Writes what slice k needs and returns the expression of its result. */
static const char *emit_slice(Em *e, MkSlice *sl, const char *var) {
    MkStage *st = e->st;
    const MkMethod *m = st->method;
    int base = sl->base >= 0 ? sl->base : st->base;
    size_t n = sl->n;
    const MkSource **inputs = arena_array(e->mk->arena, n ? n : 1, sizeof *inputs);
    if (!inputs) return NULL;
    const MkSource *bsrc = NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (m->form != FORM_LIST && m->form != FORM_PASSTHROUGH && base >= 0 && sl->src[i].ref == base)
            bsrc = &sl->src[i];
        else
            inputs[k++] = &sl->src[i];
    }
    SrcSpan where = st->slices_form ? sl->at : st->method_at;

    if (m->form == FORM_PASSTHROUGH) {
        if (n != 1) {
            const MkSource *extra = &sl->src[n - 1];
            if (extra->appended) {
                diag_error(e->mk->diag, extra->at, "passthrough takes one model; base_model adds a second one");
                diag_hint(e->mk->diag, "remove base_model (mergekit fails with this configuration too)");
            } else {
                diag_error(e->mk->diag, where, "passthrough takes one model per slice; this has %zu", n);
                diag_hint(e->mk->diag, "give each slice one source (mergekit fails here too)");
            }
            return NULL;
        }
        const MkYNode *levels[3] = { sl->src[0].params, sl->params, st->params };
        const MkParam *p = mkimport_param(m, "scale");
        Chain c = chain(e, p, levels, 3);
        const char *src = source_expr(e, &sl->src[0]);
        if (!c.expr) return src;
        const char *s = bind(e, hint_for(e, "scale", ref_var(e, sl->src[0].ref)), c.expr);
        return fmt(e, "%s * %s", src, s);
    }

    bool needs_base = m->form == FORM_BASE_LIST || m->form == FORM_BASE_ONE;
    if (needs_base && base < 0) {
        diag_error(e->mk->diag, st->method_at, "%s needs base_model", m->name);
        diag_hint(e->mk->diag, "name the model the others are merged onto: base_model: path");
        return NULL;
    }
    if (base >= 0 && m->form != FORM_LIST && !bsrc) {
        diag_error(e->mk->diag, sl->at, "the base model '%s' is not a source of this slice", e->mk->refs[base].path);
        diag_hint(e->mk->diag, "add it to the slice's sources with the layer_range it contributes (mergekit looks "
                               "its tensors up in the slice)");
        return NULL;
    }
    int min = m->min_models, max = m->max_models;
    if ((int)k < min || (max > 0 && (int)k > max)) {
        const char *besides = m->form == FORM_LIST ? "" : " besides base_model";
        if (min == max)
            diag_error(e->mk->diag, where, "%s merges exactly %d model%s%s; %s %zu", m->name, min, min == 1 ? "" : "s",
                       besides, st->slices_form ? "this slice has" : "found", k);
        else
            diag_error(e->mk->diag, where, "%s needs at least %d model%s%s; %s %zu", m->name, min, min == 1 ? "" : "s",
                       besides, st->slices_form ? "this slice has" : "found", k);
        return NULL;
    }

    Args a = { .n_pos = 0 };
    const char *list;
    {
        size_t len = 3;
        const char **parts = arena_array(e->mk->arena, k ? k : 1, sizeof *parts);
        if (!parts) return NULL;
        for (size_t i = 0; i < k; i++) {
            parts[i] = source_expr(e, inputs[i]);
            len += strlen(parts[i]) + 2;
        }
        char *l = arena_alloc(e->mk->arena, len);
        if (!l) return NULL;
        strcpy(l, "[");
        for (size_t i = 0; i < k; i++) {
            if (i) strcat(l, ", ");
            strcat(l, parts[i]);
        }
        strcat(l, "]");
        list = l;
    }
    const char *bexpr = bsrc ? source_expr(e, bsrc) : NULL;
    switch (m->form) {
    case FORM_LIST:
    case FORM_LIST_BASE:
        a.pos[a.n_pos++] = list;
        break;
    case FORM_BASE_LIST:
        a.pos[a.n_pos++] = bexpr;
        a.pos[a.n_pos++] = list;
        break;
    case FORM_BASE_ONE:
        a.pos[a.n_pos++] = bexpr;
        a.pos[a.n_pos++] = source_expr(e, inputs[0]);
        break;
    case FORM_PASSTHROUGH:
        break;
    }
    bool ok = per_model_args(e, sl, inputs, k, &a);
    if (!global_args(e, sl, &a)) ok = false;
    if (m->form == FORM_LIST_BASE && bexpr) add_kw(&a, "base", bexpr);
    if (crops_embeddings(st)) add_kw(&a, "vocab", "\"crop\"");
    if (!ok || !finish_call(e, var, m->builtin, &a)) return NULL;
    return var;
}

/* ---- stages ----------------------------------------------------------------------------------- */

static const MkStage *stage_of(Em *e, int ref) {
    return ref >= 0 && e->mk->refs[ref].kind == REF_STAGE ? &e->mk->stages[e->mk->refs[ref].stage] : NULL;
}

/* The model whose config.json (and, later, tokenizer) the output takes:
 * tokenizer_source, else the base model, else the first input, as mergekit
 * does; through stages to a model read from disk. */
static int donor(Em *e, const MkStage *st, int depth) {
    int r = st->tokenizer >= 0 ? st->tokenizer : st->base;
    if (r < 0 && st->n_slices > 0 && st->slices[0].n > 0) r = st->slices[0].src[0].ref;
    const MkStage *s = stage_of(e, r);
    if (s && depth < 64) return donor(e, s, depth + 1);
    return s ? -1 : r;
}

static void stage_comments(Em *e) {
    MkStage *st = e->st;
    const MkMethod *m = st->method;
    for (int k = 0; k < MK_MAX_PARAMS && m->params[k].name; k++) {
        const MkParam *p = &m->params[k];
        if (p->arg || !p->note) continue;
        const MkYNode *given = mkimport_yaml_get(st->params, p->name);
        for (size_t s = 0; s < st->n_slices && !given; s++) {
            given = mkimport_yaml_get(st->slices[s].params, p->name);
            for (size_t i = 0; i < st->slices[s].n && !given; i++)
                given = mkimport_yaml_get(st->slices[s].src[i].params, p->name);
        }
        if (given) out(e, "# %s (%s:%d): %s\n", p->name, e->yaml, line_of(e, given->at), p->note);
    }
    if (st->dtype && strcmp(st->dtype, "float32") != 0)
        out(e, "# dtype %s (%s:%d): mergekit computes in %s, mergelang in float32\n", st->dtype, e->yaml,
            line_of(e, st->dtype_at), st->dtype);
}

static bool emit_stage(Em *e, MkStage *st) {
    e->st = st;
    e->n_bound = 0;
    Mk *mk = e->mk;
    if (st->name) {
        st->var = mkimport_name(mk, st->name);
        out(e, "\n# stage '%s': merge_method %s (%s:%d)\n", comment_safe(e, st->name), st->method->name, e->yaml,
            line_of(e, st->at));
    } else {
        out(e, "\n# merge_method %s (%s:%d)\n", st->method->name, e->yaml, line_of(e, st->method_at));
    }
    stage_comments(e);
    const char *result = st->var ? st->var : NULL;
    if (!result) result = st->var = mkimport_name(mk, "merged");
    bool ok = true;
    if (st->n_slices == 1) {
        e->slice = 0;
        const char *x = emit_slice(e, &st->slices[0], result);
        if (!x) return false;
        if (strcmp(x, result) != 0) out(e, "%s = %s\n", result, x);
        return true;
    }
    const char **parts = arena_array(mk->arena, st->n_slices, sizeof *parts);
    if (!parts) return false;
    for (size_t s = 0; s < st->n_slices; s++) {
        e->slice = s;
        const char *svar = NULL;
        if (st->method->form != FORM_PASSTHROUGH) {
            const char *stage = st->name ? st->var : NULL;
            svar = mkimport_name(mk, fmt(e, "%s%sslice%zu", stage ? stage : "", stage ? "_" : "", s + 1));
            out(e, "# slice %zu (%s:%d)\n", s + 1, e->yaml, line_of(e, st->slices[s].at));
        }
        parts[s] = emit_slice(e, &st->slices[s], svar ? svar : "");
        if (!parts[s]) ok = false;
    }
    if (!ok) return false;
    emit_call(e, result, "stack", parts, st->n_slices);
    return true;
}

/* Depth-first: a stage after every stage it names. A stage met again while
 * its own dependencies are being placed closes a cycle. */
static bool order_ref(Em *e, MkStage *st, int ref, SrcSpan at, size_t *order, size_t *n);

static bool order_stage(Em *e, size_t i, size_t *order, size_t *n) {
    MkStage *st = &e->mk->stages[i];
    if (st->mark == 2) return true;
    if (st->mark == 1) return false;
    st->mark = 1;
    bool ok = order_ref(e, st, st->base, st->base_at, order, n) &&
              order_ref(e, st, st->tokenizer, st->tokenizer_at, order, n);
    for (size_t s = 0; s < st->n_slices && ok; s++) {
        MkSlice *sl = &st->slices[s];
        ok = order_ref(e, st, sl->base, sl->at, order, n);
        for (size_t k = 0; k < sl->n && ok; k++) ok = order_ref(e, st, sl->src[k].ref, sl->src[k].at, order, n);
    }
    st->mark = 2;
    order[(*n)++] = i;
    return ok;
}

static bool order_ref(Em *e, MkStage *st, int ref, SrcSpan at, size_t *order, size_t *n) {
    const MkStage *dep = stage_of(e, ref);
    if (!dep) return true;
    size_t d = (size_t)(dep - e->mk->stages);
    e->mk->stages[d].used = true;
    if (order_stage(e, d, order, n)) return true;
    diag_error(e->mk->diag, at, "stage '%s' depends on itself through '%s'", st->name ? st->name : "(final)",
               e->mk->refs[ref].path);
    diag_hint(e->mk->diag, "a stage may use the stages before it, never one that uses it");
    return true;  /* reported once; the error count stops the translation */
}

static void emit_models(Em *e) {
    Mk *mk = e->mk;
    /* Base models first: that is how recipes usually read. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < mk->n_refs; i++) {
            MkRef *r = &mk->refs[i];
            if (r->kind == REF_STAGE || r->var) continue;
            bool is_base = false;
            for (size_t s = 0; s < mk->n_stages; s++) {
                is_base = is_base || mk->stages[s].base == (int)i;
                for (size_t k = 0; k < mk->stages[s].n_slices; k++)
                    is_base = is_base || mk->stages[s].slices[k].base == (int)i;
            }
            if (pass == 0 && !is_base) continue;
            r->var = mkimport_name(mk, r->path);
            if (r->kind == REF_HF) {
                out(e, "# a Hugging Face model: download it first, e.g.\n#   huggingface-cli download %s%s%s "
                       "--local-dir %s\n", comment_safe(e, r->path), r->revision ? " --revision " : "",
                    r->revision ? comment_safe(e, r->revision) : "", comment_safe(e, r->path));
            } else if (r->kind == REF_MISSING) {
                out(e, "# not found next to %s when this recipe was made\n", e->yaml);
            }
            out(e, "%s = model(%s)\n", r->var, quote(e, r->path));
        }
    }
}

static bool any_random(const Mk *mk) {
    for (size_t i = 0; i < mk->n_stages; i++)
        if (mkimport_is_random(mk->stages[i].method)) return true;
    return false;
}

static void emit_save(Em *e, MkStage *st, const char *path) {
    const char *dtype = st->out_dtype ? st->out_dtype : st->dtype;
    int d = donor(e, st, 0);
    if (st->tokenizer_base || st->tokenizer >= 0)
        out(e, "# tokenizer: %s (tokenizer_source, %s:%d)\n", d >= 0 ? e->mk->refs[d].var : "base", e->yaml,
            line_of(e, st->tokenizer_at));
    out(e, "save(%s, %s", st->var, path);
    if (dtype) out(e, ", dtype = \"%s\"", dtype);
    if (d >= 0) out(e, ", config = %s", e->mk->refs[d].var);
    out(e, ")\n");
}

char *mkimport_emit(Mk *mk, const char *yaml_name, const char *recipe_name) {
    Em e = { .mk = mk, .yaml = yaml_name };
    /* The file name goes into comments all over the recipe: a newline in it
     * would end a comment and start a line of code. */
    e.yaml = comment_safe(&e, yaml_name);
    size_t *order = calloc(mk->n_stages, sizeof *order);
    if (!order) {
        diag_plain(mk->diag, "out of memory");
        return NULL;
    }
    size_t n = 0;
    int errors = mk->diag->n_errors;
    for (size_t i = 0; i < mk->n_stages; i++) order_stage(&e, i, order, &n);
    if (mk->diag->n_errors > errors) {
        free(order);
        return NULL;
    }
    out(&e, "# Translated from %s by `mergelang import-mergekit`.\n", comment_safe(&e, yaml_name));
    out(&e, "# Model paths are as written in the YAML: run this recipe from the YAML's folder,\n");
    out(&e, "#   mergelang run %s -D out=OUTPUT_FOLDER\n\n", comment_safe(&e, recipe_name));
    mkimport_name(mk, "out");
    if (any_random(mk)) mkimport_name(mk, "seed");
    emit_models(&e);
    out(&e, "\nparam out = \"merged\"    # the output folder (mergekit-yaml's OUTPUT_PATH)\n");
    if (any_random(mk)) out(&e, "param seed = 0    # random methods; mergekit-yaml --random-seed\n");
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) ok = emit_stage(&e, &mk->stages[order[i]]);
    if (ok) {
        /* The final (unnamed) stage, else every stage no other one uses. */
        MkStage *final = NULL;
        size_t sinks = 0;
        for (size_t i = 0; i < mk->n_stages; i++) {
            if (!mk->stages[i].name) final = &mk->stages[i];
            if (!mk->stages[i].used) sinks++;
        }
        out(&e, "\n");
        for (size_t i = 0; i < n; i++) {
            MkStage *st = &mk->stages[order[i]];
            if (final && st != final && !st->used)
                out(&e, "# stage '%s' is not part of the final model; save(%s, \"FOLDER\") writes it\n",
                    comment_safe(&e, st->name), st->var);
        }
        for (size_t i = 0; i < n; i++) {
            MkStage *st = &mk->stages[order[i]];
            if (final ? st != final : st->used) continue;
            if (!final && sinks > 1) {
                /* A suffix, not a subfolder: save() wants the parent folder to exist. */
                out(&e, "# stage '%s' goes to OUTPUT_FOLDER-%s\n", comment_safe(&e, st->name), comment_safe(&e, st->name));
                emit_save(&e, st, fmt(&e, "out + %s", quote(&e, fmt(&e, "-%s", st->name))));
            } else {
                emit_save(&e, st, "out");
            }
        }
        for (size_t i = 0; i < n; i++) {
            MkStage *st = &mk->stages[order[i]];
            if (!st->name || !st->used) continue;
            if (st->out_dtype && strcmp(st->out_dtype, "float32") != 0)
                mkimport_warn(mk, st->out_dtype_at, "mergekit-multi writes stage '%s' as %s and the next stage reads "
                              "the rounded weights; the recipe passes float32 values on", st->name, st->out_dtype);
            else if (!st->out_dtype && st->dtype && strcmp(st->dtype, "float32") != 0)
                mkimport_warn(mk, st->dtype_at, "mergekit-multi writes stage '%s' as %s and the next stage reads "
                              "the rounded weights; the recipe passes float32 values on", st->name, st->dtype);
        }
    }
    free(order);
    free(e.bound);
    free(e.warned);
    if (!ok || e.out.failed || mk->diag->n_errors > errors) {
        free(e.out.s);
        return NULL;
    }
    return e.out.s;
}

/* ---- recipe names ---------------------------------------------------------------------------- */

static bool reserved(const char *s) {
    static const char *const words[] = { "if", "then", "else", "and", "or", "not", "true", "false", "none", "def",
                                         "param", "import", "name", "layer", "n_layers", "shape", "dtype" };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcmp(s, words[i]) == 0) return true;
    return builtin_find(s) != NULL;
}

const char *mkimport_name(Mk *mk, const char *hint) {
    /* "org/Model-7B.safetensors" -> "model_7b" */
    const char *base = strrchr(hint, '/');
    base = base && base[1] ? base + 1 : hint;
    size_t len = strlen(base);
    if (len > 12 && strcmp(base + len - 12, ".safetensors") == 0) len -= 12;
    char name[48];
    size_t n = 0;
    for (size_t i = 0; i < len && n < 36; i++) {
        char c = base[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) c = '_';
        if (c == '_' && (n == 0 || name[n - 1] == '_')) continue;
        name[n++] = c;
    }
    while (n > 0 && name[n - 1] == '_') n--;
    name[n] = '\0';
    if (n == 0) snprintf(name, sizeof name, "model");
    else if (name[0] >= '0' && name[0] <= '9') {
        memmove(name + 1, name, n + 1);
        name[0] = 'm';
    }
    char cand[64];
    snprintf(cand, sizeof cand, "%s", name);
    for (int k = 2;; k++) {
        bool taken = reserved(cand);
        for (size_t i = 0; i < mk->n_names && !taken; i++) taken = strcmp(mk->names[i], cand) == 0;
        if (!taken) break;
        snprintf(cand, sizeof cand, "%s_%d", name, k);
    }
    if (mk->n_names == mk->cap_names) {
        size_t cap = mk->cap_names ? mk->cap_names * 2 : 16;
        const char **m = arena_array(mk->arena, cap, sizeof *m);
        if (!m) return "model";
        if (mk->n_names) memcpy(m, mk->names, mk->n_names * sizeof *m);
        mk->names = m;
        mk->cap_names = cap;
    }
    const char *s = arena_strdup(mk->arena, cand);
    if (!s) return "model";
    mk->names[mk->n_names++] = s;
    return s;
}
