/* builtins_names.c - built-ins that work on tensor names: select and drop
 * (a model restricted to some of its tensors), rename, and the glob and
 * regular-expression matches that complement `~` (substring).
 *
 * Patterns are matched when planning, against the names the model has, so
 * the output's tensor set is known before any data is read. Regular
 * expressions are POSIX extended (regcomp), globs fnmatch(3) without flags
 * ('*' also crosses dots). */
#include <fnmatch.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "interp/builtins/builtins_int.h"
#include "interp/syntax/suggest.h"

typedef enum MatchMode { MATCH_SUBSTRING, MATCH_GLOB, MATCH_REGEX, MATCH_EXACT } MatchMode;

typedef struct Matcher {
    MatchMode mode;
    const char *pattern;
    regex_t re;
} Matcher;


/* Reads (pattern, mode) arguments, mode with its default filled in;
 * compiles a regex. Returns false after an error. */
static bool matcher_init(Plan *p, Matcher *m, Value pattern, Value mode, SrcSpan pat_at, SrcSpan mode_at) {
    if (pattern.kind != V_STR)
        return plan_error(p, pat_at, "the pattern must be a string, found %s", val_kind_name(pattern.kind)),
               false;
    m->pattern = arena_strndup(&p->arena, pattern.u.str.s, pattern.u.str.len);
    if (bi_str_is(mode, "substring")) m->mode = MATCH_SUBSTRING;
    else if (bi_str_is(mode, "glob")) m->mode = MATCH_GLOB;
    else if (bi_str_is(mode, "regex")) m->mode = MATCH_REGEX;
    else if (bi_str_is(mode, "exact")) m->mode = MATCH_EXACT;
    else
        return plan_error(p, mode_at, "mode must be \"substring\", \"glob\", \"regex\" or \"exact\""), false;
    if (m->mode == MATCH_REGEX) {
        int rc = regcomp(&m->re, m->pattern, REG_EXTENDED | REG_NOSUB);
        if (rc != 0) {
            char msg[256];
            regerror(rc, &m->re, msg, sizeof msg);
            plan_error(p, pat_at, "invalid regular expression: %s", msg);
            return false;
        }
    }
    return true;
}

static bool matches(const Matcher *m, const char *name) {
    switch (m->mode) {
    case MATCH_SUBSTRING: return strstr(name, m->pattern) != NULL;
    case MATCH_GLOB: return fnmatch(m->pattern, name, 0) == 0;
    case MATCH_REGEX: return regexec(&m->re, name, 0, NULL, 0) == 0;
    case MATCH_EXACT: return strcmp(name, m->pattern) == 0;
    }
    return false;
}

static void matcher_free(Matcher *m) {
    if (m->mode == MATCH_REGEX) regfree(&m->re);
}

/* Suggests the closest tensor name when an exact name is missing. */
static void hint_tensor(Plan *p, const TensorSet *set, const char *name) {
    const char **names = plan_alloc(p, (set->n ? set->n : 1) * sizeof *names);
    for (size_t i = 0; i < set->n; i++) names[i] = set->items[i].name;
    const char *s = suggest_closest(name, names, set->n);
    if (s) diag_hint(p->diag, "did you mean '%s'?", s);
}

/* ---- select, drop ------------------------------------------------------------------------- */

static Value bi_plan_filter(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call, bool keep) {
    char what[64];
    snprintf(what, sizeof what, "%s() argument 'model'", bi->name);
    if (!bi_expect_model(p, args[0], sp[0], what)) return val_error();
    Matcher m;
    if (!matcher_init(p, &m, args[1], bi_arg_or_default(bi, args, "mode"), sp[1], sp[2])) return val_error();
    const TensorSet *in = args[0].u.node->set;
    TensorInfo *items = plan_alloc(p, (in->n ? in->n : 1) * sizeof *items);
    size_t n = 0;
    for (size_t i = 0; i < in->n; i++) {
        if (matches(&m, in->items[i].name) != keep) continue;
        items[n++] = in->items[i];
    }
    matcher_free(&m);
    if (n == 0) {
        if (m.mode == MATCH_EXACT) {
            diag_error(p->diag, sp[1], "the model has no tensor '%s'", m.pattern);
            hint_tensor(p, in, m.pattern);
            return val_error();
        }
        return plan_error(p, call, "%s() leaves no tensors", bi->name);
    }
    TensorSet *set = plan_alloc(p, sizeof *set);
    set->items = items;
    set->n = n;
    /* Blocks keep their numbers, so each module's depth (and every
     * gradient position) stays the input model's. */
    if (tset_index_modules(&p->arena, set, in) != 0) return plan_error(p, call, "out of memory");
    return bi_make_call(p, bi, args, call, set);
}

