/* cmd_diff.c - `mergelang diff` (placeholder until it lands). */
#include <stdio.h>

#include "commands.h"

int cmd_diff_main(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "mergelang: diff is not built yet\n");
    return 2;
}
