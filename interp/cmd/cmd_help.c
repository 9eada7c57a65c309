/* cmd_help.c - the per-command help texts of the commands main.c parses
 * itself, and `mergelang help TOPIC`; see cmd_help.h. The texts live here,
 * not in main.c, so that each command's options are described in one place
 * beside the overview that main.c's usage() gives. The help of built-ins
 * (`mergelang help ties`, `help methods`, `help builtins`) is rendered from
 * the built-in registry, so it cannot drift from what the interpreter
 * accepts. */
#include "interp/cmd/cmd_help.h"

#include <string.h>

#include "interp/builtins/builtins.h"
#include "interp/cmd/commands.h"
#include "interp/mergekit/mergekit_import.h"
#include "interp/repl/repl.h"
#include "interp/syntax/suggest.h"

static const char run_help[] =
    "usage: mergelang run RECIPE [-D NAME=VALUE]... [-j N] [--mem SIZE] [--force]\n"
    "                     [-q] [--json]\n"
    "\n"
    "Runs a recipe: plans it (every check that needs no tensor data happens\n"
    "first), then computes each model it saves, tensor by tensor, and writes it\n"
    "to a temporary folder renamed into place when complete.\n"
    "\n"
    "  -D NAME=VALUE   override `param NAME = ...` (number, true/false/none, or\n"
    "                  string); repeatable\n"
    "  -j N, --jobs N  compute N tensors at once (default: the number of cores);\n"
    "                  the output is byte-identical for any N\n"
    "  --mem SIZE      limit the memory of the work in flight, e.g. 4GB, 500MB or\n"
    "                  2GiB (default: a quarter of physical memory); bigger\n"
    "                  tensors wait their turn\n"
    "  --force         replace output folders that already exist\n"
    "  -q, --quiet     print nothing but errors (no progress line on a terminal)\n"
    "  --json          print a JSON summary on stdout: outputs, tensors, bytes,\n"
    "                  seconds, peak memory\n"
    "  -h, --help      show this help\n"
    "\n"
    "exit status: 0 success, 1 error in the recipe or its inputs (nothing written),\n"
    "2 bad command line, 3 failure while merging or writing (no output left behind),\n"
    "130 interrupted by SIGINT or SIGTERM (temporary files removed, nothing written)\n";

static const char check_help[] =
    "usage: mergelang check RECIPE [-D NAME=VALUE]... [-q] [--json]\n"
    "\n"
    "Parses and checks a recipe without reading tensor data or writing anything:\n"
    "names, argument types, model headers, that every output tensor's inputs\n"
    "exist with compatible shapes, and that the output folders can be written.\n"
    "\n"
    "  -D NAME=VALUE   override `param NAME = ...`; repeatable\n"
    "  -q, --quiet     print nothing but errors\n"
    "  --json          print on stdout a JSON object: the recipe, ok, the number\n"
    "                  of errors and each output's path, tensors and bytes\n"
    "                  (errors still go to stderr)\n"
    "  -h, --help      show this help\n"
    "\n"
    "exit status: 0 the recipe is fine, 1 it has errors (all of them are listed),\n"
    "2 bad command line\n";

static const char plan_help[] =
    "usage: mergelang plan RECIPE [-D NAME=VALUE]... [-j N] [--json]\n"
    "\n"
    "Shows what a recipe would write, without reading tensor data: each output\n"
    "tensor with the operation that makes it (per-tensor values such as a\n"
    "gradient's t resolved), its inputs, dtype and bytes, and a peak-memory\n"
    "estimate for N threads.\n"
    "\n"
    "  -D NAME=VALUE   override `param NAME = ...`; repeatable\n"
    "  -j N, --jobs N  threads the memory estimate is for (default: the number\n"
    "                  of cores)\n"
    "  --json          the same as a JSON object on stdout: per output, per\n"
    "                  tensor the operation, inputs, dtype, bytes and how `run`\n"
    "                  computes it; and the peak-memory estimate\n"
    "  -h, --help      show this help\n"
    "\n"
    "exit status: 0 success, 1 error in the recipe or its inputs, 2 bad command line\n";

static const char verify_help[] =
    "usage: mergelang verify DIR\n"
    "\n"
    "Checks a folder written by mergelang against the provenance.json inside\n"
    "it: every shard's size and content hash, that the shards on disk are the\n"
    "ones listed, and that the folder opens as a checkpoint (headers, index,\n"
    "weight_map). Prints one line per check.\n"
    "\n"
    "  -h, --help      show this help\n"
    "\n"
    "exit status: 0 everything holds, 1 something differs or the folder cannot\n"
    "be checked, 2 bad command line\n";

/* The commands `mergelang help CMD` knows, in the order --names lists them. */
static const char *const help_commands[] = { "run", "check", "plan", "repl", "import-mergekit", "inspect",
                                             "diff", "fmt", "verify" };
#define N_HELP_COMMANDS (sizeof help_commands / sizeof help_commands[0])

int cmd_usage(const char *cmd, FILE *out) {
    static const struct { const char *name, *text; } helps[] = {
        { "run", run_help }, { "check", check_help }, { "plan", plan_help }, { "verify", verify_help },
    };
    for (size_t i = 0; i < sizeof helps / sizeof helps[0]; i++)
        if (strcmp(cmd, helps[i].name) == 0) {
            fputs(helps[i].text, out);
            return 0;
        }
    return -1;
}

/* ---- built-ins ------------------------------------------------------------------ */

