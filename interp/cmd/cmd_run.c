/* cmd_run.c - `mergelang run RECIPE`: plans and checks a recipe, then
 * writes the models it saves (output_run). Owns the process's SIGINT and
 * SIGTERM handling during a run; writes output folders through the output
 * stage only. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "interp/cmd/cmd_recipe.h"
#include "interp/cmd/commands.h"
#include "interp/output/output.h"

/* Set by SIGINT/SIGTERM; the writers check it between tensors and abandon
 * their temporary folders, so an interrupted run leaves nothing behind. The
 * one piece of global state: a signal handler has nowhere else to write. */
static volatile sig_atomic_t interrupted;

static void on_signal(int sig) {
    (void)sig;
    interrupted = 1;
}

static int write_outputs(Plan *plan, const CmdRecipeArgs *a, void *ctx) {
    if (plan->n_saves == 0 && !a->quiet)
        fprintf(stderr, "mergelang: %s saves nothing (call save(model, \"folder\"))\n", a->recipe);
    OutputOptions opt = { .quiet = a->quiet, .threads = (int)a->jobs, .cancel = &interrupted,
                          .progress = !a->quiet && isatty(STDERR_FILENO), .json = a->json ? stdout : NULL,
                          .mem_bytes = a->mem_bytes };
    return output_run(plan, &opt) != 0 ? CMD_EXIT_MERGE : CMD_EXIT_OK;
}

int cmd_run_main(int argc, char **argv) {
    CmdRecipeArgs a;
    int status = cmd_recipe_args(argc, argv, &a);
    if (status >= 0) return status;
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
    status = cmd_recipe_pipeline(&a, write_outputs, NULL, NULL);
    cmd_recipe_args_free(&a);
    return interrupted ? CMD_EXIT_INTERRUPTED : status;
}
