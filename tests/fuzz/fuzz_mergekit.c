/* fuzz_mergekit.c - libFuzzer target: `mergelang import-mergekit`.
 *
 * The input is a mergekit YAML configuration, run through the importer's
 * pipeline as mkimport_main runs it (YAML, validation, recipe text). When a
 * recipe comes out, it must parse: the importer writes only recipes that
 * mergelang reads, whatever names, paths and numbers the YAML held (a name
 * with a quote or a control character must come out escaped).
 *
 * Built by `make fuzz`; replayed on tests/fuzz/corpus/mergekit by
 * tests/unit/test_fuzz_replay.c, which includes this file with
 * LLVMFuzzerTestOneInput renamed (hence the mf_ prefix on every static). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interp/mergekit/mergekit_int.h"
#include "interp/syntax/syntax.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *mf_sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!mf_sink && !(mf_sink = fopen("/dev/null", "w"))) abort();
    SrcFile *src = src_from_string("fuzz.yml", (const char *)data, size);
    if (!src) return 0;
    Diag diag;
    diag_init(&diag, mf_sink);
    Arena arena;
    arena_init(&arena);
    Mk mk = { .src = src, .dir = ".", .diag = &diag, .arena = &arena };
    MkYNode **docs = NULL;
    char *recipe = NULL;
    int n = mkimport_yaml_load(src, &arena, &diag, &docs);
    if (n >= 0 && mkimport_read_config(&mk, docs, (size_t)n) && diag.n_errors == 0)
        recipe = mkimport_emit(&mk, "fuzz.yml", "recipe.merge");
    if (recipe && diag.n_errors == 0) {
        SrcFile *out = src_from_string("recipe.merge", recipe, strlen(recipe));
        Arena ast;
        arena_init(&ast);
        Diag check;
        diag_init(&check, mf_sink);
        if (out && !syn_parse(out, &ast, &check)) {
            /* Show what was written, then fail: a translated YAML must parse. */
            fprintf(stderr, "--- recipe that does not parse:\n%s---\n", recipe);
            Diag loud;
            diag_init(&loud, stderr);
            Arena again;
            arena_init(&again);
            (void)syn_parse(out, &again, &loud);
            arena_free(&again);
            abort();
        }
        arena_free(&ast);
        src_free(out);
    }
    free(recipe);
    arena_free(&arena);
    src_free(src);
    return 0;
}
