/* cmd_plan.c - `mergelang plan RECIPE`: what the recipe would write, tensor
 * by tensor, with a peak-memory estimate (interp/output/plan_print.c
 * describes it). Reads model headers only; writes to stdout. */
#include <stdio.h>

#include "interp/cmd/cmd_recipe.h"
#include "interp/cmd/commands.h"
#include "interp/output/plan_print.h"

static int describe_plan(Plan *plan, const CmdRecipeArgs *a, void *ctx) {
    return plan_print(plan, stdout, (int)a->jobs) != 0 ? CMD_EXIT_MERGE : CMD_EXIT_OK;
}

int cmd_plan_main(int argc, char **argv) {
    CmdRecipeArgs a;
    int status = cmd_recipe_args(argc, argv, &a);
    if (status >= 0) return status;
    status = cmd_recipe_pipeline(&a, describe_plan, NULL, NULL);
    cmd_recipe_args_free(&a);
    return status;
}
