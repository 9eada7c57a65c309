/* cmd_verify.c - `mergelang verify DIR`: checks a merged folder against its
 * provenance.json (runtime/io/provenance.h does the checking). Reads the
 * folder; writes nothing. */
#include <stdio.h>
#include <string.h>

#include "interp/cmd/cmd_help.h"
#include "interp/cmd/commands.h"
#include "runtime/io/provenance.h"

int cmd_verify_main(int argc, char **argv) {
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        cmd_usage(argv[0], stdout);
        return CMD_EXIT_OK;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: mergelang verify DIR\n");
        return CMD_EXIT_USAGE;
    }
    ErrBuf err;
    int v = prov_verify(argv[1], stdout, &err);
    if (v < 0) fprintf(stderr, "mergelang: error: %s\n", err.msg);
    return v == 0 ? CMD_EXIT_OK : CMD_EXIT_RECIPE;
}