Value bi_plan_select(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    return bi_plan_filter(p, bi, args, sp, call, true);
}

Value bi_plan_drop(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    return bi_plan_filter(p, bi, args, sp, call, false);
}

/* The tensor of the same name: the restriction happened when planning. */
Value bi_exec_select(Exec *x, const Node *n, Value *args) { return args[0]; }
Value bi_exec_drop(Exec *x, const Node *n, Value *args) { return args[0]; }

/* ---- rename(model, pattern, replacement) ------------------------------------------------------ */

/* name with every occurrence of `from` replaced by `to`, in the plan arena. */
static const char *replace_all(Plan *p, const char *name, const char *from, const char *to) {
    size_t fl = strlen(from), tl = strlen(to), count = 0;
    if (fl == 0) return name;
    for (const char *s = strstr(name, from); s; s = strstr(s + fl, from)) count++;
    if (count == 0) return name;
    size_t len = strlen(name) + count * tl - count * fl;
    char *out = plan_alloc(p, len + 1), *w = out;
    const char *r = name;
    for (const char *s = strstr(r, from); s; s = strstr(r, from)) {
        memcpy(w, r, (size_t)(s - r));
        w += s - r;
        memcpy(w, to, tl);
        w += tl;
        r = s + fl;
    }
    strcpy(w, r);
    return out;
}

typedef struct RenameMap {
    const char **source;   /* parallel to the output set's items: the input name */
} RenameMap;

static int info_cmp(const void *a, const void *b) {
    return strcmp(((const TensorInfo *)a)->name, ((const TensorInfo *)b)->name);
}

Value bi_plan_rename(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    if (!bi_expect_model(p, args[0], sp[0], "rename() argument 'model'")) return val_error();
    if (args[1].kind != V_STR || args[1].u.str.len == 0)
        return plan_error(p, sp[1], "rename() expects a non-empty string to replace");
    if (args[2].kind != V_STR) return plan_error(p, sp[2], "rename() expects a replacement string");
    const char *from = arena_strndup(&p->arena, args[1].u.str.s, args[1].u.str.len);
    const char *to = arena_strndup(&p->arena, args[2].u.str.s, args[2].u.str.len);
    const TensorSet *in = args[0].u.node->set;
    TensorInfo *items = plan_alloc(p, (in->n ? in->n : 1) * sizeof *items);
    for (size_t i = 0; i < in->n; i++) {
        items[i] = in->items[i];
        items[i].name = replace_all(p, in->items[i].name, from, to);
    }
    /* Sort output names, keeping each one's source name alongside. */
    typedef struct Pair { TensorInfo out; const char *src; } Pair;
    Pair *pairs = plan_alloc(p, (in->n ? in->n : 1) * sizeof *pairs);
    for (size_t i = 0; i < in->n; i++) {
        pairs[i].out = items[i];
        pairs[i].src = in->items[i].name;
    }
    qsort(pairs, in->n, sizeof *pairs, info_cmp);
    RenameMap *map = plan_alloc(p, sizeof *map);
    map->source = plan_alloc(p, (in->n ? in->n : 1) * sizeof *map->source);
    for (size_t i = 0; i < in->n; i++) {
        items[i] = pairs[i].out;
        map->source[i] = pairs[i].src;
        if (i > 0 && strcmp(items[i - 1].name, items[i].name) == 0)
            return plan_error(p, call, "rename() maps '%s' and '%s' both to '%s'", map->source[i - 1],
                              map->source[i], items[i].name);
    }
    TensorSet *set = plan_alloc(p, sizeof *set);
    set->items = items;
    set->n = in->n;
    if (tset_index_modules(&p->arena, set, NULL) != 0) return plan_error(p, call, "out of memory");
    Value v = bi_make_call(p, bi, args, call, set);
    v.u.node->u.call.extra = map;
    return v;
}

