/* diag.c - source files, the line table, and located messages; see diag.h.
 *
 * The text being shown may come from a hostile or broken file: it can hold
 * NUL bytes, control characters and invalid UTF-8, and so can the paths and
 * tensor names a message quotes. Everything printed (file name, message,
 * source line) has control characters (except tab) and invalid bytes
 * replaced with '?', so a message never sends terminal escapes, and the
 * caret line stays aligned: the caret padding repeats the line's tabs and
 * puts one space per code point. Output is bounded too: long lines are
 * shown cut around the span, messages at MSG_MAX bytes, and diag_init
 * prints at most DIAG_MAX_ERRORS errors (the rest are counted). */
#include "interp/syntax/diag.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Offsets are uint32_t everywhere. A recipe is a few kilobytes; the limit
 * bounds what a hostile one costs to parse and plan (a statement takes a
 * few hundred bytes of tree and values: 8 MiB of "1\n" is about 1 GB). */
#define SRC_MAX_BYTES ((size_t)8 * 1024 * 1024)
/* Source shown under a message: at most SHOW_COLS columns of the line,
 * starting up to SHOW_BEFORE columns before the span. */
#define SHOW_COLS 100
#define SHOW_BEFORE 40
/* Longest message printed (the rest is cut, with "..."). */
#define MSG_MAX 2000
/* Errors printed before the rest are only counted (diag_init's default). */
#define DIAG_MAX_ERRORS 50

/* ---- files and the line table ------------------------------------------ */

/* Takes ownership of text (len bytes plus a NUL). */
static SrcFile *src_new(const char *path, char *text, size_t len) {
    SrcFile *f = calloc(1, sizeof *f);
    char *p = strdup(path ? path : "<input>");
    size_t n = 1;
    for (size_t i = 0; i < len; i++)
        if (text[i] == '\n' && i + 1 < len) n++;
    uint32_t *starts = malloc(n * sizeof *starts);
    if (!f || !p || !starts) {
        free(f);
        free(p);
        free(starts);
        free(text);
        errno = ENOMEM;
        return NULL;
    }
    /* A newline ends a line; it starts a new one only if text follows, so a
     * position at the very end of "a\n" still belongs to line 1. */
    size_t k = 0;
    starts[k++] = 0;
    for (size_t i = 0; i < len; i++)
        if (text[i] == '\n' && i + 1 < len) starts[k++] = (uint32_t)(i + 1);
    f->path = p;
    f->text = text;
    f->len = len;
    f->line_starts = starts;
    f->n_lines = n;
    return f;
}

SrcFile *src_from_string(const char *path, const char *text, size_t len) {
    if (len > SRC_MAX_BYTES) {
        errno = EFBIG;
        return NULL;
    }
    char *copy = malloc(len + 1);
    if (!copy) {
        errno = ENOMEM;
        return NULL;
    }
    if (len) memcpy(copy, text, len);
    copy[len] = '\0';
    return src_new(path, copy, len);
}

SrcFile *src_load(const char *path) {
    FILE *in = fopen(path, "rb");
    if (!in) return NULL;
    struct stat st;
    if (fstat(fileno(in), &st) == 0 && S_ISREG(st.st_mode) &&
        (uintmax_t)st.st_size > SRC_MAX_BYTES) {
        fclose(in);
        errno = EFBIG;
        return NULL;
    }
    /* Read in chunks rather than trusting st_size, so pipes and files that
     * grow while being read are bounded too: one byte past the limit is
     * enough to refuse. */
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap + 1);
    int err = 0;
    while (buf) {
        if (len == cap) {
            if (cap > SRC_MAX_BYTES) {
                err = EFBIG;
                break;
            }
            size_t ncap = cap * 2 > SRC_MAX_BYTES ? SRC_MAX_BYTES + 1 : cap * 2;
            char *nb = realloc(buf, ncap + 1);
            if (!nb) {
                err = ENOMEM;
                break;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, in);
        len += got;
        if (got == 0) {
            if (ferror(in)) err = errno ? errno : EIO;
            break;
        }
    }
    fclose(in);
    if (!buf || err) {
        free(buf);
        errno = err ? err : ENOMEM;
        return NULL;
    }
    buf[len] = '\0';
    return src_new(path, buf, len);
}

void src_free(SrcFile *f) {
    if (!f) return;
    free(f->path);
    free(f->text);
    free(f->line_starts);
    free(f);
}

/* Length of the UTF-8 sequence at p (p < end), or 0 when the byte there
 * does not start a valid one (overlong forms and surrogates included). */
