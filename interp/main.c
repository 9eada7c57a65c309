/* main.c - the mergelang command line: the table of subcommands, which
 * both the dispatcher and the usage text read. Each command lives in
 * interp/cmd (or repl/, mergekit/) and returns its exit status. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "interp/cmd/cmd_help.h"
#include "interp/cmd/commands.h"
#include "interp/mergekit/mergekit_import.h"
#include "interp/repl/repl.h"

#ifndef MERGELANG_VERSION
#define MERGELANG_VERSION "0.1.0"
#endif

static int help_main(int argc, char **argv);

typedef struct Command {
    const char *name;
    const char *args;          /* shown after the name in the usage text */
    int (*main)(int argc, char **argv);   /* argv[0] is the command's name */
    const char *summary;       /* lines of the usage text, '\n' between them */
} Command;

static const Command commands[] = {
    { "run", "RECIPE", cmd_run_main, "run a .merge recipe and write the models it saves" },
    { "check", "RECIPE", cmd_check_main,
      "parse and check a recipe, open model headers, verify every\n"
      "output tensor's inputs exist with compatible shapes;\n"
      "reads no tensor data and writes nothing" },
    { "plan", "RECIPE", cmd_plan_main,
      "each output tensor with the operation that makes it, its\n"
      "inputs, dtype and bytes, and a peak-memory estimate;\n"
      "reads no tensor data" },
    { "repl", "", repl_main, "an interactive session (also: no command, on a terminal)" },
    { "import-mergekit", "CONFIG.yml [-o RECIPE]", mkimport_main,
      "translate a mergekit YAML configuration into a recipe" },
    { "inspect", "PATH", cmd_inspect_main, "tensors, shapes, dtypes, parameters, layers of a checkpoint" },
    { "diff", "A B", cmd_diff_main, "per-tensor cosine similarity and relative difference" },
    { "fmt", "FILE", cmd_fmt_main, "format a recipe canonically (--check: only report)" },
    { "verify", "DIR", cmd_verify_main,
      "check a merged folder's shards against its index and the\n"
      "hashes in its provenance.json" },
    { "help", "NAME", help_main,
      "a command's options (also: mergelang COMMAND --help), or a\n"
      "built-in's signature, doc and paper; help methods, help builtins" },
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

/* The summaries start in this column; a longer synopsis gets a line of
 * its own. */
#define SUMMARY_COLUMN 17

static void usage(FILE *out) {
    fputs("usage: mergelang <command> [options]\n"
          "\n"
          "commands:\n",
          out);
    for (size_t i = 0; i < N_COMMANDS; i++) {
        char synopsis[64];
        int len = snprintf(synopsis, sizeof synopsis, "%s%s%s", commands[i].name, commands[i].args[0] ? " " : "",
                           commands[i].args);
        if (len + 2 < SUMMARY_COLUMN) fprintf(out, "  %-*s", SUMMARY_COLUMN - 2, synopsis);
        else fprintf(out, "  %s\n%*s", synopsis, SUMMARY_COLUMN, "");
        for (const char *s = commands[i].summary; *s; s++) {
            fputc(*s, out);
            if (*s == '\n') fprintf(out, "%*s", SUMMARY_COLUMN, "");
        }
        fputc('\n', out);
    }
    fputs("\n"
          "options:\n"
          "  -D NAME=VALUE  override `param NAME = ...` (number, true/false/none, or string)\n"
          "  -j N, --jobs N compute N tensors at once (default: the number of cores);\n"
          "                 the output is byte-identical for any N\n"
          "  --mem SIZE     limit the memory of the work in flight, e.g. 4GB (default:\n"
          "                 a quarter of physical memory); bigger tensors wait their turn\n"
          "  --force        replace output folders that already exist\n"
          "  -q, --quiet    print nothing but errors (no progress line on a terminal)\n"
          "  --json         print JSON on stdout: run's summary (outputs, tensors, bytes,\n"
          "                 seconds, peak memory), check's verdict, plan's report\n"
          "  -h, --help     show this help\n"
          "  --version      show the version\n"
          "\n"
          "exit status: 0 success, 1 error in the recipe or its inputs (nothing written),\n"
          "2 bad command line, 3 failure while merging or writing (no output left behind),\n"
          "130 interrupted by SIGINT or SIGTERM (temporary files removed, nothing written)\n",
          out);
}

/* `mergelang help CMD` is `mergelang CMD --help`; `mergelang help` alone
 * is the usage text. */
static int help_main(int argc, char **argv) {
    if (argc >= 2) return cmd_help_main(argv[1]);
    usage(stdout);
    return CMD_EXIT_OK;
}

int main(int argc, char **argv) {
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return CMD_EXIT_OK;
    }
    if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
        printf("mergelang %s\n", MERGELANG_VERSION);
        return CMD_EXIT_OK;
    }
    if (argc < 2) {
        if (isatty(STDIN_FILENO)) return repl_main(argc, argv);
        usage(stderr);
        return CMD_EXIT_USAGE;
    }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].main(argc - 1, argv + 1);
    fprintf(stderr, "mergelang: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return CMD_EXIT_USAGE;
}
