/* repl.c - the interactive session: `mergelang repl`, or `mergelang` with
 * no arguments on a terminal. See docs/repl.md.
 *
 * Input is statements of the language and :commands. On a terminal it is
 * read with libedit (line editing, persistent history, tab completion);
 * otherwise line by line from stdin with no prompts, so a session can be
 * scripted and tested. An input spans several lines while brackets are
 * open, a line ends in an operator, or an `if` lacks its `else`.
 *
 * Each input is parsed from its own SrcFile, kept (with its syntax tree)
 * for the whole session: spans in diagnostics, closures and graph nodes
 * point into them. Before an input runs, the session's bindings are
 * copied; if anything in the input fails, the copy is put back, so an error
 * changes nothing (checkpoints it opened stay cached, which is invisible).
 *
 * Ctrl-C sets a flag that long commands check between tensors; at the
 * prompt it drops the line being typed. A save (save() or :save) cannot be
 * stopped half-way without output.c's cooperation: it finishes, and a
 * second Ctrl-C quits at once. */
#include <errno.h>
#include <histedit.h>
#include <limits.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "interp/builtins/builtins.h"
#include "interp/output/output.h"
#include "interp/repl/repl.h"
#include "interp/repl/repl_int.h"
#include "interp/syntax/syntax.h"

#define PROMPT "merge> "
#define PROMPT_MORE "  ...> "
#define HISTORY_SIZE 2000

static void on_sigint(int sig) {
    (void)sig;
    repl_interrupted = 1;
}

static volatile sig_atomic_t window_changed;

static void on_sigwinch(int sig) {
    (void)sig;
    window_changed = 1;
}

/* ---- running an input --------------------------------------------------------- */

static void run_input(Repl *r, const char *name, const char *text, size_t len) {
    int before = r->diag.n_errors;
    SrcFile *src = repl_keep_src(r, src_from_string(name, text, len));
    if (!src) {
        diag_plain(&r->diag, "out of memory");
        r->failed = true;
        return;
    }
    Ast *prog = syn_parse(src, &r->ast, &r->diag);
    if (!prog) {
        r->failed = true;
        return;
    }
    ReplSnapshot snap;
    repl_snap_take(r, &snap);
    for (size_t i = 0; i < prog->u.list.n && !repl_interrupted; i++) {
        Ast *st = prog->u.list.items[i];
        int errors = r->diag.n_errors;
        if (st->kind == AST_EXPR_STMT) {
            r->plan.depth_reported = false;
            Value v = plan_eval(&r->plan, st->u.op.a);
            if (r->diag.n_errors == errors && v.kind != V_NONE) repl_show_value(r, v);
        } else {
            /* plan_program on a one-statement program: assignments, defs,
             * params and imports behave exactly as in a recipe. */
            Ast one = *prog;
            one.u.list.items = &prog->u.list.items[i];
            one.u.list.n = one.u.list.cap = 1;
            plan_program(&r->plan, &one);
        }
        if (r->diag.n_errors > errors) break;
    }
    if (r->diag.n_errors > before || repl_interrupted) {
        repl_snap_restore(r, &snap);
        if (r->diag.n_errors > before) r->failed = true;
    } else {
        repl_run_saves(r);
    }
    repl_snap_free(&snap);
}

/* ---- input assembly ----------------------------------------------------------- */

typedef struct Pending {
    char *text;
    size_t len, cap;
    unsigned long first_line;
} Pending;

static void pending_add(Pending *p, const char *s, size_t n) {
    if (p->len + n + 2 > p->cap) {
        size_t cap = (p->len + n + 2) * 2;
        char *t = realloc(p->text, cap);
        if (!t) {
            fprintf(stderr, "mergelang: out of memory\n");
            exit(4);
        }
        p->text = t;
        p->cap = cap;
    }
    memcpy(p->text + p->len, s, n);
    p->len += n;
    p->text[p->len++] = '\n';
    p->text[p->len] = '\0';
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void input_name(const Repl *r, unsigned long line, char *buf, size_t n) {
    snprintf(buf, n, "<%s:%lu>", r->interactive ? "repl" : "stdin", line);
}

/* After an input or a command: report an interrupt, then the time taken. */
static void finish_input(Repl *r, double t0) {
    fflush(r->out);
    if (repl_interrupted) {
        fprintf(stderr, "interrupted\n");
        repl_interrupted = 0;
    }
    if (r->timing) fprintf(r->out, "time: %.3f s\n", now_seconds() - t0);
    fflush(r->out);
}

/* Runs the collected input, timing it when asked. */
static void submit(Repl *r, Pending *p) {
    char name[48];
    input_name(r, p->first_line, name, sizeof name);
    double t0 = now_seconds();
    run_input(r, name, p->text, p->len);
    p->len = 0;
    finish_input(r, t0);
}

static bool is_blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') return false;
    return true;
}

