/* commands.h - the subcommands of the mergelang command line (main.c's
 * table dispatches to them): run, check and plan a recipe, verify a merged
 * folder, inspect a checkpoint, diff two checkpoints, format a recipe.
 * Each takes argv with argv[0] = the subcommand's name and returns the
 * exit status. */
#ifndef MERGELANG_COMMANDS_H
#define MERGELANG_COMMANDS_H

/* Exit statuses (main.c's usage text lists them). */
enum {
    CMD_EXIT_OK = 0,
    CMD_EXIT_RECIPE = 1,       /* the recipe or its inputs failed a check; nothing written */
    CMD_EXIT_USAGE = 2,        /* bad command line */
    CMD_EXIT_MERGE = 3,        /* failed while computing or writing; no output left behind */
    CMD_EXIT_INTERRUPTED = 130 /* SIGINT or SIGTERM during a run; nothing written */
};

int cmd_run_main(int argc, char **argv);
int cmd_check_main(int argc, char **argv);
int cmd_plan_main(int argc, char **argv);
int cmd_verify_main(int argc, char **argv);
int cmd_inspect_main(int argc, char **argv);
int cmd_diff_main(int argc, char **argv);
int cmd_fmt_main(int argc, char **argv);

#endif
