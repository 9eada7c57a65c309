/* parser.y - the Lemon grammar of mergelang; builds the tree of ast.h.
 *
 * Security stance: the token stream comes from a hostile recipe. The parser
 * stack has a fixed size (%stack_size); overflowing it is reported as an
 * error, never grown without bound. Actions only call ast_new_* builders,
 * which tolerate NULL children, so running out of memory cannot crash here.
 *
 * Notes for the next reader:
 * - The driver (interp/syntax/syntax.c) feeds one token at a time, drops newlines
 *   inside brackets and after operators, and computes the "expected ..."
 *   part of syntax errors by trial parses; the callbacks below only record.
 * - Tree nodes live in the arena, so no nonterminal needs a %destructor.
 * - Lemon exits non-zero on any conflict: keep it that way. */

%include {
#include <assert.h>
#include <stdbool.h>
#include <stddef.h>

#include "interp/syntax/ast.h"
#include "interp/syntax/syntax_int.h"

#define SPAN(T) syn_span(ctx->src, (T))
#define NOWHERE ((SrcSpan){ NULL, 0, 0 })
}

%name Parse
%token_prefix T_
%token_type { SynToken }
%extra_context { SynCtx *ctx }
%stack_size 1000

%syntax_error {
    /* End of input needs no special case: the driver words every message. */
    ctx->syntax_error = true;
    ctx->err_code = yymajor;
    ctx->err_tok = yyminor;
}

%stack_overflow {
    ctx->overflow = true;
}

/* Tokens own nothing: names point into the source, strings into the arena.
 * This only marks ctx as used in the generated yy_destructor, so parser.c
 * compiles warning-free without -Wno-unused-variable. */
%token_destructor { (void)ctx; }

%code {
int syn_n_terminals(void) {
    return YYNTOKEN;
}
}

/* Tokens that never get a precedence, in a fixed order so their codes are
 * stable across grammar edits. */
%token NEWLINE NUMBER STRING NAME TRUE FALSE NONE
       DEF PARAM IMPORT IF THEN LPAREN RPAREN LBRACKET RBRACKET COMMA ASSIGN.

/* Precedence, lowest first. Only the rule "if ... else expr" uses ELSE's
 * level: it being lowest lets the else branch extend as far as it can. */
%right ELSE.
%left OR.
%left AND.
%right NOT.
%nonassoc EQ NE LT LE GT GE MATCH.
%left PLUS MINUS.
%left STAR SLASH.
%right UMINUS.

%type program { Ast * }
%type stmts { AstList }
%type stmt { Ast * }
%type expr { Ast * }
%type postfix { Ast * }
%type primary { Ast * }
%type opt_items { AstList }
%type items { AstList }
%type opt_args { AstList }
%type args { AstList }
%type arg { Ast * }
%type opt_params { AstList }
%type params { AstList }
%type param { Ast * }

/* ---- program and statements ---------------------------------------------- */

program ::= stmts(L). {
    ctx->root = ast_new_list(ctx->arena, AST_PROGRAM, (SrcSpan){ ctx->src, 0, (uint32_t)ctx->src->len }, L);
}

stmts(A) ::= . { A = (AstList){ NULL, 0, 0 }; }
stmts(A) ::= stmts(A) stmt(S) NEWLINE. { ast_list_push(ctx->arena, &A, S); }

stmt(A) ::= NAME(N) ASSIGN expr(E). {
    A = ast_new_bind(ctx->arena, AST_ASSIGN, SPAN(N), N.v.str.s, N.v.str.len, SPAN(N), E);
}
stmt(A) ::= PARAM(P) NAME(N) ASSIGN expr(E). {
    A = ast_new_bind(ctx->arena, AST_PARAM, SPAN(P), N.v.str.s, N.v.str.len, SPAN(N), E);
}
stmt(A) ::= DEF(D) NAME(N) LPAREN opt_params(L) RPAREN ASSIGN expr(E). {
    A = ast_new_def(ctx->arena, SPAN(D), N.v.str.s, N.v.str.len, SPAN(N), L, E);
}
stmt(A) ::= IMPORT(I) STRING(S). {
    A = ast_new_import(ctx->arena, span_join(SPAN(I), SPAN(S)), true, S.v.str.s, S.v.str.len);
}
stmt(A) ::= IMPORT(I) NAME(N). {
    A = ast_new_import(ctx->arena, span_join(SPAN(I), SPAN(N)), false, N.v.str.s, N.v.str.len);
}
stmt(A) ::= expr(E). {
    A = ast_new_op(ctx->arena, AST_EXPR_STMT, OP_ADD, NOWHERE, E, NULL);
}

/* ---- def parameters ---------------------------------------------------------- */

opt_params(A) ::= . { A = (AstList){ NULL, 0, 0 }; }
opt_params(A) ::= params(A).
opt_params(A) ::= params(A) COMMA.

params(A) ::= param(P). {
    A = (AstList){ NULL, 0, 0 };
    ast_list_push(ctx->arena, &A, P);
}
params(A) ::= params(A) COMMA param(P). { ast_list_push(ctx->arena, &A, P); }

param(A) ::= NAME(N). { A = ast_new_name(ctx->arena, SPAN(N), N.v.str.s, N.v.str.len); }
param(A) ::= NAME(N) ASSIGN expr(E). {
    A = ast_new_bind(ctx->arena, AST_KWARG, SPAN(N), N.v.str.s, N.v.str.len, SPAN(N), E);
}

/* ---- expressions --------------------------------------------------------------- */

