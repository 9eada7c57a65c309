/* cmd_help.h - `mergelang CMD --help` for the commands main.c parses itself
 * (run, check, plan, verify), and `mergelang help TOPIC` for every command
 * and every built-in. */
#ifndef MERGELANG_CMD_HELP_H
#define MERGELANG_CMD_HELP_H

#include <stdio.h>

/* Prints the help of run, check, plan or verify to out. Returns 0, or -1
 * (printing nothing) for any other cmd. */
int cmd_usage(const char *cmd, FILE *out);
/* `mergelang help TOPIC`: prints the help of a command (the subcommands
 * with their own parsers are asked for their --help); of a built-in (its
 * signature, doc line and paper, from the registry); `methods` lists the
 * merge methods, `builtins` every built-in by kind; `--names` (hidden, for
 * completion) every topic, one per line. Returns the exit status: 0, or 2
 * for an unknown topic (with a did-you-mean). */
int cmd_help_main(const char *cmd);

#endif
