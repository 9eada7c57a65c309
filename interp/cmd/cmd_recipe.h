/* cmd_recipe.h - what run, check and plan share: their command line
 * (RECIPE, -D, -j, --mem, --force, -q, --json) and the pipeline that loads,
 * parses, plans and checks a recipe before each command does its part. */
#ifndef MERGELANG_CMD_RECIPE_H
#define MERGELANG_CMD_RECIPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "interp/plan/plan.h"

typedef struct CmdRecipeArgs {
    const char *cmd;           /* argv[0]: "run", "check" or "plan" */
    const char *recipe;
    bool force, quiet, json;   /* --json implies quiet */
    long jobs;                 /* -j (default: the number of cores) */
    uint64_t mem_bytes;        /* --mem (0: the default) */
    Override *overrides;       /* -D, names malloc'd */
    size_t n_overrides;
} CmdRecipeArgs;

/* Parses argv (argv[0]: the command). Returns -1 when the command goes on;
 * otherwise the exit status: 0 after printing --help, 2 after reporting a
 * bad command line (nothing is left to free then). */
int cmd_recipe_args(int argc, char **argv, CmdRecipeArgs *a);
void cmd_recipe_args_free(CmdRecipeArgs *a);

/* A command's part, given a recipe that planned and passed every check.
 * Returns the exit status. */
typedef int (*CmdRecipeStep)(Plan *plan, const CmdRecipeArgs *a, void *ctx);

/* Loads a->recipe, parses, plans and checks it (errors on stderr), then
 * runs step(plan, a, ctx). Returns the exit status: 1 when the recipe
 * failed (step is not called), else step's, turned into 1 if an error was
 * reported meanwhile. *n_errors (when n_errors is set) receives the number
 * of errors reported. */
int cmd_recipe_pipeline(const CmdRecipeArgs *a, CmdRecipeStep step, void *ctx, int *n_errors);

#endif
