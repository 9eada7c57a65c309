/* main.c - the mergelang command line: parses arguments, runs the syntax,
 * plan and output stages, and maps their outcome to the exit codes listed
 * in usage(). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "interp/cmd/cmd_help.h"
#include "interp/cmd/commands.h"
#include "interp/builtins/builtins.h"
#include "interp/plan/plan.h"
#include "runtime/io/provenance.h"
#include "runtime/io/safetensors.h"
#include "interp/mergekit/mergekit_import.h"
#include "interp/output/output.h"
#include "interp/exec/tensor_checks.h"
#include "interp/output/plan_print.h"
#include "interp/repl/repl.h"
#include "interp/syntax/syntax.h"

#ifndef MERGELANG_VERSION
#define MERGELANG_VERSION "0.1.0"
#endif

enum {
    EXIT_OK = 0,
    EXIT_RECIPE = 1,   /* the recipe or its inputs failed a check; nothing written */
    EXIT_USAGE = 2,    /* bad command line */
    EXIT_MERGE = 3     /* failed while computing or writing; no output left behind */
};

/* Set by SIGINT/SIGTERM; the writers check it between tensors and abandon
 * their temporary folders, so an interrupted run leaves nothing behind. The
 * one piece of global state: a signal handler has nowhere else to write. */
static volatile sig_atomic_t interrupted;

static void on_signal(int sig) {
    (void)sig;
    interrupted = 1;
}

static void usage(FILE *out) {
    fputs("usage: mergelang <command> [options]\n"
          "\n"
          "commands:\n"
          "  run RECIPE     run a .merge recipe and write the models it saves\n"
          "  check RECIPE   parse and check a recipe, open model headers, verify every\n"
          "                 output tensor's inputs exist with compatible shapes;\n"
          "                 reads no tensor data and writes nothing\n"
          "  plan RECIPE    each output tensor with the operation that makes it, its\n"
          "                 inputs, dtype and bytes, and a peak-memory estimate;\n"
          "                 reads no tensor data\n"
          "  repl           an interactive session (also: no command, on a terminal)\n"
          "  import-mergekit CONFIG.yml [-o RECIPE]\n"
          "                 translate a mergekit YAML configuration into a recipe\n"
          "  inspect PATH   tensors, shapes, dtypes, parameters, layers of a checkpoint\n"
          "  diff A B       per-tensor cosine similarity and relative difference\n"
          "  fmt FILE       format a recipe canonically (--check: only report)\n"
          "  verify DIR     check a merged folder's shards against its index and the\n"
          "                 hashes in its provenance.json\n"
          "  help COMMAND   the options of one command (also: mergelang COMMAND --help)\n"
          "\n"
          "options:\n"
          "  -D NAME=VALUE  override `param NAME = ...` (number, true/false/none, or string)\n"
          "  -j N, --jobs N compute N tensors at once (default: the number of cores);\n"
          "                 the output is byte-identical for any N\n"
          "  --mem SIZE     limit the memory of the work in flight, e.g. 4GB (default:\n"
          "                 a quarter of physical memory); bigger tensors wait their turn\n"
          "  --force        replace output folders that already exist\n"
          "  -q, --quiet    print nothing but errors (no progress line on a terminal)\n"
          "  --json         print a JSON summary on stdout: outputs, tensors, bytes,\n"
          "                 seconds, peak memory\n"
          "  -h, --help     show this help\n"
          "  --version      show the version\n"
          "\n"
          "exit status: 0 success, 1 error in the recipe or its inputs (nothing written),\n"
          "2 bad command line, 3 failure while merging or writing (no output left behind),\n"
          "130 interrupted by SIGINT or SIGTERM (temporary files removed, nothing written)\n",
          out);
}

