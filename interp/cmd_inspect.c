/* cmd_inspect.c - `mergelang inspect` (placeholder until it lands). */
#include <stdio.h>

#include "commands.h"

int cmd_inspect_main(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "mergelang: inspect is not built yet\n");
    return 2;
}