/* One line of input (without its newline): starts, continues or completes
 * an input, or is a command. */
static void feed_line(Repl *r, Pending *p, const char *line, size_t n) {
    /* The error limit is per input: a long session must not run out. */
    if (p->len == 0) r->diag.max_errors = r->diag.n_errors + 50;
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) n--;
    if (p->len == 0) {
        if (is_blank(line, n)) return;
        size_t k = 0;
        while (k < n && (line[k] == ' ' || line[k] == '\t')) k++;
        if (line[k] == ':') {
            if (r->echo) fprintf(r->out, PROMPT "%.*s\n", (int)n, line);
            char *cmd = strndup(line, n);
            if (!cmd) return;
            char name[48];
            input_name(r, r->line_no, name, sizeof name);
            double t0 = now_seconds();
            fflush(r->out);
            repl_command(r, name, cmd);
            free(cmd);
            finish_input(r, t0);
            return;
        }
        p->first_line = r->line_no;
    }
    if (r->echo) fprintf(r->out, "%s%.*s\n", p->len ? PROMPT_MORE : PROMPT, (int)n, line);
    if (p->len > 0 && is_blank(line, n)) {
        /* A blank line gives up on an `if` still waiting for its else (the
         * error then says so); open brackets keep waiting. */
        if (!syn_incomplete(p->text, p->len)) submit(r, p);
        return;
    }
    pending_add(p, line, n);
    if (syn_incomplete(p->text, p->len) || repl_unfinished_if(p->text, p->len)) return;
    submit(r, p);
}

static void loop_stdin(Repl *r) {
    Pending p = { 0 };
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while (!r->quit && (n = getline(&line, &cap, stdin)) >= 0) {
        r->line_no++;
        feed_line(r, &p, line, (size_t)n);
    }
    if (!r->quit && p.len > 0) submit(r, &p);
    free(line);
    free(p.text);
}

/* ---- the terminal: libedit ----------------------------------------------------- */

typedef struct Editor {
    Repl *repl;
    Pending *pending;
    bool cancelled;            /* Ctrl-C dropped the line being typed */
} Editor;

static Editor *editor_of(EditLine *el) {
    void *p = NULL;
    el_get(el, EL_CLIENTDATA, &p);
    return p;
}

static char *prompt_fn(EditLine *el) {
    Editor *ed = editor_of(el);
    return ed && ed->pending->len ? PROMPT_MORE : PROMPT;
}

/* Waits until stdin has input, or a signal came: SIGINT and SIGWINCH are
 * let through only inside ppoll, so a Ctrl-C that arrives while the REPL
 * is busy is seen here rather than lost before the next read. Returns
 * false on Ctrl-C. */
static bool wait_input(EditLine *el) {
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGWINCH);
    sigprocmask(SIG_BLOCK, &block, &old);
    bool ok = true;
    for (;;) {
        if (repl_interrupted) {
            repl_interrupted = 0;
            ok = false;
            break;
        }
        if (window_changed) {
            window_changed = 0;
            el_resize(el);
        }
        struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
        int rc = ppoll(&p, 1, NULL, &old);
        if (rc > 0 || (rc < 0 && errno != EINTR)) break;
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    return ok;
}

/* Reads one character. Replaces libedit's reader, which retries a read
 * interrupted by a signal, so that Ctrl-C at the prompt acts at once: it
 * becomes a ^C, bound to cancel_fn. */
static int getc_fn(EditLine *el, wchar_t *wc) {
    char buf[MB_LEN_MAX];
    size_t n = 0;
    for (;;) {
        if (!wait_input(el)) {
            *wc = 3;
            return 1;
        }
        unsigned char c;
        ssize_t k = read(STDIN_FILENO, &c, 1);
        if (k < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            return -1;
        }
        if (k == 0) return 0;
        buf[n++] = (char)c;
        mbstate_t st;
        memset(&st, 0, sizeof st);
        wchar_t w;
        size_t rc = mbrtowc(&w, buf, n, &st);
        if (rc == (size_t)-2 && n < sizeof buf) continue;
        if (rc == (size_t)-1 || rc == (size_t)-2) {
            *wc = (unsigned char)buf[0];
            return 1;
        }
        *wc = rc == 0 ? L'\0' : w;
        return 1;
    }
}

