/* syntax.h - from recipe text to a syntax tree: runs the re2c lexer and the
 * Lemon parser, checks bracket balance, and reports syntax errors with the
 * expected tokens ("expected ')' or ',' after argument, found 'then'") and,
 * for unbalanced brackets, where the bracket was opened. */
#ifndef MERGELANG_SYNTAX_H
#define MERGELANG_SYNTAX_H

#include "ast.h"
#include "diag.h"

/* Parses a whole file. Returns an AST_PROGRAM allocated in arena, or NULL
 * after reporting at least one error to diag. */
Ast *syn_parse(const SrcFile *src, Arena *arena, Diag *diag);

/* For the REPL: true when text ends inside open brackets, an unterminated
 * string, or right after a token that cannot end a statement ('=', an
 * operator, ',', 'if', 'then', 'else', ...), so more lines are needed. */
bool syn_incomplete(const char *text, size_t len);

#endif
