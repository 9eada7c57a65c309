/* ast.c - builders for the syntax tree and its S-expression dump; see ast.h.
 *
 * Builders are NULL-tolerant: given a NULL child (an earlier allocation
 * failed) they return NULL, and a list that failed to grow is marked broken
 * (items NULL, cap SIZE_MAX), so an out-of-memory anywhere in a parse ends in
 * a NULL root instead of a tree with holes. Grammar actions therefore need
 * no checks of their own. */
#include "interp/syntax/ast.h"
#include "interp/syntax/syntax_int.h"

#include <stdint.h>
#include <string.h>

static bool list_broken(const AstList *l) {
    return l->items == NULL && l->cap == SIZE_MAX;
}

static void list_break(AstList *l) {
    l->items = NULL;
    l->n = 0;
    l->cap = SIZE_MAX;
}

const char *ast_op_text(AstOp op) {
    switch (op) {
    case OP_ADD: return "+";
    case OP_SUB: return "-";
    case OP_MUL: return "*";
    case OP_DIV: return "/";
    case OP_EQ: return "==";
    case OP_NE: return "!=";
    case OP_LT: return "<";
    case OP_LE: return "<=";
    case OP_GT: return ">";
    case OP_GE: return ">=";
    case OP_MATCH: return "~";
    case OP_AND: return "and";
    case OP_OR: return "or";
    case OP_NEG: return "-";
    case OP_NOT: return "not";
    }
    return "?";
}

/* Spans that point nowhere (file NULL) are neutral. */
SrcSpan span_join(SrcSpan a, SrcSpan b) {
    if (!a.file) return b;
    if (!b.file) return a;
    SrcSpan s = a;
    if (b.start < s.start) s.start = b.start;
    if (b.end > s.end) s.end = b.end;
    return s;
}

Ast *ast_new(Arena *a, AstKind kind, SrcSpan span) {
    Ast *n = arena_alloc(a, sizeof *n);
    if (!n) return NULL;
    n->kind = kind;
    n->span = span;
    return n;
}

Ast *ast_new_num(Arena *a, SrcSpan span, double v) {
    Ast *n = ast_new(a, AST_NUM, span);
    if (n) n->u.num = v;
    return n;
}

Ast *ast_new_str(Arena *a, SrcSpan span, const char *s, size_t len) {
    char *copy = arena_strndup(a, s, len);
    Ast *n = copy ? ast_new(a, AST_STR, span) : NULL;
    if (!n) return NULL;
    n->u.str.s = copy;
    n->u.str.len = len;
    return n;
}

Ast *ast_new_name(Arena *a, SrcSpan span, const char *name, size_t len) {
    char *copy = arena_strndup(a, name, len);
    Ast *n = copy ? ast_new(a, AST_NAME, span) : NULL;
    if (!n) return NULL;
    n->u.name = copy;
    return n;
}

/* x is required; y is required for AST_BINARY and AST_INDEX only. The span
 * covers the operator and both operands. */
Ast *ast_new_op(Arena *a, AstKind kind, AstOp op, SrcSpan op_span, Ast *x, Ast *y) {
    bool two = kind == AST_BINARY || kind == AST_INDEX;
    if (!x || (two && !y)) return NULL;
    SrcSpan span = span_join(op_span, x->span);
    if (y) span = span_join(span, y->span);
    Ast *n = ast_new(a, kind, span);
    if (!n) return NULL;
    n->u.op.op = op;
    n->u.op.a = x;
    n->u.op.b = y;
    n->u.op.op_span = op_span;
    return n;
}

/* span is the 'if' keyword or the whole construct; it is joined with the
 * three parts either way. */
Ast *ast_new_if(Arena *a, SrcSpan span, Ast *c, Ast *t, Ast *e) {
    if (!c || !t || !e) return NULL;
    Ast *n = ast_new(a, AST_IF, span_join(span_join(span, c->span), e->span));
    if (!n) return NULL;
    n->u.cond.cond = c;
    n->u.cond.then_ = t;
    n->u.cond.else_ = e;
    return n;
}

/* span is at least the closing ')'; the result spans from the callee. */
Ast *ast_new_call(Arena *a, Ast *callee, AstList args, SrcSpan span) {
    if (!callee || list_broken(&args)) return NULL;
    Ast *n = ast_new(a, AST_CALL, span_join(callee->span, span));
    if (!n) return NULL;
    n->u.call.callee = callee;
    n->u.call.args = args;
    return n;
}

/* value is required (a def parameter without default is an AST_NAME, not a
 * bind), so NULL here means a failure further down. */
Ast *ast_new_bind(Arena *a, AstKind kind, SrcSpan span, const char *name, size_t len,
                  SrcSpan name_span, Ast *value) {
    if (!value) return NULL;
    char *copy = arena_strndup(a, name, len);
    Ast *n = copy ? ast_new(a, kind, span_join(span_join(span, name_span), value->span)) : NULL;
    if (!n) return NULL;
    n->u.bind.name = copy;
    n->u.bind.name_span = name_span;
    n->u.bind.value = value;
    return n;
}

