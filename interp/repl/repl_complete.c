/* repl_complete.c - tab completion for the REPL, as a pure function of the
 * text before the cursor and the session's bindings (repl.c wires it to
 * libedit; tests can call it directly).
 *
 * What is completed depends on where the cursor is:
 *   :co|                 command names
 *   :load fi|            file names
 *   m["model.emb|        tensor names of m, one dotted component at a time
 *                        (so a long model lists "model.layers.0." ... rather
 *                        than every tensor); also select(m, "...|, drop(...)
 *   model("mod|          file names
 *   linear([a], w|       keyword arguments of the call around the cursor,
 *                        then variables, built-ins, keywords, context names
 * The scan that finds the context follows strings, comments and brackets
 * the way the lexer does, loosely: a wrong guess only means a poor
 * suggestion. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "interp/builtins/builtins.h"
#include "interp/repl/repl_int.h"

static const char *const keywords[] = { "if", "then", "else", "and", "or", "not", "true", "false", "none",
                                        "def", "param", "import" };
static const char *const context_vars[] = { "name", "layer", "n_layers", "shape", "dtype" };

static bool is_ident(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* ---- candidate lists --------------------------------------------------------------- */

typedef enum Kind { K_PLAIN, K_CALLABLE, K_KEYWORD, K_KWARG, K_FULL } Kind;

typedef struct Cands {
    char **items;
    Kind *kinds;
    size_t n, cap;
} Cands;

static void add(Cands *c, const char *s, size_t len, Kind k) {
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 32;
        char **items = realloc(c->items, cap * sizeof *items);
        if (!items) return;
        c->items = items;
        Kind *kinds = realloc(c->kinds, cap * sizeof *kinds);
        if (!kinds) return;
        c->kinds = kinds;
        c->cap = cap;
    }
    char *d = strndup(s, len);
    if (!d) return;
    c->items[c->n] = d;
    c->kinds[c->n] = k;
    c->n++;
}

static void add_if_prefix(Cands *c, const char *s, const char *prefix, size_t plen, Kind k) {
    if (strncmp(s, prefix, plen) == 0) add(c, s, strlen(s), k);
}

typedef struct Pair {
    char *s;
    Kind k;
} Pair;

static int pair_cmp(const void *a, const void *b) {
    return strcmp(((const Pair *)a)->s, ((const Pair *)b)->s);
}

/* Sorts, drops duplicates, and moves the list into m. The append text of a
 * unique candidate comes from its kind. */
static void finish(Cands *c, ReplMatches *m, size_t word_start, const char *full_append) {
    Pair *p = malloc((c->n ? c->n : 1) * sizeof *p);
    m->word_start = word_start;
    m->n = 0;
    m->items = NULL;
    m->append = NULL;
    if (!p) {
        for (size_t i = 0; i < c->n; i++) free(c->items[i]);
        free(c->items);
        free(c->kinds);
        return;
    }
    for (size_t i = 0; i < c->n; i++) {
        p[i].s = c->items[i];
        p[i].k = c->kinds[i];
    }
    qsort(p, c->n, sizeof *p, pair_cmp);
    size_t k = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (k > 0 && strcmp(p[k - 1].s, p[i].s) == 0) {
            free(p[i].s);
            continue;
        }
        p[k++] = p[i];
    }
    m->items = c->items;  /* reuse the array */
    for (size_t i = 0; i < k; i++) m->items[i] = p[i].s;
    m->n = k;
    if (k == 1) {
        switch (p[0].k) {
        case K_CALLABLE: m->append = "("; break;
        case K_KEYWORD: m->append = " "; break;
        case K_KWARG: m->append = " = "; break;
        case K_FULL: m->append = full_append; break;
        case K_PLAIN: break;
        }
    }
    if (k == 0) {
        free(c->items);
        m->items = NULL;
    }
    free(p);
    free(c->kinds);
}

void repl_matches_free(ReplMatches *m) {
    for (size_t i = 0; i < m->n; i++) free(m->items[i]);
    free(m->items);
    m->items = NULL;
    m->n = 0;
}

