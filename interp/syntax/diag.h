/* diag.h - source files and diagnostics.
 *
 * Locations are byte offsets into a SrcFile; line and column are computed
 * only when a message is printed. Columns count characters (UTF-8 code
 * points), starting at 1. Every located message has the form
 *
 *   recipe.merge:3:12: error: expected an expression, found ')'
 *       3 | out = (a + )
 *         |            ^
 *
 * followed by optional "note:" lines (also located) and "hint:" lines. A
 * line longer than 100 columns is shown cut around the span, with "...".
 * Messages go to the Diag's stream; callers (CLI, REPL, tests) choose it. */
#ifndef MERGELANG_DIAG_H
#define MERGELANG_DIAG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct SrcFile {
    char *path;            /* as shown in messages */
    char *text;            /* NUL-terminated copy; may contain NUL bytes before len */
    size_t len;
    uint32_t *line_starts; /* byte offset of each line's first byte */
    size_t n_lines;
} SrcFile;

typedef struct SrcSpan {
    const SrcFile *file;   /* NULL for spans that point nowhere */
    uint32_t start, end;   /* byte offsets, end exclusive; start == end allowed */
} SrcSpan;

/* Reads a file; returns NULL (errno set) when it cannot be read. Inputs over
 * 8 MiB are refused (errno = EFBIG). */
SrcFile *src_load(const char *path);
/* Wraps text (copied) under a display name, e.g. "<repl>" or "<-e>". */
SrcFile *src_from_string(const char *path, const char *text, size_t len);
void src_free(SrcFile *f);
/* 1-based line and column (in code points) of a byte offset. */
void src_line_col(const SrcFile *f, uint32_t offset, int *line, int *col);

typedef struct Diag {
    FILE *out;
    int n_errors;
    int max_errors;        /* stop printing after this many (0 = no limit; diag_init sets 50) */
} Diag;

void diag_init(Diag *d, FILE *out);
/* "file:line:col: error: ..." with source line and caret(s) under the span. */
void diag_error(Diag *d, SrcSpan at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A located note that belongs to the previous error ("'(' opened here"). */
void diag_note(Diag *d, SrcSpan at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "  hint: ..." under the previous error. */
void diag_hint(Diag *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "file:line:col: warning: ..." on one line (no source shown, not counted
 * as an error), cleaned like every message. */
void diag_vwarning(Diag *d, SrcSpan at, const char *fmt, va_list ap);
/* An error with no source location: "mergelang: error: ...". */
void diag_plain(Diag *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