int main(int argc, char **argv) {
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
                      strcmp(argv[1], "help") == 0)) {
        /* `mergelang help CMD` is `mergelang CMD --help`. */
        if (argc >= 3 && strcmp(argv[1], "help") == 0) return cmd_help_main(argv[2]);
        usage(stdout);
        return EXIT_OK;
    }
    if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
        printf("mergelang %s\n", MERGELANG_VERSION);
        return EXIT_OK;
    }
    if (argc < 2) {
        if (isatty(STDIN_FILENO)) return repl_main(argc, argv);
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "repl") == 0) return repl_main(argc - 1, argv + 1);
    if (strcmp(cmd, "import-mergekit") == 0) return mkimport_main(argc - 1, argv + 1);
    if (strcmp(cmd, "inspect") == 0) return cmd_inspect_main(argc - 1, argv + 1);
    if (strcmp(cmd, "diff") == 0) return cmd_diff_main(argc - 1, argv + 1);
    if (strcmp(cmd, "fmt") == 0) return cmd_fmt_main(argc - 1, argv + 1);
    if (strcmp(cmd, "verify") == 0) {
        if (argc == 3 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
            cmd_usage(cmd, stdout);
            return EXIT_OK;
        }
        if (argc != 3) {
            fprintf(stderr, "usage: mergelang verify DIR\n");
            return EXIT_USAGE;
        }
        ErrBuf err;
        int v = prov_verify(argv[2], stdout, &err);
        if (v < 0) fprintf(stderr, "mergelang: error: %s\n", err.msg);
        return v == 0 ? EXIT_OK : EXIT_RECIPE;
    }
    bool check_only = false, describe = false;
    if (strcmp(cmd, "run") == 0) check_only = false;
    else if (strcmp(cmd, "check") == 0) check_only = true;
    else if (strcmp(cmd, "plan") == 0) check_only = describe = true;
    else {
        fprintf(stderr, "mergelang: unknown command '%s'\n\n", cmd);
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *recipe = NULL;
    bool force = false, quiet = false, json = false;
    long jobs = sysconf(_SC_NPROCESSORS_ONLN);
    if (jobs < 1) jobs = 1;
    uint64_t mem_bytes = 0;
    Override *ov = calloc((size_t)argc, sizeof *ov);
    size_t n_ov = 0;
    if (!ov) return EXIT_USAGE;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            cmd_usage(cmd, stdout);
            free(ov);
            return EXIT_OK;
        } else if (strcmp(a, "--force") == 0) force = true;
        else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) quiet = true;
        else if (strcmp(a, "--json") == 0) json = quiet = true;
        else if (strcmp(a, "-j") == 0 || strcmp(a, "--jobs") == 0 || strncmp(a, "-j", 2) == 0) {
            const char *v = a[1] == 'j' && a[2] ? a + 2 : (i + 1 < argc ? argv[++i] : NULL);
            char *end = NULL;
            jobs = v ? strtol(v, &end, 10) : 0;
            if (!v || *end || jobs < 1 || jobs > 1024) {
                fprintf(stderr, "mergelang: -j expects a number of threads from 1 to 1024\n");
                free(ov);
                return EXIT_USAGE;
            }
        } else if (strcmp(a, "--mem") == 0) {
            const char *v = i + 1 < argc ? argv[++i] : NULL;
            if (!v || stw_parse_size(v, &mem_bytes) != 0 || mem_bytes == 0) {
                fprintf(stderr, "mergelang: --mem expects a size such as 4GB, 500MB or 2GiB\n");
                free(ov);
                return EXIT_USAGE;
            }
        } else if (strncmp(a, "-D", 2) == 0) {
            const char *def = a[2] ? a + 2 : (i + 1 < argc ? argv[++i] : NULL);
            const char *eq = def ? strchr(def, '=') : NULL;
            if (!eq || eq == def) {
                fprintf(stderr, "mergelang: -D expects NAME=VALUE\n");
                free(ov);
                return EXIT_USAGE;
            }
            ov[n_ov].name = strndup(def, (size_t)(eq - def));
            ov[n_ov].text = eq + 1;
            n_ov++;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "mergelang: unknown option '%s'\n", a);
            free(ov);
            return EXIT_USAGE;
        } else if (!recipe) recipe = a;
        else {
            fprintf(stderr, "mergelang: more than one recipe given ('%s' and '%s')\n", recipe, a);
            free(ov);
            return EXIT_USAGE;
        }
    }
    if (!recipe) {
        fprintf(stderr, "mergelang: %s needs a recipe file\n", cmd);
        free(ov);
        return EXIT_USAGE;
    }

    if (!check_only) {
        /* From the start of a run: an interrupt while planning is handled
         * like one while writing (nothing written, exit 130). */
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sa.sa_flags = SA_RESTART;   /* reads and writes in flight finish; workers then stop */
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        /* A file-size limit (ulimit -f) then shows as a write error (EFBIG)
         * with a message, not as a killed process. */
        signal(SIGXFSZ, SIG_IGN);
    }
    Diag diag;
    diag_init(&diag, stderr);
    int status = EXIT_OK;
    SrcFile *src = src_load(recipe);
    if (!src) {
        diag_plain(&diag, "cannot read '%s': %s", recipe, strerror(errno));
        status = EXIT_RECIPE;
    } else {
        Arena ast_arena;
        arena_init(&ast_arena);
        Ast *program = syn_parse(src, &ast_arena, &diag);
        if (!program) {
            status = EXIT_RECIPE;
        } else {
            Plan plan;
            plan_init(&plan, &diag, &builtin_table);
            plan.overrides = ov;
            plan.n_overrides = n_ov;
            plan.overwrite = force;
            plan.recipe = src;
            if (plan_program(&plan, program) > 0 || tensor_checks_run(&plan) > 0) {
                status = EXIT_RECIPE;
            } else if (describe) {
                if (plan_print(&plan, stdout, (int)jobs) != 0) status = EXIT_MERGE;
            } else if (check_only) {
                if (!quiet)
                    fprintf(stderr, "mergelang: %s is fine (%zu output%s)\n", recipe, plan.n_saves,
                            plan.n_saves == 1 ? "" : "s");
            } else {
                if (plan.n_saves == 0 && !quiet)
                    fprintf(stderr, "mergelang: %s saves nothing (call save(model, \"folder\"))\n", recipe);
                OutputOptions opt = { .quiet = quiet, .threads = (int)jobs, .cancel = &interrupted,
                                      .progress = !quiet && isatty(STDERR_FILENO),
                                      .json = json ? stdout : NULL, .mem_bytes = mem_bytes };
                if (output_run(&plan, &opt) != 0) status = EXIT_MERGE;
            }
            plan.overrides = NULL;
            plan_free(&plan);
        }
        arena_free(&ast_arena);
        src_free(src);
    }
    for (size_t i = 0; i < n_ov; i++) free((void *)ov[i].name);
    free(ov);
    if (diag.n_errors > 0 && status == EXIT_OK) status = EXIT_RECIPE;
    if (interrupted) status = 130;
    return status;
}