size_t repl_matches_prefix(const ReplMatches *m) {
    if (m->n == 0) return 0;
    size_t len = strlen(m->items[0]);
    for (size_t i = 1; i < m->n; i++) {
        size_t j = 0;
        while (j < len && m->items[i][j] == m->items[0][j]) j++;
        len = j;
    }
    return len;
}

/* ---- sources of candidates ------------------------------------------------------------- */

static Value global_value(Repl *r, const char *name, size_t len) {
    const Env *g = &r->plan.globals;
    for (size_t i = 0; i < g->n; i++)
        if (strlen(g->items[i].name) == len && memcmp(g->items[i].name, name, len) == 0) return g->items[i].value;
    return val_none();
}

/* Where a candidate for tensor name t ends: after the next '.' past the
 * typed prefix, or at the end of the name. */
static size_t segment_end(const char *t, size_t plen) {
    const char *dot = strchr(t + plen, '.');
    return dot && dot[1] ? (size_t)(dot - t) + 1 : strlen(t);
}

/* Names of s that start with prefix, cut after the next '.' past it; while
 * that leaves a single candidate, it is taken and the cut moves on, so one
 * tab goes as far as the names agree. */
static void tensor_names(Cands *c, const TensorSet *s, const char *prefix, size_t plen) {
    char *pre = strndup(prefix, plen);
    if (!pre) return;
    for (;;) {
        const char *first = NULL;
        size_t flen = 0;
        bool many = false;
        for (size_t i = 0; i < s->n && !many; i++) {
            const char *t = s->items[i].name;
            if (strncmp(t, pre, plen) != 0) continue;
            size_t e = segment_end(t, plen);
            if (!first) {
                first = t;
                flen = e;
            } else if (e != flen || strncmp(t, first, e) != 0) {
                many = true;
            }
        }
        if (!first || many || first[flen - 1] != '.') break;
        char *next = strndup(first, flen);
        if (!next) break;
        free(pre);
        pre = next;
        plen = flen;
    }
    for (size_t i = 0; i < s->n; i++) {
        const char *t = s->items[i].name;
        if (strncmp(t, pre, plen) != 0) continue;
        size_t e = segment_end(t, plen);
        add(c, t, e, t[e] ? K_PLAIN : K_FULL);
    }
    free(pre);
}

static void file_names(Cands *c, const char *prefix, size_t plen) {
    const char *slash = NULL;
    for (size_t i = 0; i < plen; i++)
        if (prefix[i] == '/') slash = prefix + i;
    size_t dlen = slash ? (size_t)(slash - prefix) + 1 : 0;
    char *dir = dlen ? strndup(prefix, dlen) : strdup(".");
    if (!dir) return;
    const char *base = prefix + dlen;
    size_t blen = plen - dlen;
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            if (e->d_name[0] == '.' && (blen == 0 || base[0] != '.')) continue;
            if (strncmp(e->d_name, base, blen) != 0) continue;
            size_t n = dlen + strlen(e->d_name) + 2;
            char *full = malloc(n);
            if (!full) break;
            snprintf(full, n, "%.*s%s", (int)dlen, prefix, e->d_name);
            struct stat st;
            bool is_dir = stat(full, &st) == 0 && S_ISDIR(st.st_mode);
            if (is_dir) strcat(full, "/");
            add(c, full, strlen(full), is_dir ? K_PLAIN : K_FULL);
            free(full);
        }
        closedir(d);
    }
    free(dir);
}

/* The identifier that ends just before text[end] (spaces skipped). */
static bool ident_before(const char *text, size_t end, size_t *s, size_t *e) {
    while (end > 0 && (text[end - 1] == ' ' || text[end - 1] == '\t')) end--;
    size_t b = end;
    while (b > 0 && is_ident(text[b - 1])) b--;
    if (b == end || (text[b] >= '0' && text[b] <= '9')) return false;
    *s = b;
    *e = end;
    return true;
}

