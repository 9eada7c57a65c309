/* cmd_check.c - `mergelang check RECIPE`: every check that needs no tensor
 * data (cmd_recipe.c's pipeline), then a verdict on stderr or (--json) a
 * JSON object on stdout. Reads model headers only; writes nothing else. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

#include "interp/cmd/cmd_recipe.h"
#include "interp/cmd/commands.h"
#include "interp/output/folder.h"

/* ctx: the JSON "outputs" array, or NULL without --json. */
static int report_fine(Plan *plan, const CmdRecipeArgs *a, void *ctx) {
    if (!a->quiet)
        fprintf(stderr, "mergelang: %s is fine (%zu output%s)\n", a->recipe, plan->n_saves,
                plan->n_saves == 1 ? "" : "s");
    cJSON *outputs = ctx;
    for (size_t s = 0; outputs && s < plan->n_saves; s++) {
        const SaveRequest *r = &plan->saves[s];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(outputs, o);
        cJSON_AddStringToObject(o, "path", r->path);
        cJSON_AddNumberToObject(o, "tensors", (double)r->model.u.node->set->n);
        cJSON_AddNumberToObject(o, "bytes", (double)folder_bytes(r));
    }
    return CMD_EXIT_OK;
}

/* The verdict as JSON on stdout; outputs are listed only when the recipe
 * is fine. Returns -1 when out of memory. */
static int print_verdict(const CmdRecipeArgs *a, int status, int n_errors, cJSON *outputs) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "recipe", a->recipe);
    cJSON_AddBoolToObject(root, "ok", status == CMD_EXIT_OK);
    cJSON_AddNumberToObject(root, "errors", n_errors);
    if (status != CMD_EXIT_OK) {
        cJSON_Delete(outputs);
        outputs = cJSON_CreateArray();
    }
    cJSON_AddItemToObject(root, "outputs", outputs);
    char *text = root && outputs ? cJSON_Print(root) : NULL;
    if (!root) cJSON_Delete(outputs);
    cJSON_Delete(root);
    if (!text) return -1;
    puts(text);
    free(text);
    return 0;
}

int cmd_check_main(int argc, char **argv) {
    CmdRecipeArgs a;
    int status = cmd_recipe_args(argc, argv, &a);
    if (status >= 0) return status;
    cJSON *outputs = a.json ? cJSON_CreateArray() : NULL;
    int n_errors = 0;
    status = cmd_recipe_pipeline(&a, report_fine, outputs, &n_errors);
    if (a.json && print_verdict(&a, status, n_errors, outputs) != 0) {
        fprintf(stderr, "mergelang: out of memory\n");
        if (status == CMD_EXIT_OK) status = CMD_EXIT_MERGE;
    }
    cmd_recipe_args_free(&a);
    return status;
}
