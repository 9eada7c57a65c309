/* cmd_check.c - `mergelang check RECIPE`: every check that needs no tensor
 * data (cmd_recipe.c's pipeline), then a verdict. Reads model headers
 * only; writes nothing. */
#include <stdio.h>

#include "interp/cmd/cmd_recipe.h"
#include "interp/cmd/commands.h"

static int report_fine(Plan *plan, const CmdRecipeArgs *a, void *ctx) {
    if (!a->quiet)
        fprintf(stderr, "mergelang: %s is fine (%zu output%s)\n", a->recipe, plan->n_saves,
                plan->n_saves == 1 ? "" : "s");
    return CMD_EXIT_OK;
}

int cmd_check_main(int argc, char **argv) {
    CmdRecipeArgs a;
    int status = cmd_recipe_args(argc, argv, &a);
    if (status >= 0) return status;
    status = cmd_recipe_pipeline(&a, report_fine, NULL, NULL);
    cmd_recipe_args_free(&a);
    return status;
}
