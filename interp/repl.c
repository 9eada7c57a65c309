/* repl.c - the interactive session (placeholder until the REPL lands). */
#include <stdio.h>

#include "repl.h"

int repl_main(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "mergelang: the REPL is not built yet\n");
    return 2;
}
