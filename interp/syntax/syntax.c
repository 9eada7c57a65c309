/* syntax.c - the front-end driver: lexer tokens in, syntax tree out; see
 * syntax.h.
 *
 * Security stance: any byte sequence must end in a tree or in one clear
 * error, never a crash or a hang. Everything that grows with nesting is
 * bounded: the bracket stack here, the parser stack (%stack_size in
 * parser.y), and the depth of the finished tree, which is checked without
 * recursion because later passes walk it recursively.
 *
 * Implementation notes:
 * - Only the first error is reported: after a syntax error the parser's
 *   idea of where it is is a guess, and follow-on errors mislead.
 * - The "expected ..." list is exact, computed by trial parses: fresh
 *   parsers are fed the tokens before the error plus one candidate token
 *   each, and the candidates that shift are the expected ones. Every
 *   statement ends with a NEWLINE that returns the parser to its start
 *   state, so only the tokens of the current statement need replaying. */
#include "interp/syntax/syntax.h"
#include "interp/syntax/syntax_int.h"

#include <stdlib.h>
#include <string.h>

#include "parser.h"

#define MAX_BRACKETS 256      /* open brackets at once */
#define MAX_TREE_DEPTH 1000   /* nodes on one root-to-leaf path */
#define MAX_TRIAL_TOKENS 20000

/* A condition that cannot happen: asserted in debug builds, still handled
 * in release builds. */
#if defined(NDEBUG)
# define NEVER(x) (x)
#else
# include <assert.h>
# define NEVER(x) (assert(!(x)), (x))
#endif

/* ---- token classes ------------------------------------------------------------ */

bool syn_token_continues(int code) {
    switch (code) {
    case T_ASSIGN: case T_COMMA: case T_LPAREN: case T_LBRACKET:
    case T_PLUS: case T_MINUS: case T_STAR: case T_SLASH:
    case T_EQ: case T_NE: case T_LT: case T_LE: case T_GT: case T_GE: case T_MATCH:
    case T_AND: case T_OR: case T_NOT: case T_IF: case T_THEN: case T_ELSE:
        return true;
    default:
        return false;
    }
}

static bool is_opener(int code) { return code == T_LPAREN || code == T_LBRACKET; }
static bool is_closer(int code) { return code == T_RPAREN || code == T_RBRACKET; }

static bool is_binary_op(int code) {
    switch (code) {
    case T_PLUS: case T_MINUS: case T_STAR: case T_SLASH:
    case T_EQ: case T_NE: case T_LT: case T_LE: case T_GT: case T_GE: case T_MATCH:
    case T_AND: case T_OR:
        return true;
    default:
        return false;
    }
}

static bool is_comparison(int code) {
    return code == T_EQ || code == T_NE || code == T_LT || code == T_LE ||
           code == T_GT || code == T_GE || code == T_MATCH;
}

/* Quoted spelling for fixed tokens; NULL for those with a value. */
static const char *fixed_text(int code) {
    switch (code) {
    case T_TRUE: return "'true'";
    case T_FALSE: return "'false'";
    case T_NONE: return "'none'";
    case T_DEF: return "'def'";
    case T_PARAM: return "'param'";
    case T_IMPORT: return "'import'";
    case T_IF: return "'if'";
    case T_THEN: return "'then'";
    case T_ELSE: return "'else'";
    case T_OR: return "'or'";
    case T_AND: return "'and'";
    case T_NOT: return "'not'";
    case T_LPAREN: return "'('";
    case T_RPAREN: return "')'";
    case T_LBRACKET: return "'['";
    case T_RBRACKET: return "']'";
    case T_COMMA: return "','";
    case T_ASSIGN: return "'='";
    case T_EQ: return "'=='";
    case T_NE: return "'!='";
    case T_LT: return "'<'";
    case T_LE: return "'<='";
    case T_GT: return "'>'";
    case T_GE: return "'>='";
    case T_MATCH: return "'~'";
    case T_PLUS: return "'+'";
    case T_MINUS: return "'-'";
    case T_STAR: return "'*'";
    case T_SLASH: return "'/'";
    default: return NULL;
    }
}

/* What an expected token is called in "expected ...". */
static const char *expected_text(int code) {
    switch (code) {
    case 0: return "end of input";
    case T_NEWLINE: return "end of line";
    case T_NAME: return "a name";
    case T_NUMBER: return "a number";
    case T_STRING: return "a string";
    default: return fixed_text(code);
    }
}

