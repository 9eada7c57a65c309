/* ast.h - the syntax tree of a recipe.
 *
 * The parser builds it through the ast_new_* functions (grammar actions do
 * nothing else); everything lives in one Arena owned by the caller of
 * syn_parse and is freed with it. The tree is immutable once parsed: the
 * evaluator only reads it, so it may be shared across threads.
 *
 * Grammar summary (precedence lowest first):
 *   program   := { stmt NEWLINE }
 *   stmt      := NAME '=' expr | 'param' NAME '=' expr
 *              | 'def' NAME '(' [params] ')' '=' expr
 *              | 'import' (STRING | NAME) | expr
 *   expr      := 'if' expr 'then' expr 'else' expr
 *              | expr 'or' expr | expr 'and' expr | 'not' expr
 *              | expr ('=='|'!='|'<'|'<='|'>'|'>='|'~') expr   (non-associative)
 *              | expr ('+'|'-') expr | expr ('*'|'/') expr | '-' expr
 *              | postfix
 *   postfix   := primary { '(' [args] ')' | '[' expr ']' }
 *   primary   := NUMBER | STRING | 'true' | 'false' | 'none' | NAME
 *              | '(' expr ')' | '[' [expr {',' expr}] [','] ']'
 *   args      := arg {',' arg} [',']      arg := expr | NAME '=' expr
 *   params    := param {',' param} [',']  param := NAME | NAME '=' expr
 */
#ifndef MERGELANG_AST_H
#define MERGELANG_AST_H

#include <stdbool.h>
#include <stddef.h>

#include "runtime/core/arena.h"
#include "interp/syntax/diag.h"

typedef enum AstKind {
    /* expressions */
    AST_NUM,       /* u.num */
    AST_STR,       /* u.str (escapes already resolved) */
    AST_BOOL,      /* u.boolean */
    AST_NONE,
    AST_NAME,      /* u.name */
    AST_LIST,      /* u.list: items */
    AST_UNARY,     /* u.op: op (OP_NEG, OP_NOT), a */
    AST_BINARY,    /* u.op: op, a, b */
    AST_IF,        /* u.cond */
    AST_CALL,      /* u.call: callee, args (AST_KWARG for name=value) */
    AST_INDEX,     /* u.op: a[b], op unused */
    AST_KWARG,     /* u.bind: name = value (only inside call args / def params) */
    /* statements */
    AST_ASSIGN,    /* u.bind */
    AST_PARAM,     /* u.bind */
    AST_DEF,       /* u.def */
    AST_IMPORT,    /* u.import */
    AST_EXPR_STMT, /* u.op.a */
    AST_PROGRAM    /* u.list: statements */
} AstKind;

typedef enum AstOp {
    OP_ADD, OP_SUB, OP_MUL, OP_DIV,
    OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE,
    OP_MATCH,      /* '~' */
    OP_AND, OP_OR,
    OP_NEG, OP_NOT
} AstOp;

typedef struct Ast Ast;

typedef struct AstList {
    Ast **items;
    size_t n;
    size_t cap;
} AstList;

struct Ast {
    AstKind kind;
    SrcSpan span;          /* the whole construct */
    union {
        double num;
        bool boolean;
        struct { const char *s; size_t len; } str;
        const char *name;
        AstList list;
        struct { AstOp op; Ast *a, *b; SrcSpan op_span; } op;
        struct { Ast *cond, *then_, *else_; } cond;
        struct { Ast *callee; AstList args; } call;
        struct { const char *name; SrcSpan name_span; Ast *value; } bind;
        struct { const char *name; SrcSpan name_span; AstList params; Ast *body; } def;
        struct { bool is_path; const char *target; } import;  /* path string or module name */
    } u;
};

const char *ast_op_text(AstOp op);  /* "+", "and", "~", ... */

/* Builders used by the grammar actions. All allocate in arena. They return
 * NULL when a child is NULL or the arena is out of memory, so a failure
 * anywhere leaves a NULL root (the parser then reports it). The span given
 * to ast_new_if/call/bind/def is joined with their children's spans. */
Ast *ast_new(Arena *a, AstKind kind, SrcSpan span);
Ast *ast_new_num(Arena *a, SrcSpan span, double v);
Ast *ast_new_str(Arena *a, SrcSpan span, const char *s, size_t len);
Ast *ast_new_name(Arena *a, SrcSpan span, const char *name, size_t len);
Ast *ast_new_op(Arena *a, AstKind kind, AstOp op, SrcSpan op_span, Ast *x, Ast *y);
Ast *ast_new_if(Arena *a, SrcSpan span, Ast *c, Ast *t, Ast *e);
Ast *ast_new_call(Arena *a, Ast *callee, AstList args, SrcSpan span);
Ast *ast_new_bind(Arena *a, AstKind kind, SrcSpan span, const char *name, size_t len,
                  SrcSpan name_span, Ast *value);
/* AST_LIST or AST_PROGRAM over items. */
Ast *ast_new_list(Arena *a, AstKind kind, SrcSpan span, AstList items);
Ast *ast_new_bool(Arena *a, SrcSpan span, bool v);
Ast *ast_new_def(Arena *a, SrcSpan span, const char *name, size_t len,
                 SrcSpan name_span, AstList params, Ast *body);
Ast *ast_new_import(Arena *a, SrcSpan span, bool is_path, const char *target, size_t len);
/* Widens x's span to the parentheses around it: "(a + b) * c" then spans
 * from '(' to 'c'. Returns x. */
Ast *ast_parens(Ast *x, SrcSpan parens);
/* Appends item; a list that failed to grow is marked with items NULL and
 * cap SIZE_MAX, and the next builder that receives it returns NULL. */
int ast_list_push(Arena *a, AstList *l, Ast *item);
SrcSpan span_join(SrcSpan a, SrcSpan b);

/* Prints the tree as an S-expression on one line, e.g.
 * (assign out (call linear (list a b) (kw weights (list 0.5 0.5)))).
 * Used by tests and by debugging output. */
void ast_dump(const Ast *n, FILE *out);

#endif
