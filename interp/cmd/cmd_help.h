/* cmd_help.h - `mergelang CMD --help` for the commands main.c parses itself
 * (run, check, plan, verify), and `mergelang help CMD` for every command. */
#ifndef MERGELANG_CMD_HELP_H
#define MERGELANG_CMD_HELP_H

#include <stdio.h>

/* Prints the help of run, check, plan or verify to out. Returns 0, or -1
 * (printing nothing) for any other cmd. */
int cmd_usage(const char *cmd, FILE *out);
/* `mergelang help CMD`: prints CMD's help, whichever command it is (the
 * subcommands with their own parsers are asked for their --help). Returns
 * the exit status: 0, or 2 for an unknown command. */
int cmd_help_main(const char *cmd);

#endif
