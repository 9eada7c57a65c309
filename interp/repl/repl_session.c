/* repl_session.c - the REPL session's state, shared by the loop (repl.c)
 * and the :commands (repl_cmds.c): the kept source texts, the snapshot
 * that undoes a failed input, the saves an input asked for, and parsing
 * one expression out of a command line. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "interp/output/output.h"
#include "interp/repl/repl_int.h"
#include "interp/syntax/syntax.h"

volatile sig_atomic_t repl_interrupted;

/* ---- session state -------------------------------------------------------- */

SrcFile *repl_keep_src(Repl *r, SrcFile *f) {
    if (!f) return NULL;
    if (r->n_srcs == r->cap_srcs) {
        size_t cap = r->cap_srcs ? r->cap_srcs * 2 : 32;
        SrcFile **s = realloc(r->srcs, cap * sizeof *s);
        if (!s) {
            fprintf(stderr, "mergelang: out of memory\n");
            exit(4);
        }
        r->srcs = s;
        r->cap_srcs = cap;
    }
    r->srcs[r->n_srcs++] = f;
    return f;
}

void repl_snap_take(Repl *r, ReplSnapshot *s) {
    const Env *g = &r->plan.globals;
    s->n_globals = g->n;
    s->globals = malloc((g->n ? g->n : 1) * sizeof *s->globals);
    if (!s->globals) {
        fprintf(stderr, "mergelang: out of memory\n");
        exit(4);
    }
    if (g->n) memcpy(s->globals, g->items, g->n * sizeof *s->globals);
    s->n_saves = r->plan.n_saves;
    s->n_modules = r->plan.n_modules;
}

/* Puts the bindings back. Bindings are changed in place or appended, so
 * the copy restores both. Modules first imported by the failed input are
 * forgotten (a fixed file can then be imported again); their text stays
 * alive because checkpoint nodes may point into it. */
void repl_snap_restore(Repl *r, const ReplSnapshot *s) {
    Env *g = &r->plan.globals;
    if (s->n_globals) memcpy(g->items, s->globals, s->n_globals * sizeof *s->globals);
    g->n = s->n_globals;
    r->plan.n_saves = s->n_saves;
    for (size_t i = s->n_modules; i < r->plan.n_modules; i++) {
        repl_keep_src(r, r->plan.modules[i].src);
        r->plan.modules[i].src = NULL;
    }
    r->plan.n_modules = s->n_modules;
}

void repl_snap_free(ReplSnapshot *s) {
    free(s->globals);
    s->globals = NULL;
}

/* Writes the models that save(...) calls asked for, then forgets them. */
void repl_run_saves(Repl *r) {
    if (r->plan.n_saves == 0) return;
    /* Ctrl-C stops a save between two tensors; nothing of it is left
     * behind (output_run removes its temporary folders). */
    OutputOptions opt = { .quiet = false, .threads = r->threads, .cancel = &repl_interrupted,
                          .progress = r->interactive && isatty(STDERR_FILENO) };
    fflush(r->out);
    int rc = output_run(&r->plan, &opt);
    repl_interrupted = 0;
    r->plan.n_saves = 0;
    if (rc != 0) r->failed = true;
}

/* ---- parsing slices of a line ------------------------------------------------ */

const Ast *repl_parse_expr(Repl *r, const char *name, const char *line, size_t start, size_t end) {
    size_t len = strlen(line);
    if (end > len) end = len;
    /* Parse the slice alone, at its own columns: everything else becomes
     * spaces. Then show the whole line in messages: the tree keeps copies
     * of names and strings, so the text may be swapped afterwards. */
    char *masked = malloc(len + 1);
    if (!masked) return NULL;
    for (size_t i = 0; i < len; i++) masked[i] = i >= start && i < end ? line[i] : ' ';
    masked[len] = '\0';
    SrcFile *src = repl_keep_src(r, src_from_string(name, masked, len));
    free(masked);
    if (!src) return NULL;
    Ast *prog = syn_parse(src, &r->ast, &r->diag);
    memcpy(src->text, line, len);
    if (!prog) return NULL;
    if (prog->u.list.n != 1 || prog->u.list.items[0]->kind != AST_EXPR_STMT) {
        SrcSpan at = { src, (uint32_t)start, (uint32_t)end };
        if (prog->u.list.n > 0) at = prog->u.list.items[prog->u.list.n > 1 ? 1 : 0]->span;
        diag_error(&r->diag, at, "expected one expression here");
        return NULL;
    }
    return prog->u.list.items[0]->u.op.a;
}

bool repl_eval_slice(Repl *r, const char *name, const char *line, size_t start, size_t end, Value *out) {
    int before = r->diag.n_errors;
    const Ast *e = repl_parse_expr(r, name, line, start, end);
    if (!e) return false;
    r->plan.depth_reported = false;
    *out = plan_eval(&r->plan, e);
    return r->diag.n_errors == before && out->kind != V_ERROR;
}