static size_t utf8_len(const unsigned char *p, const unsigned char *end) {
    unsigned c = p[0];
    size_t n;
    unsigned lo = 0x80, hi = 0xBF;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n) return 0;
    if (p[1] < lo || p[1] > hi) return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xBF) return 0;
    return n;
}

/* Bytes of one displayed column at p: a valid sequence, or one bad byte. */
static size_t col_step(const unsigned char *p, const unsigned char *end) {
    size_t n = utf8_len(p, end);
    return n ? n : 1;
}

static size_t line_of(const SrcFile *f, uint32_t offset) {
    size_t lo = 0, hi = f->n_lines;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (f->line_starts[mid] <= offset) lo = mid;
        else hi = mid;
    }
    return lo;
}

/* End of line i (index) in bytes, excluding its newline and a '\r' before it. */
static size_t line_end(const SrcFile *f, size_t i) {
    size_t s = f->line_starts[i];
    const char *nl = memchr(f->text + s, '\n', f->len - s);
    size_t e = nl ? (size_t)(nl - f->text) : f->len;
    if (e > s && f->text[e - 1] == '\r') e--;
    return e;
}

void src_line_col(const SrcFile *f, uint32_t offset, int *line, int *col) {
    if (offset > f->len) offset = (uint32_t)f->len;
    size_t i = line_of(f, offset);
    const unsigned char *p = (const unsigned char *)f->text + f->line_starts[i];
    size_t le = line_end(f, i);
    /* The newline (or "\r\n") after a line counts as just past its end. */
    const unsigned char *at = (const unsigned char *)f->text + (offset > le ? le : offset);
    const unsigned char *end = (const unsigned char *)f->text + f->len;
    int c = 1;
    while (p < at) {
        p += col_step(p, end);
        c++;
    }
    *line = (int)(i + 1);
    *col = c;
}

/* ---- messages -------------------------------------------------------------- */

void diag_init(Diag *d, FILE *out) {
    d->out = out;
    d->n_errors = 0;
    /* Bounded by default: a hostile recipe can hold millions of errors. */
    d->max_errors = DIAG_MAX_ERRORS;
}

/* Whether the latest error was printed; notes and hints follow its fate. */
static bool showing(const Diag *d) {
    return d->max_errors <= 0 || d->n_errors <= d->max_errors;
}

/* Writes [p, end) with everything a terminal would act on replaced by '?':
 * control characters (C0 but tab, DEL, C1) and invalid UTF-8. Source lines
 * and message arguments come from recipes and checkpoints: a path or a
 * tensor name can hold "\x1b]0;..." or "\u001b[2J". */
static void put_clean(FILE *out, const unsigned char *p, const unsigned char *end) {
    while (p < end) {
        size_t n = utf8_len(p, end);
        if (n == 0) {
            fputc('?', out);
            p++;
        } else if (n == 1) {
            bool control = (*p < 0x20 && *p != '\t') || *p == 0x7F;
            fputc(control ? '?' : *p, out);
            p++;
        } else {
            /* C1 controls (U+0080..U+009F) are as unsafe as C0 ones. */
            if (n == 2 && p[0] == 0xC2 && p[1] < 0xA0) fputc('?', out);
            else fwrite(p, 1, n, out);
            p += n;
        }
    }
}

static void put_clean_str(FILE *out, const char *s) {
    put_clean(out, (const unsigned char *)s, (const unsigned char *)s + strlen(s));
}

/* Formats a message and writes it cleaned, cut at MSG_MAX bytes. */
static void put_message(FILE *out, const char *fmt, va_list ap) {
    char small[256], *buf = small;
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    if (n >= (int)sizeof small) {
        size_t len = (size_t)n < MSG_MAX ? (size_t)n : MSG_MAX;
        buf = malloc(len + 1);
        if (buf) vsnprintf(buf, len + 1, fmt, again);
        else buf = small;
    }
    va_end(again);
    if (n > 0) {
        size_t len = strlen(buf);
        put_clean(out, (const unsigned char *)buf, (const unsigned char *)buf + len);
        if ((size_t)n > len) fputs("...", out);
    }
    if (buf != small) free(buf);
}

/* Byte offset of the column `cols` columns after p (or end, if sooner). */
static const unsigned char *skip_cols(const unsigned char *p, const unsigned char *end, size_t cols) {
    for (; cols > 0 && p < end; cols--) p += col_step(p, end);
    return p;
}

/* Shows the line holding the span's start with a caret line under it. A long
 * line (a minified or hostile recipe) is cut to a window of SHOW_COLS
 * columns that starts SHOW_BEFORE columns before the span, with "..." where
 * text was left out, so a message stays short whatever the line length. */
