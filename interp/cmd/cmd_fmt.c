/* cmd_fmt.c - `mergelang fmt`: rewrites a recipe in the canonical layout,
 * keeping every comment; `--check` only reports, `-w` rewrites in place.
 *
 * How it works: the file is parsed first (a syntax error is reported and
 * nothing is changed), then re-emitted token by token from the lexer's
 * token stream. Comments are not tokens: they are what lies between two
 * tokens' spans. The layout rules (docs/commands.md has them for users):
 *
 * - Tokens are separated by one space, except: none after '(' or '[' or a
 *   unary minus, none before ')' ']' ',', and none before the '(' of a call
 *   or the '[' of an index (a '(' or '[' right after a name, literal, ')' or
 *   ']').
 * - Every line break the author made inside a statement is kept (the
 *   grammar allows one only inside brackets, after an operator or ',', and
 *   before 'then'/'else'), and no other is added: long lines are not
 *   re-wrapped. Statements separated by ';' go on lines of their own.
 * - Statements start in column 0. A continuation line is indented by what
 *   it continues: 'then'/'else' line up under their 'if' (under the first
 *   'if' of an 'else if' chain); inside brackets, under the first item when
 *   it follows the bracket on the same line, else 4 past the bracket line's
 *   indent, with a closing bracket that starts a line back at that indent;
 *   any other continuation 4 spaces.
 * - Blank lines are kept, at most one in a row, none at the start or end.
 * - A comment on its own line takes the indentation of the code it
 *   precedes (column 0 between statements); an end-of-line comment keeps
 *   its column when the code before it leaves room, so hand-aligned
 *   comments stay aligned, and otherwise (or when its statement was split
 *   off a line after a ';') follows the code after 2 spaces.
 *
 * Every position is computed from the output already written, never from
 * the input's, which is what makes formatting idempotent. As a safety net
 * the result is parsed again and its syntax tree compared with the
 * original's (ast_dump); a difference is an internal error and nothing is
 * written. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "interp/cmd/commands.h"
#include "interp/syntax/diag.h"
#include "interp/syntax/syntax.h"
#include "interp/syntax/syntax_int.h"

#include "parser.h"

#define MAX_STDIN_BYTES (8u << 20)   /* what src_load accepts from a file */

static const char usage_text[] =
    "usage: mergelang fmt [--check | -w] FILE.merge...\n"
    "\n"
    "Formats recipes canonically: one statement per line, spaces around\n"
    "operators and '=', none inside brackets, ', ' after commas, at most one\n"
    "blank line in a row; comments and the author's line breaks are kept.\n"
    "Formatting twice changes nothing, and never changes what a recipe means.\n"
    "A FILE of '-' is standard input.\n"
    "\n"
    "  (default)   print the formatted text to standard output\n"
    "  --check     print the name of each file that is not formatted and exit 1\n"
    "              if there is one; change nothing (for CI)\n"
    "  -w          rewrite files that are not formatted, in place (atomically)\n"
    "  --ast       print each file's syntax tree instead (to check that\n"
    "              formatting leaves it unchanged)\n"
    "  -h, --help  show this help\n"
    "\n"
    "exit status: 0 success, 1 a syntax error, an unreadable file, or (--check)\n"
    "a file not formatted, 2 bad command line\n";

/* ---- output buffer ------------------------------------------------------------ */

typedef struct Buf {
    char *p;
    size_t n, cap;
    bool oom;
} Buf;

static void put(Buf *b, const char *s, size_t len) {
    if (b->oom) return;
    if (b->n + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (b->n + len + 1 > cap) cap *= 2;
        char *grown = realloc(b->p, cap);
        if (!grown) {
            b->oom = true;
            return;
        }
        b->p = grown;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, len);
    b->n += len;
    b->p[b->n] = '\0';
}

/* ---- token classes --------------------------------------------------------------- */

/* A token that can end an operand: a '(' or '[' after it is a call or an
 * index, and a '-' after it is binary. */
static bool ends_operand(int code) {
    switch (code) {
    case T_NAME: case T_NUMBER: case T_STRING: case T_TRUE: case T_FALSE: case T_NONE:
    case T_RPAREN: case T_RBRACKET:
        return true;
    default:
        return false;
    }
}

static bool is_opener(int code) { return code == T_LPAREN || code == T_LBRACKET; }
static bool is_closer(int code) { return code == T_RPAREN || code == T_RBRACKET; }

