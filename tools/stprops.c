/* stprops.c - judges the output of a random-pruning merge (dare_linear,
 * dare_ties, della, della_linear) by the properties its conformance case
 * lists, since such outputs cannot be compared element by element.
 *
 *   stprops CASE_DIR OUTPUT [--verbose]
 *
 * CASE_DIR holds case.json, base.safetensors and the model files; OUTPUT is
 * the merged checkpoint (a .safetensors file or a folder). Prints one
 * "ok ..." or "FAIL ..." line per check, then "N checks passed, M failed".
 * Exit 0 when every check passes, 1 when one fails, 2 on usage, I/O or
 * case.json errors. The checks live in tests/oracle/props.c so that unit tests
 * can drive them. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "tests/oracle/props.h"

static void usage(FILE *to) {
    fprintf(to, "usage: stprops CASE_DIR OUTPUT [--verbose]\n"
                "  CASE_DIR: a property conformance case (case.json, base.safetensors, m0.safetensors, ...)\n"
                "  OUTPUT:   the merged checkpoint, a .safetensors file or a folder\n"
                "  --verbose: also print a line per tensor and model\n");
}

int main(int argc, char **argv) {
    const char *case_dir = NULL, *output = NULL;
    bool verbose = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0) {
            verbose = true;
        } else if (strncmp(a, "--", 2) == 0) {
            fprintf(stderr, "stprops: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        } else if (!case_dir) {
            case_dir = a;
        } else if (!output) {
            output = a;
        } else {
            fprintf(stderr, "stprops: unexpected argument '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (!case_dir || !output) {
        usage(stderr);
        return 2;
    }
    ErrBuf err = {""};
    int passed = 0, failed = 0;
    if (props_check_case_ex(case_dir, output, stdout, verbose, &passed, &failed, &err) < 0) {
        fflush(stdout);
        fprintf(stderr, "stprops: %s\n", err.msg);
        return 2;
    }
    return failed ? 1 : 0;
}