/* Keyword arguments of the function called at text[open] == '('. */
static void call_params(Repl *r, Cands *c, const char *text, size_t open, const char *prefix, size_t plen) {
    size_t s, e;
    if (!ident_before(text, open, &s, &e)) return;
    char name[128];
    if (e - s >= sizeof name) return;
    memcpy(name, text + s, e - s);
    name[e - s] = '\0';
    Value f = global_value(r, text + s, e - s);
    if (f.kind == V_FUNC) {
        const AstList *ps = &f.u.func->def->u.def.params;
        for (size_t i = 0; i < ps->n; i++) {
            const Ast *p = ps->items[i];
            add_if_prefix(c, p->kind == AST_NAME ? p->u.name : p->u.bind.name, prefix, plen, K_KWARG);
        }
        return;
    }
    const Builtin *bi = builtin_find(name);
    if (!bi || f.kind != V_NONE) return;
    for (int i = 0; i < BUILTIN_MAX_PARAMS && bi->params[i].name; i++)
        if (bi->params[i].name[0] != '*') add_if_prefix(c, bi->params[i].name, prefix, plen, K_KWARG);
}

static void identifiers(Repl *r, Cands *c, const char *prefix, size_t plen) {
    const Env *g = &r->plan.globals;
    for (size_t i = 0; i < g->n; i++) {
        Kind k = g->items[i].value.kind == V_FUNC ? K_CALLABLE : K_PLAIN;
        add_if_prefix(c, g->items[i].name, prefix, plen, k);
    }
    if (plen == 0) return;
    for (size_t i = 0; i < builtin_count(); i++) add_if_prefix(c, builtin_at(i)->name, prefix, plen, K_CALLABLE);
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
        add_if_prefix(c, keywords[i], prefix, plen, K_KEYWORD);
    for (size_t i = 0; i < sizeof context_vars / sizeof context_vars[0]; i++)
        add_if_prefix(c, context_vars[i], prefix, plen, K_PLAIN);
}

/* ---- the scan --------------------------------------------------------------------------- */

#define MAX_OPEN 256

typedef struct Scan {
    size_t open[MAX_OPEN];     /* positions of unclosed '(' and '[' */
    int depth;
    bool in_string, in_comment;
    char quote;
    size_t string_start;       /* the quote's position */
    size_t line_start;
} Scan;

static void scan(const char *text, size_t len, Scan *s) {
    memset(s, 0, sizeof *s);
    for (size_t i = 0; i < len; i++) {
        char ch = text[i];
        if (ch == '\n') {
            s->in_comment = false;
            s->in_string = false;
            s->line_start = i + 1;
            continue;
        }
        if (s->in_comment) continue;
        if (s->in_string) {
            if (ch == '\\' && i + 1 < len) i++;
            else if (ch == s->quote) s->in_string = false;
            continue;
        }
        if (ch == '#') s->in_comment = true;
        else if (ch == '"' || ch == '\'') {
            s->in_string = true;
            s->quote = ch;
            s->string_start = i;
        } else if (ch == '(' || ch == '[') {
            if (s->depth < MAX_OPEN) s->open[s->depth] = i;
            s->depth++;
        } else if ((ch == ')' || ch == ']') && s->depth > 0) {
            s->depth--;
        }
    }
}

static bool inner_open(const Scan *s, char *kind, size_t *pos, const char *text) {
    if (s->depth <= 0 || s->depth > MAX_OPEN) return false;
    *pos = s->open[s->depth - 1];
    *kind = text[*pos];
    return true;
}

/* Inside a string: tensor names after m[ or select(m, / drop(m, , file
 * names inside model(. */