static unsigned char cancel_fn(EditLine *el, int ch) {
    (void)ch;
    Editor *ed = editor_of(el);
    const LineInfo *li = el_line(el);
    el_cursor(el, (int)(li->lastchar - li->cursor));
    el_insertstr(el, "^C");
    /* The newline goes through libedit's own Enter, which ends the line on
     * screen properly; the line is then dropped. */
    el_push(el, "\n");
    if (ed) ed->cancelled = true;
    return CC_REFRESH;
}

static void list_matches(const ReplMatches *m) {
    size_t width = 0;
    for (size_t i = 0; i < m->n; i++)
        if (strlen(m->items[i]) > width) width = strlen(m->items[i]);
    width += 2;
    size_t cols = width < 80 ? 80 / width : 1;
    fputs("\r\n", stdout);
    if (m->n > 300) {
        printf("(%zu possibilities)\r\n", m->n);
        return;
    }
    for (size_t i = 0; i < m->n; i++) {
        bool last = (i + 1) % cols == 0 || i + 1 == m->n;
        if (last) printf("%s\r\n", m->items[i]);
        else printf("%-*s", (int)width, m->items[i]);
    }
    fflush(stdout);
}

static unsigned char complete_fn(EditLine *el, int ch) {
    (void)ch;
    Editor *ed = editor_of(el);
    if (!ed) return CC_ERROR;
    const LineInfo *li = el_line(el);
    size_t before = (size_t)(li->cursor - li->buffer);
    size_t plen = ed->pending->len;
    char *text = malloc(plen + before + 1);
    if (!text) return CC_ERROR;
    if (plen) memcpy(text, ed->pending->text, plen);
    memcpy(text + plen, li->buffer, before);
    text[plen + before] = '\0';
    ReplMatches m;
    repl_complete(ed->repl, text, plen + before, &m);
    free(text);
    unsigned char rc = CC_REFRESH;
    if (m.n == 0 || m.word_start < plen) {
        rc = CC_ERROR;
    } else {
        size_t typed = plen + before - m.word_start;
        size_t common = repl_matches_prefix(&m);
        if (common > typed) {
            char *ins = strndup(m.items[0] + typed, common - typed);
            if (ins) el_insertstr(el, ins);
            free(ins);
        }
        if (m.n == 1) {
            if (m.append && li->cursor == li->lastchar) el_insertstr(el, m.append);
        } else if (common <= typed) {
            list_matches(&m);
            rc = CC_REDISPLAY;
        }
    }
    repl_matches_free(&m);
    return rc;
}

static char *history_path(void) {
    const char *p = getenv("MERGELANG_HISTORY");
    if (p) return *p ? strdup(p) : NULL;
    const char *home = getenv("HOME");
    if (!home || !*home) return NULL;
    size_t n = strlen(home) + sizeof "/.mergelang_history";
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s/.mergelang_history", home);
    return s;
}

static void loop_terminal(Repl *r, const char *argv0) {
    setlocale(LC_CTYPE, "");
    Pending p = { 0 };
    Editor ed = { .repl = r, .pending = &p };
    HistEvent ev;
    History *hist = history_init();
    char *hpath = history_path();
    EditLine *el = el_init(argv0, stdin, stdout, stderr);
    if (!hist || !el) {
        if (el) el_end(el);
        if (hist) history_end(hist);
        free(hpath);
        loop_stdin(r);
        return;
    }
    history(hist, &ev, H_SETSIZE, HISTORY_SIZE);
    history(hist, &ev, H_SETUNIQUE, 1);
    if (hpath) history(hist, &ev, H_LOAD, hpath);
    el_set(el, EL_EDITOR, "emacs");
    el_set(el, EL_CLIENTDATA, &ed);
    el_set(el, EL_PROMPT, prompt_fn);
    el_set(el, EL_HIST, history, hist);
    el_set(el, EL_GETCFN, getc_fn);
    /* The wide form keeps our static strings; the narrow one copies them
     * and never frees the copies. */
    el_wset(el, EL_ADDFN, L"ml-complete", L"complete a name, :command or tensor name", complete_fn);
    el_wset(el, EL_ADDFN, L"ml-cancel", L"drop the line being typed", cancel_fn);
    el_set(el, EL_BIND, "^I", "ml-complete", NULL);
    el_set(el, EL_BIND, "^C", "ml-cancel", NULL);
    el_source(el, NULL);

    printf("mergelang repl: type :help for commands, Ctrl-D to quit\n");
    fflush(stdout);
    while (!r->quit) {
        int count = 0;
        const char *line = el_gets(el, &count);
        if (ed.cancelled) {
            ed.cancelled = false;
            p.len = 0;
            repl_interrupted = 0;
            continue;
        }
        if (!line || count <= 0) {
            /* End of input (Ctrl-D): signals never end el_gets, getc_fn
             * deals with them. */
            fputc('\n', stdout);
            break;
        }
        r->line_no++;
        size_t n = strlen(line);
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) n--;
        if (!is_blank(line, n)) {
            char *entry = strndup(line, n);
            if (entry) {
                history(hist, &ev, H_ENTER, entry);
                if (hpath) history(hist, &ev, H_SAVE, hpath);
            }
            free(entry);
        }
        feed_line(r, &p, line, n);
    }
    el_end(el);
    history_end(hist);
    free(hpath);
    free(p.text);
}