/* The order tokens are listed in "expected ..."; every lexer token once. */
static const int expected_order[] = {
    T_RPAREN, T_RBRACKET, T_COMMA, T_ASSIGN, T_THEN, T_ELSE,
    T_NAME, T_STRING, T_NUMBER, T_TRUE, T_FALSE, T_NONE,
    T_LPAREN, T_LBRACKET, T_MINUS, T_NOT, T_IF, T_DEF, T_PARAM, T_IMPORT,
    T_PLUS, T_STAR, T_SLASH, T_EQ, T_NE, T_LT, T_LE, T_GT, T_GE, T_MATCH,
    T_AND, T_OR, T_NEWLINE, 0,
};

static const int expr_starts[] = {
    T_NAME, T_NUMBER, T_STRING, T_TRUE, T_FALSE, T_NONE,
    T_LPAREN, T_LBRACKET, T_MINUS, T_NOT, T_IF,
};

static const int stmt_only_starts[] = { T_DEF, T_PARAM, T_IMPORT, 0 };

/* What follows any complete expression: it may always go on. */
static const int expr_continues[] = { T_PLUS, T_MINUS, T_STAR, T_SLASH, T_LPAREN, T_LBRACKET };

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static bool has_all(const bool *set, const int *codes, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!set[codes[i]]) return false;
    return true;
}

static void drop_all(bool *set, const int *codes, size_t n) {
    for (size_t i = 0; i < n; i++) set[codes[i]] = false;
}

/* ---- the driver's state ------------------------------------------------------ */

typedef struct Fed {
    int code;
    SynToken tok;
} Fed;

typedef struct Driver {
    const SrcFile *src;
    Arena *arena;
    Diag *diag;
    SynCtx ctx;
    void *parser;
    int prev;                  /* last token fed, 0 before the first */
    /* Tokens of the current statement, for trial parses; past the cap the
     * count goes on but the tokens are not kept. */
    Fed *stmt;
    size_t n_stmt, cap_stmt;
    struct { int code; SynToken tok; } open[MAX_BRACKETS];
    int depth;
} Driver;

static SrcSpan tok_span(const Driver *d, SynToken t) {
    return syn_span(d->src, t);
}

static SrcSpan end_span(const Driver *d) {
    SrcSpan s = { d->src, (uint32_t)d->src->len, (uint32_t)d->src->len };
    return s;
}

static void out_of_memory(Driver *d) {
    diag_plain(d->diag, "%s: out of memory while parsing", d->src->path);
}

/* "found ..." for the token at which the error was seen. */
static void found_text(const Driver *d, int code, SynToken t, char *buf, size_t n) {
    const char *text = d->src->text + t.start;
    int len = (int)(t.end - t.start);
    const char *more = "";
    if (len > 40) {
        len = 40;
        more = "...";
    }
    switch (code) {
    case 0:
        snprintf(buf, n, "end of input");
        break;
    case T_NEWLINE:
        if (t.start == t.end) snprintf(buf, n, "end of input");
        else if (*text == ';') snprintf(buf, n, "';'");
        else snprintf(buf, n, "end of line");
        break;
    case T_NAME:
        snprintf(buf, n, "name '%.*s%s'", len, text, more);
        break;
    case T_NUMBER:
        snprintf(buf, n, "number %.*s%s", len, text, more);
        break;
    case T_STRING:
        snprintf(buf, n, "string");
        break;
    default:
        snprintf(buf, n, "%s", fixed_text(code) ? fixed_text(code) : "token");
        break;
    }
}

/* ---- syntax errors ---------------------------------------------------------- */

/* Feeds the current statement's tokens and then `code` to a fresh parser;
 * true when `code` is shifted without a syntax error. */
static bool trial(Driver *d, void *p, Arena *scratch, int code, SynToken at) {
    SynCtx ctx = { d->src, scratch, NULL, false, false, 0, { 0, 0, { 0 } } };
    ParseInit(p, &ctx);
    for (size_t i = 0; i < d->n_stmt && !ctx.syntax_error && !ctx.overflow; i++)
        Parse(p, d->stmt[i].code, d->stmt[i].tok);
    bool ok = !ctx.syntax_error && !ctx.overflow;
    if (ok) {
        /* A stand-in value: the candidate is only shifted, never reduced. */
        SynToken t = { at.start, at.end, { 0 } };
        if (code == T_NAME || code == T_STRING) t.v.str.s = "";
        Parse(p, code, t);
        ok = !ctx.syntax_error;
    }
    ParseFinalize(p);
    arena_free(scratch);
    return ok;
}

/* Fills expected[] (indexed by code) by trial parses; false when they could
 * not run (too many tokens, or no memory). */
