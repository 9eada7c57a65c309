/* repl_int.h - what the REPL's files share: the session state, parsing of
 * command arguments, computing single tensors, and printing values.
 *
 *   repl.c          the loop: reading input (libedit or plain stdin),
 *                   multi-line input, running statements, Ctrl-C
 *   repl_session.c  the session state: kept sources, the snapshot that
 *                   undoes a failed input, saves, parsing an expression
 *   repl_show.c     how values look: model summaries, one tensor's
 *                   statistics, functions; number and size formatting
 *   repl_cmds.c     the :commands
 *   repl_complete.c tab completion (pure: text in, candidates out)
 *
 * One rule holds everywhere: an input that fails leaves the session as it
 * was, so a typo never costs the user a binding. */
#ifndef MERGELANG_REPL_INT_H
#define MERGELANG_REPL_INT_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "runtime/core/units.h"
#include "interp/plan/plan.h"
#include "interp/exec/exec.h"

typedef struct Repl {
    Plan plan;
    Diag diag;                 /* to stderr */
    Arena ast;                 /* syntax trees of every input: closures keep pointing into them */
    SrcFile **srcs;            /* every input's text, kept because spans point into it */
    size_t n_srcs, cap_srcs;
    FILE *out;                 /* results */
    bool interactive;          /* stdin is a terminal: prompts, editing, history */
    bool echo;                 /* --echo: print each input after a prompt, as a transcript */
    bool timing;               /* :time */
    bool failed;               /* some input failed: the exit status of a script */
    bool quit;
    int quit_status;           /* -1: the usual status */
    int threads;               /* for save */
    unsigned long line_no;     /* lines read so far */
} Repl;

/* Set by the SIGINT handler; long commands and saves check it between
 * tensors. */
extern volatile sig_atomic_t repl_interrupted;

/* Takes ownership of f for the rest of the session; NULL stays NULL. */
SrcFile *repl_keep_src(Repl *r, SrcFile *f);
/* Writes what save(...) calls asked for (output_run), then forgets them. */
void repl_run_saves(Repl *r);

/* What an input may change, copied before it runs and put back if it
 * fails. */
typedef struct ReplSnapshot {
    Binding *globals;
    size_t n_globals, n_saves, n_modules;
} ReplSnapshot;
void repl_snap_take(Repl *r, ReplSnapshot *s);
void repl_snap_restore(Repl *r, const ReplSnapshot *s);
void repl_snap_free(ReplSnapshot *s);

/* Parses line[start, end) as one expression. The source shown in messages
 * is the whole line, so a caret points into what was typed. Returns NULL
 * after reporting an error. */
const Ast *repl_parse_expr(Repl *r, const char *name, const char *line, size_t start, size_t end);
/* Parses and plans line[start, end); false after reporting an error. */
bool repl_eval_slice(Repl *r, const char *name, const char *line, size_t start, size_t end, Value *out);

/* The tensor set whose depths a model value is computed with: that of the
 * model it was cut from when it is an indexing or select/drop of one, so
 * out["model.layers.0.x"] shows what save(out) would write. */
const TensorSet *repl_depth_set(Value m);
/* Computes tensor `info` of the model (or per-tensor value) v in arena a.
 * Reports a failure (located where it happened) and returns an error
 * value. */
Value repl_force(Repl *r, Arena *a, Value v, const TensorInfo *info, const TensorSet *set);
/* The first model reachable from v's graph (the tensors a per-tensor value
 * is computed over), or a value of kind V_NONE. */
Value repl_context_model(Repl *r, Value v);
/* The global name bound to exactly this lazy value, or NULL. */
const char *repl_name_of(Repl *r, Value v);
/* Calls visit on every node reachable from v, each once, parents first;
 * stops when visit returns true. */
void repl_walk(Repl *r, Value v, bool (*visit)(const Node *n, void *ctx), void *ctx);

/* ---- printing (repl_show.c) ------------------------------------------ */

void repl_show_value(Repl *r, Value v);
/* "shape dtype" and the statistics of one computed tensor, indented. */
void repl_show_tensor(Repl *r, const char *name, const Tensor *t);
/* One line: tensors, parameters, dtypes, bytes, layers, architecture. */
void repl_model_summary(Repl *r, Value m, FILE *out);
/* The :info table. */
void repl_model_info(Repl *r, Value m);
/* Tensor statistics in float64. */
typedef struct TStats {
    double sum, sumsq, min, max;
    int64_t n;
} TStats;
void repl_tstats(const float *f, int64_t n, TStats *s);

/* ---- commands (repl_cmds.c) ------------------------------------------- */

/* Runs a line that starts with ':'. */
void repl_command(Repl *r, const char *name, const char *line);
/* Runs a .merge file's statements into the session (all or nothing). */
void repl_load(Repl *r, const char *path);
/* The commands' names (":load", ...), from the table :help and the
 * dispatcher read, for completion: i from 0 to repl_command_count() - 1. */
size_t repl_command_count(void);
const char *repl_command_name(size_t i);

/* ---- completion (repl_complete.c) ------------------------------------- */

typedef struct ReplMatches {
    char **items;              /* candidates, sorted, unique; malloc'd */
    size_t n;
    size_t word_start;         /* where the completed word starts in the text */
    const char *append;        /* added after a unique candidate ("(", "\"]", ...) */
} ReplMatches;

/* Completes the word that ends text[len] (the text before the cursor, with
 * the earlier lines of a multi-line input in front). */
void repl_complete(Repl *r, const char *text, size_t len, ReplMatches *m);
void repl_matches_free(ReplMatches *m);
/* Longest common prefix length of the candidates. */
size_t repl_matches_prefix(const ReplMatches *m);

/* True when an `if` still lacks its `else` (outside strings and comments):
 * the input goes on, although it may look finished. */
bool repl_unfinished_if(const char *text, size_t len);

#endif
