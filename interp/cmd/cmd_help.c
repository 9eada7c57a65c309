/* cmd_help.c - the per-command help texts of the commands main.c parses
 * itself, and `mergelang help CMD`; see cmd_help.h. The texts live here,
 * not in main.c, so that each command's options are described in one place
 * beside the overview that main.c's usage() gives. */
#include "interp/cmd/cmd_help.h"

#include <string.h>

#include "interp/cmd/commands.h"
#include "interp/mergekit/mergekit_import.h"
#include "interp/repl/repl.h"

static const char run_help[] =
    "usage: mergelang run RECIPE [-D NAME=VALUE]... [-j N] [--force] [-q] [--json]\n"
    "\n"
    "Runs a recipe: plans it (every check that needs no tensor data happens\n"
    "first), then computes each model it saves, tensor by tensor, and writes it\n"
    "to a temporary folder renamed into place when complete.\n"
    "\n"
    "  -D NAME=VALUE   override `param NAME = ...` (number, true/false/none, or\n"
    "                  string); repeatable\n"
    "  -j N, --jobs N  compute N tensors at once (default: the number of cores);\n"
    "                  the output is byte-identical for any N\n"
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
    "usage: mergelang check RECIPE [-D NAME=VALUE]... [-q]\n"
    "\n"
    "Parses and checks a recipe without reading tensor data or writing anything:\n"
    "names, argument types, model headers, that every output tensor's inputs\n"
    "exist with compatible shapes, and that the output folders can be written.\n"
    "\n"
    "  -D NAME=VALUE   override `param NAME = ...`; repeatable\n"
    "  -q, --quiet     print nothing but errors\n"
    "  -h, --help      show this help\n"
    "\n"
    "exit status: 0 the recipe is fine, 1 it has errors (all of them are listed),\n"
    "2 bad command line\n";

static const char plan_help[] =
    "usage: mergelang plan RECIPE [-D NAME=VALUE]... [-j N]\n"
    "\n"
    "Shows what a recipe would write, without reading tensor data: each output\n"
    "tensor with the operation that makes it (per-tensor values such as a\n"
    "gradient's t resolved), its inputs, dtype and bytes, and a peak-memory\n"
    "estimate for N threads.\n"
    "\n"
    "  -D NAME=VALUE   override `param NAME = ...`; repeatable\n"
    "  -j N, --jobs N  threads the memory estimate is for (default: the number\n"
    "                  of cores)\n"
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

int cmd_help_main(const char *cmd) {
    if (cmd_usage(cmd, stdout) == 0) return 0;
    /* The others parse their own options: ask them, as the user would. */
    char name[32], opt[] = "--help";
    snprintf(name, sizeof name, "%s", cmd);
    char *argv[] = { name, opt, NULL };
    if (strcmp(cmd, "inspect") == 0) return cmd_inspect_main(2, argv);
    if (strcmp(cmd, "diff") == 0) return cmd_diff_main(2, argv);
    if (strcmp(cmd, "fmt") == 0) return cmd_fmt_main(2, argv);
    if (strcmp(cmd, "repl") == 0) return repl_main(2, argv);
    if (strcmp(cmd, "import-mergekit") == 0) return mkimport_main(2, argv);
    fprintf(stderr, "mergelang: help: unknown command '%s'\n", cmd);
    return 2;
}