static bool expected_set(Driver *d, SynToken at, bool *expected, int n_codes) {
    if (d->n_stmt > MAX_TRIAL_TOKENS) return false;
    SynCtx ctx0 = { d->src, NULL, NULL, false, false, 0, { 0, 0, { 0 } } };
    void *p = ParseAlloc(malloc, &ctx0);
    if (!p) return false;
    Arena scratch;
    arena_init(&scratch);
    for (int code = 0; code < n_codes; code++)
        expected[code] = code != T_UMINUS && trial(d, p, &scratch, code, at);
    ParseFree(p, free);
    return true;
}

static void syntax_error(Driver *d, int code, SynToken t) {
    char found[80];
    found_text(d, code, t, found, sizeof found);
    SrcSpan at = code == 0 ? end_span(d) : tok_span(d, t);

    int n_codes = syn_n_terminals();
    bool *set = calloc((size_t)n_codes, sizeof *set);
    if (!set || !expected_set(d, t, set, n_codes)) {
        free(set);
        diag_error(d->diag, at, "unexpected %s", found);
        return;
    }
    bool cont = has_all(set, expr_continues, COUNT(expr_continues));
    bool lt_ok = set[T_LT];
    bool close_ok = set[T_RPAREN] || set[T_RBRACKET];

    /* Words for whole classes first, then single tokens in a fixed order. */
    const char *parts[COUNT(expected_order) + 1];
    size_t n_parts = 0;
    if (has_all(set, expr_starts, COUNT(expr_starts))) {
        if (has_all(set, stmt_only_starts, COUNT(stmt_only_starts))) {
            parts[n_parts++] = "a statement";
            drop_all(set, stmt_only_starts, COUNT(stmt_only_starts));
        } else {
            parts[n_parts++] = "an expression";
        }
        drop_all(set, expr_starts, COUNT(expr_starts));
    }
    if (cont) {
        /* Operators can always follow a complete expression; listing them
         * buries the tokens that would finish the construct. '=' only
         * follows a bare name here, which is such an expression too. */
        for (int c = 0; c < n_codes; c++)
            if (is_binary_op(c)) set[c] = false;
        set[T_LPAREN] = set[T_LBRACKET] = set[T_ASSIGN] = false;
    }
    for (size_t i = 0; i < COUNT(expected_order); i++)
        if (set[expected_order[i]]) parts[n_parts++] = expected_text(expected_order[i]);
    free(set);

    if (n_parts == 0) {
        diag_error(d->diag, at, "unexpected %s", found);
        return;
    }
    char list[512];
    size_t used = 0;
    list[0] = '\0';
    for (size_t i = 0; i < n_parts; i++) {
        const char *sep = i == 0 ? "" : i + 1 == n_parts ? " or " : ", ";
        int w = snprintf(list + used, sizeof list - used, "%s%s", sep, parts[i]);
        if (w < 0 || (size_t)w >= sizeof list - used) break;
        used += (size_t)w;
    }
    diag_error(d->diag, at, "expected %s, found %s", list, found);

    /* Where a bracket that could be closed here was opened, when that is on
     * an earlier line: a forgotten ')' shows up lines later. */
    bool noted = false;
    if (d->depth > 0 && close_ok) {
        SynToken open = d->open[d->depth - 1].tok;
        int open_line, err_line, col;
        src_line_col(d->src, open.start, &open_line, &col);
        src_line_col(d->src, at.start, &err_line, &col);
        if (open_line != err_line) {
            diag_note(d->diag, tok_span(d, open), "%s opened here",
                      fixed_text(d->open[d->depth - 1].code));
            noted = true;
        }
    }

    if (is_comparison(code) && cont && !lt_ok)
        diag_hint(d->diag, "comparisons do not chain: write 'a < b and b < c'");
    else if (code == T_ASSIGN && lt_ok && !noted)
        diag_hint(d->diag, "use '==' to compare");
    else if (is_binary_op(code) && code != T_MINUS && d->n_stmt == 0)
        diag_hint(d->diag, "to continue an expression on the next line, end the line "
                           "above with the operator");
}

/* ---- feeding the parser ------------------------------------------------------- */

static bool keep_for_trials(Driver *d, int code, SynToken t) {
    if (d->n_stmt < d->cap_stmt) {
        d->stmt[d->n_stmt].code = code;
        d->stmt[d->n_stmt].tok = t;
    } else if (d->n_stmt <= MAX_TRIAL_TOKENS) {
        size_t cap = d->cap_stmt ? d->cap_stmt * 2 : 256;
        if (cap > MAX_TRIAL_TOKENS + 1) cap = MAX_TRIAL_TOKENS + 1;
        Fed *grown = realloc(d->stmt, cap * sizeof *grown);
        if (!grown) return false;
        d->stmt = grown;
        d->cap_stmt = cap;
        d->stmt[d->n_stmt].code = code;
        d->stmt[d->n_stmt].tok = t;
    }
    d->n_stmt++;
    return true;
}

