/* mergekit_import.c - mergekit YAML to recipe (placeholder until it lands). */
#include <stdio.h>

#include "mergekit_import.h"

int mkimport_main(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "mergelang: import-mergekit is not built yet\n");
    return 2;
}
