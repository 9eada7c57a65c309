/* cmd_fmt.c - `mergelang fmt` (placeholder until it lands). */
#include <stdio.h>

#include "commands.h"

int cmd_fmt_main(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "mergelang: fmt is not built yet\n");
    return 2;
}