static void complete_string(Repl *r, const char *text, size_t len, const Scan *s, ReplMatches *m) {
    Cands c = { 0 };
    size_t q = s->string_start, ws = q + 1;
    const char *prefix = text + ws;
    size_t plen = len - ws;
    static char append[4];
    append[0] = s->quote;
    append[1] = '\0';
    size_t p = q;
    while (p > 0 && (text[p - 1] == ' ' || text[p - 1] == '\t')) p--;
    char kind;
    size_t open;
    if (p > 0 && text[p - 1] == '[') {
        size_t a, b;
        if (ident_before(text, p - 1, &a, &b)) {
            Value v = global_value(r, text + a, b - a);
            if (v.kind == V_MODEL) tensor_names(&c, v.u.node->set, prefix, plen);
        }
        append[1] = ']';
        append[2] = '\0';
    } else if (p > 0 && (text[p - 1] == '(' || text[p - 1] == ',') && inner_open(s, &kind, &open, text) &&
               kind == '(') {
        size_t a, b;
        if (ident_before(text, open, &a, &b)) {
            size_t n = b - a;
            if (n == 5 && memcmp(text + a, "model", 5) == 0 && text[p - 1] == '(') {
                file_names(&c, prefix, plen);
            } else if ((n == 6 && memcmp(text + a, "select", 6) == 0) || (n == 4 && memcmp(text + a, "drop", 4) == 0)) {
                size_t x, y;
                if (text[p - 1] == ',' && ident_before(text, p - 1, &x, &y) && x > open) {
                    Value v = global_value(r, text + x, y - x);
                    if (v.kind == V_MODEL) tensor_names(&c, v.u.node->set, prefix, plen);
                }
            }
        }
    }
    finish(&c, m, ws, append);
}

void repl_complete(Repl *r, const char *text, size_t len, ReplMatches *m) {
    Scan s;
    scan(text, len, &s);
    memset(m, 0, sizeof *m);
    m->word_start = len;
    if (s.in_comment) return;
    if (s.in_string) {
        complete_string(r, text, len, &s, m);
        return;
    }
    Cands c = { 0 };
    size_t ws = len;
    while (ws > 0 && is_ident(text[ws - 1])) ws--;
    /* A command: on the first line, after optional spaces. */
    size_t k = 0;
    while (k < len && (text[k] == ' ' || text[k] == '\t')) k++;
    if (k < len && text[k] == ':' && s.line_start == 0) {
        size_t e = k + 1;
        while (e < len && is_ident(text[e])) e++;
        if (e == len) {
            for (size_t n = 0; n < repl_command_count(); n++)
                add_if_prefix(&c, repl_command_name(n), text + k, len - k, K_KEYWORD);
            finish(&c, m, k, NULL);
            return;
        }
        if (e - k == 5 && memcmp(text + k, ":load", 5) == 0) {
            size_t f = len;
            while (f > e && text[f - 1] != ' ' && text[f - 1] != '\t') f--;
            file_names(&c, text + f, len - f);
            finish(&c, m, f, NULL);
            return;
        }
    }
    if (ws < len && text[ws] >= '0' && text[ws] <= '9') {
        finish(&c, m, ws, NULL);
        return;
    }
    const char *prefix = text + ws;
    size_t plen = len - ws;
    /* An argument position: right after '(' or ',' of a call. */
    size_t p = ws;
    while (p > 0 && (text[p - 1] == ' ' || text[p - 1] == '\t')) p--;
    char kind;
    size_t open;
    bool arg_pos = p > 0 && (text[p - 1] == '(' || text[p - 1] == ',') && inner_open(&s, &kind, &open, text) &&
                   kind == '(';
    if (arg_pos) call_params(r, &c, text, open, prefix, plen);
    if (plen > 0 || arg_pos) identifiers(r, &c, prefix, plen);
    finish(&c, m, ws, NULL);
}

bool repl_unfinished_if(const char *text, size_t len) {
    long ifs = 0, elses = 0;
    char quote = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = text[i];
        if (quote) {
            if (ch == '\\' && i + 1 < len) i++;
            else if (ch == quote || ch == '\n') quote = 0;
            continue;
        }
        if (ch == '#') {
            while (i < len && text[i] != '\n') i++;
            continue;
        }
        if (ch == '"' || ch == '\'') {
            quote = ch;
            continue;
        }
        if (!is_ident(ch)) continue;
        size_t e = i;
        while (e < len && is_ident(text[e])) e++;
        if (e - i == 2 && memcmp(text + i, "if", 2) == 0) ifs++;
        else if (e - i == 4 && memcmp(text + i, "else", 4) == 0) elses++;
        i = e - 1;
    }
    return ifs > elses;
}
