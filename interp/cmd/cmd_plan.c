/* cmd_plan.c - `mergelang plan RECIPE`: what the recipe would write, tensor
 * by tensor, with a peak-memory estimate, as text or (--json) as one JSON
 * object (interp/output/report.c describes it). Reads model headers
 * only; writes to stdout. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

#include "interp/cmd/cmd_recipe.h"
#include "interp/cmd/commands.h"
#include "interp/output/report.h"

static int print_json(Plan *plan, const CmdRecipeArgs *a) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "recipe", a->recipe);
    int rc = root ? report_plan_json(plan, (int)a->jobs, root) : -1;
    char *text = rc == 0 ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!text) return -1;
    puts(text);
    free(text);
    return 0;
}

static int describe_plan(Plan *plan, const CmdRecipeArgs *a, void *ctx) {
    int rc = a->json ? print_json(plan, a) : report_plan(plan, stdout, (int)a->jobs);
    return rc != 0 ? CMD_EXIT_MERGE : CMD_EXIT_OK;
}

int cmd_plan_main(int argc, char **argv) {
    CmdRecipeArgs a;
    int status = cmd_recipe_args(argc, argv, &a);
    if (status >= 0) return status;
    status = cmd_recipe_pipeline(&a, describe_plan, NULL, NULL);
    cmd_recipe_args_free(&a);
    return status;
}
