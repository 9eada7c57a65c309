/* syntax_int.h - internals shared by the front end's three parts: the re2c
 * lexer (grammar/lexer.re), the Lemon grammar (grammar/parser.y) and the
 * driver that runs them (interp/syntax/syntax.c). Other modules use syntax.h.
 *
 * Token codes are Lemon's (T_* from the generated parser.h); this header
 * does not include parser.h because the generated parser.c defines the same
 * codes itself. */
#ifndef MERGELANG_SYNTAX_INT_H
#define MERGELANG_SYNTAX_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "interp/syntax/ast.h"
#include "interp/syntax/diag.h"

/* ---- tokens -------------------------------------------------------------- */

/* Lemon's %token_type: passed by value, so it stays small. Names point into
 * the source; strings point to their decoded bytes in the parse arena. */
typedef struct SynToken {
    uint32_t start, end;   /* byte offsets into the source, end exclusive */
    union {
        double num;                                 /* T_NUMBER */
        struct { const char *s; size_t len; } str;  /* T_NAME, T_STRING */
    } v;
} SynToken;

static inline SrcSpan syn_span(const SrcFile *src, SynToken t) {
    SrcSpan s = { src, t.start, t.end };
    return s;
}

/* ---- lexer ----------------------------------------------------------------- */

/* lex_next's return value when the input is wrong at this point (never a
 * Lemon code: those are >= 0, 0 meaning end of input). */
#define LEX_ERROR (-1)

typedef struct Lexer {
    const SrcFile *src;
    Arena *arena;              /* decoded strings go here */
    const unsigned char *cur, *lim, *mark, *tok;
    /* Set when lex_next returns LEX_ERROR; note and hint are optional. */
    char msg[128];
    SrcSpan at;
    const char *note;          /* e.g. "string starts here" */
    SrcSpan note_at;
    const char *hint;
    bool unterminated;         /* input ended inside a string */
} Lexer;

/* src->text must be NUL-terminated at src->len (SrcFile guarantees it). */
void lex_init(Lexer *lx, const SrcFile *src, Arena *arena);
/* Next token: a T_* code with *tok filled in, 0 at end of input, or
 * LEX_ERROR with lx->msg and lx->at set. Comments and blank space are
 * skipped; newlines and ';' come back as T_NEWLINE. */
int lex_next(Lexer *lx, SynToken *tok);

/* ---- parser ------------------------------------------------------------------ */

/* Lemon's %extra_context: what the grammar actions and the error callbacks
 * see. The callbacks only record; the driver decides what to report. */
typedef struct SynCtx {
    const SrcFile *src;
    Arena *arena;
    Ast *root;                 /* set when the program is accepted */
    bool syntax_error;         /* the last token fed could not be shifted */
    bool overflow;             /* the parser stack is full */
    int err_code;
    SynToken err_tok;
} SynCtx;

/* The generated parser's entry points (Lemon's header has token codes only). */
void *ParseAlloc(void *(*malloc_fn)(size_t), SynCtx *ctx);
void ParseInit(void *parser, SynCtx *ctx);
void ParseFinalize(void *parser);
void ParseFree(void *parser, void (*free_fn)(void *));
void Parse(void *parser, int code, SynToken tok);
void ParseTrace(FILE *out, char *prompt);  /* exists unless NDEBUG */
/* Number of terminal codes, end of input (0) included. */
int syn_n_terminals(void);

#endif