static void show_source(FILE *out, SrcSpan at) {
    const SrcFile *f = at.file;
    uint32_t start = at.start > f->len ? (uint32_t)f->len : at.start;
    uint32_t stop = at.end > f->len ? (uint32_t)f->len : at.end;
    if (stop < start) stop = start;
    size_t i = line_of(f, start);
    const unsigned char *text = (const unsigned char *)f->text;
    size_t ls = f->line_starts[i], le = line_end(f, i);
    /* A span that starts on a line's newline (or '\r\n') shows at its end. */
    if (start > le) start = (uint32_t)le;
    const unsigned char *line_end_p = text + le, *at_p = text + start;

    const unsigned char *ws = text + ls, *we = line_end_p;
    if (skip_cols(ws, line_end_p, SHOW_COLS) < line_end_p) {
        /* Columns before the span, and after it (counted up to SHOW_COLS):
         * a span near the end of the line gets more of what precedes it. */
        size_t before = 0, after = 0;
        for (const unsigned char *p = ws; p < at_p; p += col_step(p, line_end_p)) before++;
        for (const unsigned char *p = at_p; p < line_end_p && after < SHOW_COLS; p += col_step(p, line_end_p))
            after++;
        size_t keep = after < SHOW_COLS - SHOW_BEFORE ? SHOW_COLS - after : SHOW_BEFORE;
        ws = skip_cols(ws, at_p, before > keep ? before - keep : 0);
        we = skip_cols(ws, line_end_p, SHOW_COLS);
    }
    bool cut_left = ws > text + ls, cut_right = we < line_end_p;

    int width = fprintf(out, "%5d", (int)(i + 1));
    fprintf(out, " | %s", cut_left ? "..." : "");
    put_clean(out, ws, we);
    fprintf(out, "%s\n%*s | %s", cut_right ? "..." : "", width > 0 ? width : 5, "", cut_left ? "   " : "");
    for (const unsigned char *p = ws; p < at_p; p += col_step(p, line_end_p))
        fputc(*p == '\t' ? '\t' : ' ', out);
    fputc('^', out);
    const unsigned char *p = at_p;
    if (p < we) p += col_step(p, line_end_p);
    for (; p < we && p < text + stop; p += col_step(p, line_end_p))
        fputc('~', out);
    fputc('\n', out);
}

static void located(Diag *d, const char *kind, SrcSpan at, const char *fmt, va_list ap) {
    if (at.file) {
        int line, col;
        src_line_col(at.file, at.start, &line, &col);
        put_clean_str(d->out, at.file->path);
        fprintf(d->out, ":%d:%d: %s: ", line, col, kind);
    } else {
        fprintf(d->out, "mergelang: %s: ", kind);
    }
    put_message(d->out, fmt, ap);
    fputc('\n', d->out);
    if (at.file) show_source(d->out, at);
}

void diag_error(Diag *d, SrcSpan at, const char *fmt, ...) {
    d->n_errors++;
    if (!showing(d)) return;
    va_list ap;
    va_start(ap, fmt);
    located(d, "error", at, fmt, ap);
    va_end(ap);
}

void diag_note(Diag *d, SrcSpan at, const char *fmt, ...) {
    if (!showing(d)) return;
    va_list ap;
    va_start(ap, fmt);
    located(d, "note", at, fmt, ap);
    va_end(ap);
}

void diag_hint(Diag *d, const char *fmt, ...) {
    if (!showing(d)) return;
    va_list ap;
    va_start(ap, fmt);
    fputs("  hint: ", d->out);
    put_message(d->out, fmt, ap);
    fputc('\n', d->out);
    va_end(ap);
}

void diag_vwarning(Diag *d, SrcSpan at, const char *fmt, va_list ap) {
    if (at.file) {
        int line, col;
        src_line_col(at.file, at.start, &line, &col);
        put_clean_str(d->out, at.file->path);
        fprintf(d->out, ":%d:%d: warning: ", line, col);
    } else {
        fputs("mergelang: warning: ", d->out);
    }
    put_message(d->out, fmt, ap);
    fputc('\n', d->out);
}

void diag_plain(Diag *d, const char *fmt, ...) {
    d->n_errors++;
    if (!showing(d)) return;
    va_list ap;
    va_start(ap, fmt);
    fputs("mergelang: error: ", d->out);
    put_message(d->out, fmt, ap);
    fputc('\n', d->out);
    va_end(ap);
}