/* Feeds one token; false after reporting an error. */
static bool feed(Driver *d, int code, SynToken t) {
    Parse(d->parser, code, t);
    if (d->ctx.overflow) {
        diag_error(d->diag, code ? tok_span(d, t) : end_span(d), "expression nested too deeply");
        return false;
    }
    if (d->ctx.syntax_error) {
        syntax_error(d, d->ctx.err_code, d->ctx.err_tok);
        return false;
    }
    if (code == T_NEWLINE) {
        d->n_stmt = 0;
    } else if (!keep_for_trials(d, code, t)) {
        out_of_memory(d);
        return false;
    }
    d->prev = code;
    return true;
}

/* Checked before the parser sees the closer, so that a mismatch is named
 * as such, with the place where the bracket was opened. */
static bool closer_matches(Driver *d, int code, SynToken t) {
    if (d->depth == 0) {
        diag_error(d->diag, tok_span(d, t), "unmatched %s", fixed_text(code));
        return false;
    }
    int opener = d->open[d->depth - 1].code;
    int want = opener == T_LPAREN ? T_RPAREN : T_RBRACKET;
    if (code != want) {
        diag_error(d->diag, tok_span(d, t), "expected %s to close %s, found %s",
                   fixed_text(want), fixed_text(opener), fixed_text(code));
        diag_note(d->diag, tok_span(d, d->open[d->depth - 1].tok), "%s opened here",
                  fixed_text(opener));
        return false;
    }
    return true;
}

static void lexer_error(Driver *d, const Lexer *lx) {
    diag_error(d->diag, lx->at, "%s", lx->msg);
    if (lx->note) diag_note(d->diag, lx->note_at, "%s", lx->note);
    if (lx->hint) diag_hint(d->diag, "%s", lx->hint);
}

/* ---- the finished tree ---------------------------------------------------------- */

typedef struct Visit {
    const Ast *n;
    int depth;
} Visit;

static bool push_visit(Visit **stack, size_t *n, size_t *cap, const Ast *node, int depth) {
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        Visit *grown = realloc(*stack, ncap * sizeof *grown);
        if (!grown) return false;
        *stack = grown;
        *cap = ncap;
    }
    (*stack)[*n].n = node;
    (*stack)[*n].depth = depth;
    (*n)++;
    return true;
}

/* Rejects statements deeper than later passes may recurse ("a+b+c+..." with
 * thousands of terms nests without any bracket). Iterative on purpose. The
 * error points at the statement: the deepest node says little about where
 * to split it. */
static bool check_depth(Driver *d, const Ast *program) {
    Visit *stack = NULL;
    size_t n = 0, cap = 0;
    bool ok = true;
    for (size_t s = 0; ok && s < program->u.list.n; s++) {
        const Ast *stmt = program->u.list.items[s];
        ok = push_visit(&stack, &n, &cap, stmt, 1);
        while (ok && n > 0) {
            Visit v = stack[--n];
            const Ast *x = v.n;
            if (NEVER(!x)) continue;
            if (v.depth > MAX_TREE_DEPTH) {
                SrcSpan at = { stmt->span.file, stmt->span.start, stmt->span.start };
                diag_error(d->diag, at, "expression nested too deeply");
                diag_hint(d->diag, "more than %d levels; split it into several statements",
                          MAX_TREE_DEPTH);
                free(stack);
                return false;
            }
            const Ast *kids[3] = { NULL, NULL, NULL };
            const AstList *list = NULL;
            switch (x->kind) {
            case AST_LIST: case AST_PROGRAM: list = &x->u.list; break;
            case AST_UNARY: case AST_BINARY: case AST_INDEX: case AST_EXPR_STMT:
                kids[0] = x->u.op.a;
                kids[1] = x->u.op.b;
                break;
            case AST_IF:
                kids[0] = x->u.cond.cond;
                kids[1] = x->u.cond.then_;
                kids[2] = x->u.cond.else_;
                break;
            case AST_CALL:
                kids[0] = x->u.call.callee;
                list = &x->u.call.args;
                break;
            case AST_KWARG: case AST_ASSIGN: case AST_PARAM: kids[0] = x->u.bind.value; break;
            case AST_DEF:
                kids[0] = x->u.def.body;
                list = &x->u.def.params;
                break;
            default: break;
            }
            for (int i = 0; i < 3 && ok; i++)
                if (kids[i]) ok = push_visit(&stack, &n, &cap, kids[i], v.depth + 1);
            for (size_t i = 0; list && i < list->n && ok; i++)
                ok = push_visit(&stack, &n, &cap, list->items[i], v.depth + 1);
        }
    }
    free(stack);
    if (!ok) out_of_memory(d);
    return ok;
}

