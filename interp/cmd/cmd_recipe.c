/* cmd_recipe.c - option parsing and the parse -> plan -> checks pipeline
 * of run, check and plan; see cmd_recipe.h. Reads the recipe file (and,
 * planning, model headers); prints errors on stderr; writes nothing. */
#include "interp/cmd/cmd_recipe.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "interp/builtins/builtins.h"
#include "interp/cmd/cmd_help.h"
#include "interp/cmd/commands.h"
#include "interp/exec/tensor_checks.h"
#include "interp/syntax/syntax.h"
#include "runtime/io/safetensors.h"

void cmd_recipe_args_free(CmdRecipeArgs *a) {
    for (size_t i = 0; i < a->n_overrides; i++) free((void *)a->overrides[i].name);
    free(a->overrides);
    a->overrides = NULL;
    a->n_overrides = 0;
}

/* Frees what was parsed so far and returns the exit status. */
static int stop_parsing(CmdRecipeArgs *a, int status) {
    cmd_recipe_args_free(a);
    return status;
}

int cmd_recipe_args(int argc, char **argv, CmdRecipeArgs *a) {
    const char *cmd = argv[0];
    memset(a, 0, sizeof *a);
    a->cmd = cmd;
    a->jobs = sysconf(_SC_NPROCESSORS_ONLN);
    if (a->jobs < 1) a->jobs = 1;
    a->overrides = calloc((size_t)argc, sizeof *a->overrides);
    if (!a->overrides) return CMD_EXIT_USAGE;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            cmd_usage(cmd, stdout);
            return stop_parsing(a, CMD_EXIT_OK);
        } else if (strcmp(arg, "--force") == 0) a->force = true;
        else if (strcmp(arg, "-q") == 0 || strcmp(arg, "--quiet") == 0) a->quiet = true;
        else if (strcmp(arg, "--json") == 0) a->json = a->quiet = true;
        else if (strcmp(arg, "-j") == 0 || strcmp(arg, "--jobs") == 0 || strncmp(arg, "-j", 2) == 0) {
            const char *v = arg[1] == 'j' && arg[2] ? arg + 2 : (i + 1 < argc ? argv[++i] : NULL);
            char *end = NULL;
            a->jobs = v ? strtol(v, &end, 10) : 0;
            if (!v || *end || a->jobs < 1 || a->jobs > 1024) {
                fprintf(stderr, "mergelang: -j expects a number of threads from 1 to 1024\n");
                return stop_parsing(a, CMD_EXIT_USAGE);
            }
        } else if (strcmp(arg, "--mem") == 0) {
            const char *v = i + 1 < argc ? argv[++i] : NULL;
            if (!v || stw_parse_size(v, &a->mem_bytes) != 0 || a->mem_bytes == 0) {
                fprintf(stderr, "mergelang: --mem expects a size such as 4GB, 500MB or 2GiB\n");
                return stop_parsing(a, CMD_EXIT_USAGE);
            }
        } else if (strncmp(arg, "-D", 2) == 0) {
            const char *def = arg[2] ? arg + 2 : (i + 1 < argc ? argv[++i] : NULL);
            const char *eq = def ? strchr(def, '=') : NULL;
            if (!eq || eq == def) {
                fprintf(stderr, "mergelang: -D expects NAME=VALUE\n");
                return stop_parsing(a, CMD_EXIT_USAGE);
            }
            a->overrides[a->n_overrides].name = strndup(def, (size_t)(eq - def));
            a->overrides[a->n_overrides].text = eq + 1;
            a->n_overrides++;
        } else if (arg[0] == '-' && arg[1]) {
            fprintf(stderr, "mergelang: unknown option '%s'\n", arg);
            return stop_parsing(a, CMD_EXIT_USAGE);
        } else if (!a->recipe) a->recipe = arg;
        else {
            fprintf(stderr, "mergelang: more than one recipe given ('%s' and '%s')\n", a->recipe, arg);
            return stop_parsing(a, CMD_EXIT_USAGE);
        }
    }
    if (!a->recipe) {
        fprintf(stderr, "mergelang: %s needs a recipe file\n", cmd);
        return stop_parsing(a, CMD_EXIT_USAGE);
    }
    return -1;
}

int cmd_recipe_pipeline(const CmdRecipeArgs *a, CmdRecipeStep step, void *ctx, int *n_errors) {
    Diag diag;
    diag_init(&diag, stderr);
    int status = CMD_EXIT_OK;
    SrcFile *src = src_load(a->recipe);
    if (!src) {
        diag_plain(&diag, "cannot read '%s': %s", a->recipe, strerror(errno));
        status = CMD_EXIT_RECIPE;
    } else {
        Arena ast_arena;
        arena_init(&ast_arena);
        Ast *program = syn_parse(src, &ast_arena, &diag);
        if (!program) {
            status = CMD_EXIT_RECIPE;
        } else {
            Plan plan;
            plan_init(&plan, &diag, &builtin_table);
            plan.overrides = a->overrides;
            plan.n_overrides = a->n_overrides;
            plan.overwrite = a->force;
            plan.recipe = src;
            if (plan_program(&plan, program) > 0 || tensor_checks_run(&plan) > 0) status = CMD_EXIT_RECIPE;
            else status = step(&plan, a, ctx);
            plan.overrides = NULL;   /* the caller's */
            plan_free(&plan);
        }
        arena_free(&ast_arena);
        src_free(src);
    }
    if (diag.n_errors > 0 && status == CMD_EXIT_OK) status = CMD_EXIT_RECIPE;
    if (n_errors) *n_errors = diag.n_errors;
    return status;
}