/* ---- the formatter ------------------------------------------------------------------ */

typedef struct Tok {
    int code;                  /* T_* ; T_NEWLINE for '\n' and ';'; 0 at the end */
    uint32_t start, end;
} Tok;

typedef struct Bracket {
    int col;                   /* output column of the bracket */
    int line_indent;           /* indent of the line it is on */
    bool visual;               /* items continue on its line: align under them */
} Bracket;

typedef struct Fmt {
    const SrcFile *src;
    const Tok *toks;
    Buf out;
    int col;                   /* code points on the current output line */
    int line_indent;
    bool line_open;            /* the current output line has text */
    bool line_as_input;        /* its first token also starts its input line
                                  (it was not split off after a ';') */
    Bracket *brackets;         /* open brackets, innermost last */
    size_t depth;
    int *ifs;                  /* alignment column of each open 'if' */
    size_t n_ifs;
    int else_align;            /* of the 'if' the last 'else' closed */
    int prev;                  /* previous token (0: none yet) */
    bool prev_unary;           /* it was a unary minus */
    bool stmt_start;           /* the next token starts a statement */
} Fmt;

static int code_points(const char *s, size_t len) {
    int n = 0;
    for (size_t i = 0; i < len; i++) n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

static void emit(Fmt *f, const char *s, size_t len) {
    put(&f->out, s, len);
    f->col += code_points(s, len);
    f->line_open = true;
}

static void spaces(Fmt *f, int n) {
    static const char blanks[] = "                                ";
    while (n > 0) {
        int k = n < (int)sizeof blanks - 1 ? n : (int)sizeof blanks - 1;
        put(&f->out, blanks, (size_t)k);
        f->col += k;
        n -= k;
    }
}

static void end_line(Fmt *f) {
    if (!f->line_open) return;
    put(&f->out, "\n", 1);
    f->line_open = false;
    f->col = 0;
}

static void blank_line(Fmt *f) {
    if (f->out.n > 0) put(&f->out, "\n", 1);
}

static void start_line(Fmt *f, int indent) {
    spaces(f, indent);
    f->line_indent = indent;
}

/* Where a continuation line starting with token `code` begins. A comment
 * line before a closing bracket stays with the items, not the bracket. */
static int indent_for(const Fmt *f, int code, bool comment) {
    if ((code == T_THEN || code == T_ELSE) && f->n_ifs > 0) return f->ifs[f->n_ifs - 1];
    if (f->depth > 0) {
        const Bracket *b = &f->brackets[f->depth - 1];
        if (is_closer(code) && !comment) return b->line_indent;
        return b->visual ? b->col + 1 : b->line_indent + 4;
    }
    return 4;
}

/* The column (in code points) at which byte offset `at` sits in the input. */
static int input_col(const SrcFile *src, uint32_t at) {
    uint32_t s = at;
    while (s > 0 && src->text[s - 1] != '\n') s--;
    return code_points(src->text + s, at - s);
}

/* The comment in the input between byte offsets from and to, if any. */
static bool find_comment(const SrcFile *src, uint32_t from, uint32_t to, uint32_t *cs, uint32_t *ce) {
    const char *hash = memchr(src->text + from, '#', to - from);
    if (!hash) return false;
    *cs = (uint32_t)(hash - src->text);
    uint32_t e = to;
    while (e > *cs && (src->text[e - 1] == ' ' || src->text[e - 1] == '\t' || src->text[e - 1] == '\r')) e--;
    *ce = e;
    return true;
}

static bool space_before(const Fmt *f, int code) {
    if (is_opener(f->prev) || (f->prev == T_MINUS && f->prev_unary)) return false;
    if (is_closer(code) || code == T_COMMA) return false;
    if (is_opener(code) && ends_operand(f->prev)) return false;
    return true;
}

/* Writes token t and updates the bracket and 'if' stacks. */
static void emit_token(Fmt *f, const Tok *t) {
    int col = f->col;
    if (!f->line_open) {
        uint32_t s = t->start;
        while (s > 0 && (f->src->text[s - 1] == ' ' || f->src->text[s - 1] == '\t' ||
                         f->src->text[s - 1] == '\r'))
            s--;
        f->line_as_input = s == 0 || f->src->text[s - 1] == '\n';
    }
    bool unary = t->code == T_MINUS && (f->stmt_start || !ends_operand(f->prev));
    emit(f, f->src->text + t->start, t->end - t->start);
    if (is_opener(t->code)) {
        int next = t[1].code;
        Bracket b = { col, f->line_indent, next != T_NEWLINE && next != 0 };
        f->brackets[f->depth++] = b;
    } else if (is_closer(t->code)) {
        if (f->depth > 0) f->depth--;
    } else if (t->code == T_IF) {
        f->ifs[f->n_ifs++] = f->prev == T_ELSE ? f->else_align : col;
    } else if (t->code == T_ELSE) {
        if (f->n_ifs > 0) f->else_align = f->ifs[--f->n_ifs];
    }
    f->prev = t->code;
    f->prev_unary = unary;
    f->stmt_start = false;
}

/* Lays out toks (ending with code 0) into f->out. */
static void format_tokens(Fmt *f) {
    const char *text = f->src->text;
    size_t i = 0;
    uint32_t last_end = 0;
    f->stmt_start = true;
    for (;;) {
        /* The gap up to the next real token: line ends, ';' and comments. */
        size_t k = i;
        bool semi = false;
        for (; f->toks[k].code == T_NEWLINE; k++)
            if (text[f->toks[k].start] == ';') semi = true;
        const Tok *t = &f->toks[k];
        bool brk = k > i || t->code == 0;
        bool stmt_end = f->prev == 0 || t->code == 0 ||
                        (brk && f->depth == 0 && !syn_token_continues(f->prev) &&
                         (semi || (t->code != T_THEN && t->code != T_ELSE)));
        int comment_indent = stmt_end ? 0 : indent_for(f, t->code, true);

        int newlines = 0;   /* '\n' since the last thing written */
        for (size_t m = i; m <= k; m++) {
            uint32_t from = m == i ? last_end : f->toks[m - 1].end, cs, ce;
            if (find_comment(f->src, from, f->toks[m].start, &cs, &ce)) {
                if (newlines == 0 && f->line_open) {
                    int min = f->col + 2, want = f->line_as_input ? input_col(f->src, cs) : min;
                    spaces(f, (want > min ? want : min) - f->col);
                } else {
                    end_line(f);
                    if (newlines >= 2) blank_line(f);
                    start_line(f, comment_indent);
                }
                emit(f, text + cs, ce - cs);
                end_line(f);
                newlines = 0;   /* the '\n' ending the comment is still to come */
            }
            if (m < k && text[f->toks[m].start] == '\n') newlines++;
        }
        if (t->code == 0) break;

        if (stmt_end) {
            f->depth = 0;
            f->n_ifs = 0;
            f->stmt_start = true;
        }
        if (brk) {
            int indent = stmt_end ? 0 : indent_for(f, t->code, false);
            end_line(f);
            if (newlines >= 2) blank_line(f);
            start_line(f, indent);
        } else if (f->line_open && space_before(f, t->code)) {
            spaces(f, 1);
        }
        emit_token(f, t);
        last_end = t->end;
        i = k + 1;
    }
    end_line(f);
}

/* ---- one file ------------------------------------------------------------------------ */

static char *dump_tree(const Ast *program) {
    char *s = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&s, &len);
    if (!m) return NULL;
    ast_dump(program, m);
    if (fclose(m) != 0) {
        free(s);
        return NULL;
    }
    return s;
}