/* ---- entry points ---------------------------------------------------------------- */

static Ast *run(Driver *d) {
    Lexer lx;
    lex_init(&lx, d->src, d->arena);
    /* A statement end not fed yet: the next token decides whether it is one. */
    bool pending = false, pending_semi = false;
    SynToken nl = { 0, 0, { 0 } }, t;
    int code;
    while ((code = lex_next(&lx, &t)) != 0) {
        if (code == LEX_ERROR) {
            lexer_error(d, &lx);
            return NULL;
        }
        if (code == T_NEWLINE) {
            bool semi = d->src->text[t.start] == ';';
            if (pending || d->prev == 0 || d->prev == T_NEWLINE) {
                pending_semi |= semi && pending;
                continue;
            }
            if (d->depth > 0 || syn_token_continues(d->prev)) {
                /* A line break here is layout; a ';' is a mistake the parser
                 * reports ("expected an expression, found ';'"). */
                if (semi && !feed(d, T_NEWLINE, t)) return NULL;
                continue;
            }
            pending = true;
            pending_semi = semi;
            nl = t;
            continue;
        }
        /* No statement starts with 'then' or 'else': a line that does
         * continues the 'if' above it. */
        if (pending && (pending_semi || (code != T_THEN && code != T_ELSE)) &&
            !feed(d, T_NEWLINE, nl))
            return NULL;
        pending = false;
        if (is_opener(code) && d->depth == MAX_BRACKETS) {
            diag_error(d->diag, tok_span(d, t), "expression nested too deeply");
            return NULL;
        }
        if (is_closer(code) && !closer_matches(d, code, t)) return NULL;
        if (!feed(d, code, t)) return NULL;
        if (is_closer(code)) {
            d->depth--;
        } else if (is_opener(code)) {
            d->open[d->depth].code = code;
            d->open[d->depth].tok = t;
            d->depth++;
        }
    }
    if (d->depth > 0) {
        int opener = d->open[d->depth - 1].code;
        diag_error(d->diag, end_span(d), "expected %s before end of input",
                   opener == T_LPAREN ? "')'" : "']'");
        diag_note(d->diag, tok_span(d, d->open[d->depth - 1].tok), "%s opened here",
                  fixed_text(opener));
        return NULL;
    }
    if (pending) {
        if (!feed(d, T_NEWLINE, nl)) return NULL;
    } else if (d->prev != 0 && d->prev != T_NEWLINE) {
        if (!feed(d, T_NEWLINE, t)) return NULL;  /* t: the empty end token */
    }
    if (!feed(d, 0, t)) return NULL;
    if (!d->ctx.root) {
        out_of_memory(d);
        return NULL;
    }
    return check_depth(d, d->ctx.root) ? d->ctx.root : NULL;
}

Ast *syn_parse(const SrcFile *src, Arena *arena, Diag *diag) {
    Driver d;
    memset(&d, 0, sizeof d);
    d.src = src;
    d.arena = arena;
    d.diag = diag;
    d.ctx.src = src;
    d.ctx.arena = arena;
    d.parser = ParseAlloc(malloc, &d.ctx);
    if (!d.parser) {
        out_of_memory(&d);
        return NULL;
    }
    Ast *root = run(&d);
    ParseFree(d.parser, free);
    free(d.stmt);
    return root;
}

bool syn_incomplete(const char *text, size_t len) {
    SrcFile *src = src_from_string("<input>", text, len);
    if (!src) return false;
    Lexer lx;
    lex_init(&lx, src, NULL);  /* no arena: strings are checked, not decoded */
    int depth = 0, last = 0, code;
    SynToken t;
    bool more = false;
    while ((code = lex_next(&lx, &t)) != 0) {
        if (code == LEX_ERROR) {
            /* Other errors are reported once the text is parsed. */
            more = lx.unterminated;
            goto done;
        }
        if (is_opener(code)) depth++;
        if (is_closer(code) && --depth < 0) goto done;
        /* A ';' ends a statement for sure; a line break may not. */
        if (code != T_NEWLINE || src->text[t.start] == ';') last = code;
    }
    more = depth > 0 || syn_token_continues(last);
done:
    src_free(src);
    return more;
}
