/* commands.h - the everyday subcommands beside run/check/plan/repl:
 * inspect a checkpoint, diff two checkpoints, format a recipe. Each takes
 * argv with argv[0] = the subcommand's name and returns the exit status. */
#ifndef MERGELANG_COMMANDS_H
#define MERGELANG_COMMANDS_H

int cmd_inspect_main(int argc, char **argv);
int cmd_diff_main(int argc, char **argv);
int cmd_fmt_main(int argc, char **argv);

#endif
