/* syntax.h - from recipe text to a syntax tree: runs the re2c lexer and the
 * Lemon parser, checks bracket balance, and reports the first syntax error
 * with the tokens the parser would have accepted ("expected ')' or ',',
 * found 'then'") and, for unbalanced brackets, where the bracket was opened.
 * Nesting is bounded (256 open brackets, tree depth 1000), so no later pass
 * can recurse without limit on a hostile input. */
#ifndef MERGELANG_SYNTAX_H
#define MERGELANG_SYNTAX_H

#include "interp/syntax/ast.h"
#include "interp/syntax/diag.h"

/* Parses a whole file. Returns an AST_PROGRAM allocated in arena, or NULL
 * after reporting at least one error to diag. */
Ast *syn_parse(const SrcFile *src, Arena *arena, Diag *diag);

/* For the REPL: true when text ends inside open brackets, an unterminated
 * string, or right after a token that cannot end a statement ('=', an
 * operator, ',', 'if', 'then', 'else', ...), so more lines are needed. */
bool syn_incomplete(const char *text, size_t len);
/* A token that cannot end a statement (an operator, '(', ',', then, ...): a
 * line break after it does not end the statement. */
bool syn_token_continues(int code);

#endif