/* ---- entry point --------------------------------------------------------------- */

static void usage(FILE *out) {
    fputs("usage: mergelang repl [options] [RECIPE...]\n"
          "  RECIPE         a .merge file whose definitions are loaded first (as :load)\n"
          "  --echo         print each input after a prompt, as a transcript (scripts, docs)\n"
          "  --force        let save() and :save replace existing output folders\n"
          "  -j N           tensors computed at once by a save (default: the number of cores)\n"
          "\n"
          "Reads statements and :commands (:help lists them). On a terminal: line editing,\n"
          "history in $MERGELANG_HISTORY or ~/.mergelang_history, tab completion. Otherwise\n"
          "reads stdin without prompts; the exit status is 1 if any input failed.\n",
          out);
}

int repl_main(int argc, char **argv) {
    Repl r;
    memset(&r, 0, sizeof r);
    r.out = stdout;
    r.interactive = isatty(STDIN_FILENO);
    long jobs = sysconf(_SC_NPROCESSORS_ONLN);
    r.threads = jobs < 1 ? 1 : jobs > 1024 ? 1024 : (int)jobs;
    const char **files = calloc((size_t)argc + 1, sizeof *files);
    size_t n_files = 0;
    bool force = false;
    if (!files) return 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--echo") == 0) r.echo = true;
        else if (strcmp(a, "--force") == 0) force = true;
        else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            free(files);
            return 0;
        } else if (strncmp(a, "-j", 2) == 0) {
            const char *v = a[2] ? a + 2 : (i + 1 < argc ? argv[++i] : NULL);
            char *end = NULL;
            long j = v ? strtol(v, &end, 10) : 0;
            if (!v || *end || j < 1 || j > 1024) {
                fprintf(stderr, "mergelang: -j expects a number of threads from 1 to 1024\n");
                free(files);
                return 2;
            }
            r.threads = (int)j;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "mergelang: unknown option '%s'\n", a);
            usage(stderr);
            free(files);
            return 2;
        } else {
            files[n_files++] = a;
        }
    }
    /* Results and messages interleave in the order they happen. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    diag_init(&r.diag, stderr);
    arena_init(&r.ast);
    plan_init(&r.plan, &r.diag, &builtin_table);
    r.plan.allow_rebind = true;
    r.plan.overwrite = force;

    struct sigaction sa, old_int, old_winch;
    bool handlers = r.interactive;
    if (handlers) {
        memset(&sa, 0, sizeof sa);
        sigemptyset(&sa.sa_mask);
        sa.sa_handler = on_sigint;  /* no SA_RESTART: a blocked read must return */
        sigaction(SIGINT, &sa, &old_int);
        sa.sa_handler = on_sigwinch;
        sigaction(SIGWINCH, &sa, &old_winch);
    }
    for (size_t i = 0; i < n_files && !r.quit; i++) repl_load(&r, files[i]);
    if (!r.quit) {
        if (r.interactive) loop_terminal(&r, argv[0]);
        else loop_stdin(&r);
    }
    if (handlers) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGWINCH, &old_winch, NULL);
    }
    fflush(stdout);
    plan_free(&r.plan);
    arena_free(&r.ast);
    for (size_t i = 0; i < r.n_srcs; i++) src_free(r.srcs[i]);
    free(r.srcs);
    free(files);
    if (r.quit && r.quit_status >= 0) return r.quit_status;
    return !r.interactive && r.failed ? 1 : 0;
}