expr(A) ::= IF(I) expr(C) THEN expr(T) ELSE expr(E). [ELSE] {
    A = ast_new_if(ctx->arena, SPAN(I), C, T, E);
}
expr(A) ::= expr(X) OR(O) expr(Y).    { A = ast_new_op(ctx->arena, AST_BINARY, OP_OR, SPAN(O), X, Y); }
expr(A) ::= expr(X) AND(O) expr(Y).   { A = ast_new_op(ctx->arena, AST_BINARY, OP_AND, SPAN(O), X, Y); }
expr(A) ::= NOT(O) expr(X). [NOT]     { A = ast_new_op(ctx->arena, AST_UNARY, OP_NOT, SPAN(O), X, NULL); }
expr(A) ::= expr(X) EQ(O) expr(Y).    { A = ast_new_op(ctx->arena, AST_BINARY, OP_EQ, SPAN(O), X, Y); }
expr(A) ::= expr(X) NE(O) expr(Y).    { A = ast_new_op(ctx->arena, AST_BINARY, OP_NE, SPAN(O), X, Y); }
expr(A) ::= expr(X) LT(O) expr(Y).    { A = ast_new_op(ctx->arena, AST_BINARY, OP_LT, SPAN(O), X, Y); }
expr(A) ::= expr(X) LE(O) expr(Y).    { A = ast_new_op(ctx->arena, AST_BINARY, OP_LE, SPAN(O), X, Y); }
expr(A) ::= expr(X) GT(O) expr(Y).    { A = ast_new_op(ctx->arena, AST_BINARY, OP_GT, SPAN(O), X, Y); }
expr(A) ::= expr(X) GE(O) expr(Y).    { A = ast_new_op(ctx->arena, AST_BINARY, OP_GE, SPAN(O), X, Y); }
expr(A) ::= expr(X) MATCH(O) expr(Y). { A = ast_new_op(ctx->arena, AST_BINARY, OP_MATCH, SPAN(O), X, Y); }
expr(A) ::= expr(X) PLUS(O) expr(Y).  { A = ast_new_op(ctx->arena, AST_BINARY, OP_ADD, SPAN(O), X, Y); }
expr(A) ::= expr(X) MINUS(O) expr(Y). { A = ast_new_op(ctx->arena, AST_BINARY, OP_SUB, SPAN(O), X, Y); }
expr(A) ::= expr(X) STAR(O) expr(Y).  { A = ast_new_op(ctx->arena, AST_BINARY, OP_MUL, SPAN(O), X, Y); }
expr(A) ::= expr(X) SLASH(O) expr(Y). { A = ast_new_op(ctx->arena, AST_BINARY, OP_DIV, SPAN(O), X, Y); }
expr(A) ::= MINUS(O) expr(X). [UMINUS] { A = ast_new_op(ctx->arena, AST_UNARY, OP_NEG, SPAN(O), X, NULL); }
expr(A) ::= postfix(A).

/* ---- calls and indexing ------------------------------------------------------- */

postfix(A) ::= primary(A).
postfix(A) ::= postfix(F) LPAREN opt_args(L) RPAREN(R). {
    A = ast_new_call(ctx->arena, F, L, SPAN(R));
}
postfix(A) ::= postfix(X) LBRACKET(L) expr(I) RBRACKET(R). {
    A = ast_new_op(ctx->arena, AST_INDEX, OP_ADD, span_join(SPAN(L), SPAN(R)), X, I);
}

opt_args(A) ::= . { A = (AstList){ NULL, 0, 0 }; }
opt_args(A) ::= args(A).
opt_args(A) ::= args(A) COMMA.

args(A) ::= arg(X). {
    A = (AstList){ NULL, 0, 0 };
    ast_list_push(ctx->arena, &A, X);
}
args(A) ::= args(A) COMMA arg(X). { ast_list_push(ctx->arena, &A, X); }

arg(A) ::= expr(A).
arg(A) ::= NAME(N) ASSIGN expr(E). {
    A = ast_new_bind(ctx->arena, AST_KWARG, SPAN(N), N.v.str.s, N.v.str.len, SPAN(N), E);
}

/* ---- primaries ------------------------------------------------------------------ */

primary(A) ::= NUMBER(N). { A = ast_new_num(ctx->arena, SPAN(N), N.v.num); }
primary(A) ::= STRING(S). { A = ast_new_str(ctx->arena, SPAN(S), S.v.str.s, S.v.str.len); }
primary(A) ::= TRUE(T).   { A = ast_new_bool(ctx->arena, SPAN(T), true); }
primary(A) ::= FALSE(T).  { A = ast_new_bool(ctx->arena, SPAN(T), false); }
primary(A) ::= NONE(T).   { A = ast_new(ctx->arena, AST_NONE, SPAN(T)); }
primary(A) ::= NAME(N).   { A = ast_new_name(ctx->arena, SPAN(N), N.v.str.s, N.v.str.len); }
primary(A) ::= LPAREN(L) expr(X) RPAREN(R). {
    A = ast_parens(X, span_join(SPAN(L), SPAN(R)));
}
primary(A) ::= LBRACKET(L) opt_items(I) RBRACKET(R). {
    A = ast_new_list(ctx->arena, AST_LIST, span_join(SPAN(L), SPAN(R)), I);
}

opt_items(A) ::= . { A = (AstList){ NULL, 0, 0 }; }
opt_items(A) ::= items(A).
opt_items(A) ::= items(A) COMMA.

items(A) ::= expr(X). {
    A = (AstList){ NULL, 0, 0 };
    ast_list_push(ctx->arena, &A, X);
}
items(A) ::= items(A) COMMA expr(X). { ast_list_push(ctx->arena, &A, X); }