/* The lexer's tokens of src, ending with code 0; NULL when out of memory
 * (src has parsed, so the lexer cannot fail). */
static Tok *lex_all(const SrcFile *src) {
    size_t cap = 256, n = 0;
    Tok *toks = malloc(cap * sizeof *toks);
    Lexer lx;
    lex_init(&lx, src, NULL);  /* spans are all that is needed: no string decoding */
    SynToken st;
    for (;;) {
        if (!toks) return NULL;
        int code = lex_next(&lx, &st);
        if (code == LEX_ERROR) code = 0;
        if (n + 1 == cap) {
            Tok *grown = realloc(toks, (cap *= 2) * sizeof *toks);
            if (!grown) free(toks);
            toks = grown;
            if (!toks) return NULL;
        }
        toks[n].code = code;
        toks[n].start = st.start;
        toks[n].end = st.end;
        n++;
        if (code == 0) break;
    }
    toks[n].code = 0;  /* one more end, so toks[k + 1] is always readable */
    toks[n].start = toks[n].end = toks[n - 1].end;
    return toks;
}

typedef enum Mode { MODE_PRINT, MODE_CHECK, MODE_WRITE, MODE_AST } Mode;

/* Formats src into *out (malloc'd, NUL-terminated). Returns 0, or 1 after
 * reporting the problem (syntax error, or an internal error). With
 * tree_only, stores the syntax tree's dump instead and does not format. */
