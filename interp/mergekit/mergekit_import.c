/* mergekit_import.c - `mergelang import-mergekit config.yml [-o recipe.merge]`:
 * reads a mergekit YAML configuration (mergekit-yaml or mergekit-multi)
 * and writes an equivalent recipe. The work is split over mergekit_yaml.c
 * (YAML), mergekit_config.c (validation) and mergekit_emit.c (the recipe);
 * see mergekit_int.h and docs/mergekit.md.
 *
 * The YAML may come from anyone: it is read with the same care as a recipe
 * (bounded size and nesting, aliases never expanded), and the recipe is
 * written only when the whole file translated without an error. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interp/mergekit/mergekit_import.h"
#include "interp/mergekit/mergekit_int.h"

enum { EXIT_OK = 0, EXIT_INPUT = 1, EXIT_USAGE = 2 };

static void usage(FILE *f) {
    fputs("usage: mergelang import-mergekit CONFIG.yml [-o RECIPE.merge]\n"
          "\n"
          "Translates a mergekit configuration (a mergekit-yaml file, or a mergekit-multi\n"
          "file of several documents) into a mergelang recipe, written to RECIPE.merge or\n"
          "to standard output. Model paths are kept as written, so run the recipe from the\n"
          "YAML's folder; `-D out=FOLDER` chooses the output folder:\n"
          "\n"
          "  mergelang import-mergekit config.yml -o recipe.merge\n"
          "  mergelang run recipe.merge -D out=merged\n"
          "\n"
          "Fields mergekit reads but a recipe cannot express are errors; parameter names\n"
          "mergekit ignores are warnings. See docs/mergekit.md.\n",
          f);
}

/* The folder of path, for resolving the YAML's relative model paths. */
static char *dir_of(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) return strdup(".");
    if (slash == path) return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

static int write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "mergelang: error: cannot write '%s': %s\n", path, strerror(errno));
        return -1;
    }
    size_t len = strlen(text);
    bool ok = fwrite(text, 1, len, f) == len;
    if (fclose(f) != 0) ok = false;
    if (!ok) {
        fprintf(stderr, "mergelang: error: cannot write '%s': %s\n", path, strerror(errno));
        remove(path);
        return -1;
    }
    return 0;
}

int mkimport_main(int argc, char **argv) {
    const char *input = NULL, *output = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return EXIT_OK;
        }
        if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "mergelang: %s needs a file name\n", a);
                return EXIT_USAGE;
            }
            output = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "mergelang: import-mergekit: unknown option '%s'\n\n", a);
            usage(stderr);
            return EXIT_USAGE;
        } else if (!input) {
            input = a;
        } else {
            fprintf(stderr, "mergelang: import-mergekit takes one YAML file ('%s' and '%s' given)\n", input, a);
            return EXIT_USAGE;
        }
    }
    if (!input) {
        usage(stderr);
        return EXIT_USAGE;
    }
    Diag diag;
    diag_init(&diag, stderr);
    SrcFile *src = src_load(input);
    if (!src) {
        diag_plain(&diag, "cannot read '%s': %s", input, strerror(errno));
        return EXIT_INPUT;
    }
    char *dir = dir_of(input);
    Arena arena;
    arena_init(&arena);
    Mk mk = { .src = src, .dir = dir ? dir : ".", .diag = &diag, .arena = &arena };
    MkYNode **docs = NULL;
    char *recipe = NULL;
    int n = mkimport_yaml_load(src, &arena, &diag, &docs);
    if (n >= 0 && mkimport_read_config(&mk, docs, (size_t)n) && diag.n_errors == 0)
        recipe = mkimport_emit(&mk, input, output ? output : "recipe.merge");
    int status = EXIT_INPUT;
    if (recipe && diag.n_errors == 0) {
        if (output) status = write_file(output, recipe) == 0 ? EXIT_OK : EXIT_INPUT;
        else status = fputs(recipe, stdout) >= 0 && fflush(stdout) == 0 ? EXIT_OK : EXIT_INPUT;
    } else if (diag.n_errors > 0) {
        fprintf(stderr, "mergelang: %s not translated (%d error%s)\n", input, diag.n_errors,
                diag.n_errors == 1 ? "" : "s");
    }
    free(recipe);
    arena_free(&arena);
    free(dir);
    src_free(src);
    return status;
}