/* Returns 0, or -1 after marking the list broken (item NULL or no memory). */
int ast_list_push(Arena *a, AstList *l, Ast *item) {
    if (list_broken(l)) return -1;
    if (!item) {
        list_break(l);
        return -1;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        Ast **items = arena_array(a, cap, sizeof *items);
        if (!items) {
            list_break(l);
            return -1;
        }
        /* the old array stays in the arena; growth by doubling bounds the waste */
        if (l->n) memcpy(items, l->items, l->n * sizeof *items);
        l->items = items;
        l->cap = cap;
    }
    l->items[l->n++] = item;
    return 0;
}

Ast *ast_new_list(Arena *a, AstKind kind, SrcSpan span, AstList items) {
    if (list_broken(&items)) return NULL;
    Ast *n = ast_new(a, kind, span);
    if (n) n->u.list = items;
    return n;
}

Ast *ast_new_bool(Arena *a, SrcSpan span, bool v) {
    Ast *n = ast_new(a, AST_BOOL, span);
    if (n) n->u.boolean = v;
    return n;
}

Ast *ast_new_def(Arena *a, SrcSpan span, const char *name, size_t len,
                 SrcSpan name_span, AstList params, Ast *body) {
    if (!body || list_broken(&params)) return NULL;
    char *copy = arena_strndup(a, name, len);
    Ast *n = copy ? ast_new(a, AST_DEF, span_join(span_join(span, name_span), body->span)) : NULL;
    if (!n) return NULL;
    n->u.def.name = copy;
    n->u.def.name_span = name_span;
    n->u.def.params = params;
    n->u.def.body = body;
    return n;
}

Ast *ast_new_import(Arena *a, SrcSpan span, bool is_path, const char *target, size_t len) {
    char *copy = arena_strndup(a, target, len);
    Ast *n = copy ? ast_new(a, AST_IMPORT, span) : NULL;
    if (!n) return NULL;
    n->u.import.is_path = is_path;
    n->u.import.target = copy;
    return n;
}

Ast *ast_parens(Ast *x, SrcSpan parens) {
    if (x) x->span = span_join(x->span, parens);
    return x;
}

/* ---- dump ------------------------------------------------------------------ */

static void dump_str(const char *s, size_t len, FILE *out) {
    fputc('"', out);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\t': fputs("\\t", out); break;
        case '\r': fputs("\\r", out); break;
        default:
            if (c < 0x20 || c == 0x7F) fprintf(out, "\\x%02x", c);
            else fputc(c, out);
        }
    }
    fputc('"', out);
}

static void dump_list(const AstList *l, FILE *out) {
    for (size_t i = 0; i < l->n; i++) {
        fputc(' ', out);
        ast_dump(l->items[i], out);
    }
}

void ast_dump(const Ast *n, FILE *out) {
    if (!n) {
        fputs("(null)", out);
        return;
    }
    switch (n->kind) {
    case AST_NUM:
        fprintf(out, "%.17g", n->u.num);
        break;
    case AST_STR:
        dump_str(n->u.str.s, n->u.str.len, out);
        break;
    case AST_BOOL:
        fputs(n->u.boolean ? "true" : "false", out);
        break;
    case AST_NONE:
        fputs("none", out);
        break;
    case AST_NAME:
        fputs(n->u.name, out);
        break;
    case AST_LIST:
    case AST_PROGRAM:
        fputs(n->kind == AST_LIST ? "(list" : "(program", out);
        dump_list(&n->u.list, out);
        fputc(')', out);
        break;
    case AST_UNARY:
        fprintf(out, "(%s ", n->u.op.op == OP_NEG ? "neg" : ast_op_text(n->u.op.op));
        ast_dump(n->u.op.a, out);
        fputc(')', out);
        break;
    case AST_BINARY:
    case AST_INDEX:
        fprintf(out, "(%s ", n->kind == AST_INDEX ? "index" : ast_op_text(n->u.op.op));
        ast_dump(n->u.op.a, out);
        fputc(' ', out);
        ast_dump(n->u.op.b, out);
        fputc(')', out);
        break;
    case AST_IF:
        fputs("(if ", out);
        ast_dump(n->u.cond.cond, out);
        fputc(' ', out);
        ast_dump(n->u.cond.then_, out);
        fputc(' ', out);
        ast_dump(n->u.cond.else_, out);
        fputc(')', out);
        break;
    case AST_CALL:
        fputs("(call ", out);
        ast_dump(n->u.call.callee, out);
        dump_list(&n->u.call.args, out);
        fputc(')', out);
        break;
    case AST_KWARG:
    case AST_ASSIGN:
    case AST_PARAM:
        fprintf(out, "(%s %s ",
                n->kind == AST_KWARG ? "kw" : n->kind == AST_ASSIGN ? "assign" : "param",
                n->u.bind.name);
        ast_dump(n->u.bind.value, out);
        fputc(')', out);
        break;
    case AST_DEF:
        fprintf(out, "(def %s (", n->u.def.name);
        for (size_t i = 0; i < n->u.def.params.n; i++) {
            if (i) fputc(' ', out);
            ast_dump(n->u.def.params.items[i], out);
        }
        fputs(") ", out);
        ast_dump(n->u.def.body, out);
        fputc(')', out);
        break;
    case AST_IMPORT:
        fputs("(import ", out);
        if (n->u.import.is_path) dump_str(n->u.import.target, strlen(n->u.import.target), out);
        else fputs(n->u.import.target, out);
        fputc(')', out);
        break;
    case AST_EXPR_STMT:
        fputs("(expr ", out);
        ast_dump(n->u.op.a, out);
        fputc(')', out);
        break;
    }
}