Value bi_exec_rename(Exec *x, const Node *n, Value *args) {
    const RenameMap *map = n->u.call.extra;
    const TensorSet *set = n->set, *in = args[0].u.node->set;
    const TensorInfo *out = tset_find(set, x->out->name);
    if (!out) return exec_fail(x, n->span, "rename(): no tensor '%s'", x->out->name);
    const TensorInfo *src = tset_find(in, map->source[out - set->items]);
    if (!src) return exec_fail(x, n->span, "rename(): lost the source of '%s'", x->out->name);
    return exec_in_frame(x, args[0], src, in);
}

/* ---- glob(name, pattern), regex(name, pattern) ----------------------------------------------- */

static Value bi_plan_match_fn(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call,
                           MatchMode mode) {
    if (args[1].kind != V_STR) return plan_error(p, sp[1], "%s() expects a pattern string", bi->name);
    if (args[0].kind != V_STR && args[0].kind != V_LAZY)
        return plan_error(p, sp[0], "%s() matches a string such as name, found %s", bi->name,
                          val_kind_name(args[0].kind));
    if (mode == MATCH_REGEX) {
        Matcher m;
        Value mode_v = { .kind = V_STR, .u.str = { "regex", 5 } };
        if (!matcher_init(p, &m, args[1], mode_v, sp[1], sp[1])) return val_error();
        if (args[0].kind == V_STR) {
            char *s = arena_strndup(&p->arena, args[0].u.str.s, args[0].u.str.len);
            bool r = matches(&m, s);
            matcher_free(&m);
            return val_bool(r);
        }
        matcher_free(&m);
    } else if (args[0].kind == V_STR) {
        char *s = arena_strndup(&p->arena, args[0].u.str.s, args[0].u.str.len);
        char *pat = arena_strndup(&p->arena, args[1].u.str.s, args[1].u.str.len);
        return val_bool(fnmatch(pat, s, 0) == 0);
    }
    return bi_make_call(p, bi, args, call, NULL);
}

Value bi_plan_glob(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    return bi_plan_match_fn(p, bi, args, sp, call, MATCH_GLOB);
}

Value bi_plan_regex(Plan *p, const Builtin *bi, Value *args, const SrcSpan *sp, SrcSpan call) {
    return bi_plan_match_fn(p, bi, args, sp, call, MATCH_REGEX);
}

static Value bi_exec_match_fn(Exec *x, const Node *n, Value *args, MatchMode mode) {
    if (args[0].kind != V_STR || args[1].kind != V_STR)
        return exec_fail(x, n->span, "%s() matches strings", n->u.call.bi->name);
    char name[1024], pat[1024];
    if (args[0].u.str.len >= sizeof name || args[1].u.str.len >= sizeof pat)
        return exec_fail(x, n->span, "%s(): string too long", n->u.call.bi->name);
    memcpy(name, args[0].u.str.s, args[0].u.str.len);
    name[args[0].u.str.len] = '\0';
    memcpy(pat, args[1].u.str.s, args[1].u.str.len);
    pat[args[1].u.str.len] = '\0';
    if (mode == MATCH_GLOB) return val_bool(fnmatch(pat, name, 0) == 0);
    /* Compiled per call: regcomp is cheap next to any tensor work, and a
     * regex_t shared between threads would need a lock. */
    regex_t re;
    if (regcomp(&re, pat, REG_EXTENDED | REG_NOSUB) != 0)
        return exec_fail(x, n->span, "invalid regular expression '%s'", pat);
    bool r = regexec(&re, name, 0, NULL, 0) == 0;
    regfree(&re);
    return val_bool(r);
}

Value bi_exec_glob(Exec *x, const Node *n, Value *args) { return bi_exec_match_fn(x, n, args, MATCH_GLOB); }
Value bi_exec_regex(Exec *x, const Node *n, Value *args) { return bi_exec_match_fn(x, n, args, MATCH_REGEX); }