static int format_source(const SrcFile *src, Diag *diag, char **out, size_t *out_len, bool tree_only) {
    *out = NULL;
    *out_len = 0;
    Arena arena;
    arena_init(&arena);
    Ast *program = syn_parse(src, &arena, diag);
    if (!program) {
        arena_free(&arena);
        return 1;
    }
    char *before = dump_tree(program);
    arena_free(&arena);
    if (!before) {
        diag_plain(diag, "%s: out of memory", src->path);
        return 1;
    }
    if (tree_only) {
        *out = before;
        *out_len = strlen(before);
        return 0;
    }

    Tok *toks = lex_all(src);
    size_t n_toks = 0;
    while (toks && toks[n_toks].code != 0) n_toks++;
    Fmt f;
    memset(&f, 0, sizeof f);
    f.src = src;
    f.toks = toks;
    f.brackets = malloc((n_toks + 1) * sizeof *f.brackets);
    f.ifs = malloc((n_toks + 1) * sizeof *f.ifs);
    int status = 0;
    if (!toks || !f.brackets || !f.ifs) {
        diag_plain(diag, "%s: out of memory", src->path);
        status = 1;
    } else {
        format_tokens(&f);
        if (f.out.oom) {
            diag_plain(diag, "%s: out of memory", src->path);
            status = 1;
        }
    }
    free(toks);
    free(f.brackets);
    free(f.ifs);
    if (status) {
        free(f.out.p);
        free(before);
        return status;
    }
    if (!f.out.p) {   /* an empty recipe formats to nothing */
        f.out.p = calloc(1, 1);
        if (!f.out.p) {
            free(before);
            diag_plain(diag, "%s: out of memory", src->path);
            return 1;
        }
    }

    /* The safety net: the formatted text must mean exactly what the input did. */
    SrcFile *again = src_from_string(src->path, f.out.p, f.out.n);
    Diag quiet;
    FILE *sink = fopen("/dev/null", "w");
    diag_init(&quiet, sink ? sink : stderr);
    arena_init(&arena);
    Ast *reparsed = again ? syn_parse(again, &arena, &quiet) : NULL;
    char *after = reparsed ? dump_tree(reparsed) : NULL;
    arena_free(&arena);
    src_free(again);
    if (sink) fclose(sink);
    if (!after || strcmp(before, after) != 0) {
        diag_plain(diag, "%s: internal error: formatting would change the recipe's meaning; "
                         "left unchanged (please report this with the file)", src->path);
        free(f.out.p);
        status = 1;
    } else {
        *out = f.out.p;
        *out_len = f.out.n;
    }
    free(before);
    free(after);
    return status;
}

static SrcFile *read_stdin(void) {
    Buf b = { NULL, 0, 0, false };
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, stdin)) > 0 && !b.oom && b.n <= MAX_STDIN_BYTES)
        put(&b, chunk, got);
    if (b.oom || b.n > MAX_STDIN_BYTES || ferror(stdin)) {
        errno = b.oom ? ENOMEM : b.n > MAX_STDIN_BYTES ? EFBIG : EIO;
        free(b.p);
        return NULL;
    }
    SrcFile *src = src_from_string("<stdin>", b.p ? b.p : "", b.n);
    free(b.p);
    return src;
}

/* Replaces path's contents by text: a temporary file in the same folder,
 * renamed over the original, so a reader never sees half a file. A
 * symbolic link is followed, not replaced. */