#define HELP_WIDTH 80

/* Writes text's words from column col on, breaking lines before HELP_WIDTH
 * and indenting continuation lines by indent; ends the line. */
static void put_wrapped(FILE *out, const char *text, int col, int indent) {
    bool first = true;
    for (const char *w = text; *w;) {
        while (*w == ' ') w++;
        if (!*w) break;
        int len = (int)strcspn(w, " ");
        if (!first && col + 1 + len > HELP_WIDTH) {
            fprintf(out, "\n%*s", indent, "");
            col = indent;
        } else if (!first) {
            fputc(' ', out);
            col++;
        }
        fwrite(w, 1, (size_t)len, out);
        col += len;
        w += len;
        first = false;
    }
    fputc('\n', out);
}

/* `mergelang help NAME`: the signature (wrapped under its parenthesis), the
 * doc line, and the paper the model card cites. */
static void help_builtin(const Builtin *bi, FILE *out) {
    char sig[BUILTIN_TEXT_MAX];
    put_wrapped(out, builtin_signature(bi, sig, sizeof sig), 0, (int)strlen(bi->name) + 1);
    fputs("    ", out);
    put_wrapped(out, bi->doc, 4, 4);
    if (bi->paper) fprintf(out, "paper: %s\n", bi->paper);
}

/* `mergelang help methods`: every merge method with its doc line. */
static void help_methods(FILE *out) {
    fputs("merge methods; `mergelang help NAME` shows one, docs/methods.md the details:\n\n", out);
    int width = 0;
    for (size_t i = 0; i < builtin_count(); i++) {
        const Builtin *bi = builtin_at(i);
        int len = (int)strlen(bi->name);
        if (bi->kind == BK_METHOD && len > width) width = len;
    }
    for (size_t i = 0; i < builtin_count(); i++) {
        const Builtin *bi = builtin_at(i);
        if (bi->kind != BK_METHOD) continue;
        fprintf(out, "  %-*s  ", width, bi->name);
        put_wrapped(out, bi->doc, width + 4, width + 4);
    }
}

/* `mergelang help builtins`: every built-in's name, grouped by kind. */
static void help_builtins(FILE *out) {
    fputs("built-in functions by kind; `mergelang help NAME` shows one, and\n"
          "`mergelang help methods` what each merge method does:\n",
          out);
    for (int k = 0; k < BK_N_KINDS; k++) {
        char names[2048] = "";
        size_t used = 0;
        for (size_t i = 0; i < builtin_count(); i++) {
            const Builtin *bi = builtin_at(i);
            if ((int)bi->kind != k || used >= sizeof names) continue;
            used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", used ? ", " : "", bi->name);
        }
        if (!used) continue;
        fprintf(out, "\n%s:\n  ", builtin_kind_title((BuiltinKind)k));
        put_wrapped(out, names, 2, 2);
    }
}

/* `mergelang help --names`: every topic `mergelang help` takes, one per
 * line (for completion: completions/mergelang.bash). */
static void help_names(FILE *out) {
    for (size_t i = 0; i < N_HELP_COMMANDS; i++) fprintf(out, "%s\n", help_commands[i]);
    fputs("methods\nbuiltins\n", out);
    for (size_t i = 0; i < builtin_count(); i++) fprintf(out, "%s\n", builtin_at(i)->name);
}

/* An unknown topic: what it might have been. */
static void help_unknown(const char *topic) {
    const char *cands[N_HELP_COMMANDS + 2 + 128];
    size_t n = 0;
    for (size_t i = 0; i < N_HELP_COMMANDS; i++) cands[n++] = help_commands[i];
    cands[n++] = "methods";
    cands[n++] = "builtins";
    for (size_t i = 0; i < builtin_count() && n < sizeof cands / sizeof cands[0]; i++)
        cands[n++] = builtin_at(i)->name;
    fprintf(stderr, "mergelang: help: no command or built-in named '%s'\n", topic);
    const char *near = suggest_closest(topic, cands, n);
    if (near) fprintf(stderr, "  hint: did you mean '%s'?\n", near);
    else fputs("  hint: `mergelang --help` lists the commands, `mergelang help builtins` the built-ins\n", stderr);
}

int cmd_help_main(const char *cmd) {
    if (cmd_usage(cmd, stdout) == 0) return 0;
    const Builtin *bi = builtin_find(cmd);
    if (bi) {
        help_builtin(bi, stdout);
        return 0;
    }
    if (strcmp(cmd, "methods") == 0) {
        help_methods(stdout);
        return 0;
    }
    if (strcmp(cmd, "builtins") == 0) {
        help_builtins(stdout);
        return 0;
    }
    if (strcmp(cmd, "--names") == 0) {
        help_names(stdout);
        return 0;
    }
    /* The others parse their own options: ask them, as the user would. */
    char name[32], opt[] = "--help";
    snprintf(name, sizeof name, "%s", cmd);
    char *argv[] = { name, opt, NULL };
    if (strcmp(cmd, "inspect") == 0) return cmd_inspect_main(2, argv);
    if (strcmp(cmd, "diff") == 0) return cmd_diff_main(2, argv);
    if (strcmp(cmd, "fmt") == 0) return cmd_fmt_main(2, argv);
    if (strcmp(cmd, "repl") == 0) return repl_main(2, argv);
    if (strcmp(cmd, "import-mergekit") == 0) return mkimport_main(2, argv);
    help_unknown(cmd);
    return 2;
}
