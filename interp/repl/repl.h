/* repl.h - the interactive session: `mergelang` with no arguments on a
 * terminal, or `mergelang repl`. */
#ifndef MERGELANG_REPL_H
#define MERGELANG_REPL_H

/* argv[0] is "repl" (or the program name when started without arguments).
 * Returns the process exit status. */
int repl_main(int argc, char **argv);

#endif