static int write_in_place(const char *path, const char *text, size_t len, Diag *diag) {
    char *real = realpath(path, NULL);
    if (!real) {
        diag_plain(diag, "cannot write '%s': %s", path, strerror(errno));
        return 1;
    }
    struct stat st;
    char *dir_copy = strdup(real), *base_copy = strdup(real);
    size_t tlen = strlen(real) + 32;
    char *tmp = malloc(tlen);
    int status = 1, fd = -1;
    if (!dir_copy || !base_copy || !tmp) {
        diag_plain(diag, "cannot write '%s': out of memory", path);
        goto done;
    }
    snprintf(tmp, tlen, "%s/.%s.fmt-XXXXXX", dirname(dir_copy), basename(base_copy));
    if (stat(real, &st) != 0 || (fd = mkstemp(tmp)) < 0) {
        diag_plain(diag, "cannot write '%s': %s", path, strerror(errno));
        goto done;
    }
    size_t done_bytes = 0;
    while (done_bytes < len) {
        ssize_t w = write(fd, text + done_bytes, len - done_bytes);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        done_bytes += (size_t)w;
    }
    if (done_bytes != len || fchmod(fd, st.st_mode & 07777) != 0 || fsync(fd) != 0) {
        diag_plain(diag, "cannot write '%s': %s", path, strerror(errno ? errno : EIO));
        close(fd);
        unlink(tmp);
        goto done;
    }
    if (close(fd) != 0 || rename(tmp, real) != 0) {
        diag_plain(diag, "cannot write '%s': %s", path, strerror(errno));
        unlink(tmp);
        goto done;
    }
    status = 0;
done:
    free(tmp);
    free(dir_copy);
    free(base_copy);
    free(real);
    return status;
}

static int process(const char *path, Mode mode, Diag *diag) {
    bool from_stdin = strcmp(path, "-") == 0;
    SrcFile *src = from_stdin ? read_stdin() : src_load(path);
    if (!src) {
        diag_plain(diag, "cannot read '%s': %s", from_stdin ? "<stdin>" : path, strerror(errno));
        return 1;
    }
    char *text;
    size_t len;
    int status = format_source(src, diag, &text, &len, mode == MODE_AST);
    if (status == 0) {
        bool same = len == src->len && memcmp(text, src->text, len) == 0;
        switch (mode) {
        case MODE_AST:
            printf("%s\n", text);
            break;
        case MODE_PRINT:
            fwrite(text, 1, len, stdout);
            break;
        case MODE_CHECK:
            if (!same) {
                printf("%s\n", path);
                status = 1;
            }
            break;
        case MODE_WRITE:
            /* An unchanged file is not touched, so its time stamp says so. */
            if (!same) status = write_in_place(path, text, len, diag);
            break;
        }
    }
    free(text);
    src_free(src);
    return status;
}

int cmd_fmt_main(int argc, char **argv) {
    Mode mode = MODE_PRINT;
    int n_files = 0;
    bool options_done = false, use_stdin = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        Mode m = MODE_PRINT;
        if (options_done || a[0] != '-' || strcmp(a, "-") == 0) {
            n_files++;
            use_stdin |= strcmp(a, "-") == 0;
            continue;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage_text, stdout);
            return 0;
        } else if (strcmp(a, "--") == 0) {
            options_done = true;
            continue;
        } else if (strcmp(a, "--check") == 0) m = MODE_CHECK;
        else if (strcmp(a, "-w") == 0 || strcmp(a, "--write") == 0) m = MODE_WRITE;
        else if (strcmp(a, "--ast") == 0) m = MODE_AST;
        else {
            fprintf(stderr, "mergelang: fmt: unknown option '%s'\n"
                            "usage: mergelang fmt [--check | -w] FILE.merge...\n", a);
            return 2;
        }
        if (mode != MODE_PRINT && mode != m) {
            fputs("mergelang: fmt: --check, -w and --ast exclude each other\n", stderr);
            return 2;
        }
        mode = m;
    }
    if (mode == MODE_WRITE && use_stdin) {
        fputs("mergelang: fmt: -w cannot rewrite standard input\n", stderr);
        return 2;
    }
    if (n_files == 0) {
        fputs("mergelang: fmt needs a recipe file ('-' for standard input)\n"
              "usage: mergelang fmt [--check | -w] FILE.merge...\n", stderr);
        return 2;
    }

    Diag diag;
    diag_init(&diag, stderr);
    int status = 0;
    options_done = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!options_done && a[0] == '-' && strcmp(a, "-") != 0) {
            options_done = strcmp(a, "--") == 0;
            continue;
        }
        if (process(a, mode, &diag) != 0 && status == 0) status = 1;
    }
    if (fflush(stdout) != 0 && status == 0) {
        diag_plain(&diag, "cannot write the output: %s", strerror(errno));
        status = 1;
    }
    return status;
}
