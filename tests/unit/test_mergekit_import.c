/* test_mergekit_import.c - the mergekit importer's pieces: its method table
 * against the interpreter's built-ins (so that a renamed keyword breaks a
 * test, not a user's import), recipe names, YAML spans, hostile YAML, and
 * translations of small configurations held in strings. The suite in
 * tests/mergekit/ runs whole files through the binary. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/check.h"
#include "interp/builtins/builtins.h"
#include "interp/mergekit/mergekit_int.h"

/* ---- helpers ---------------------------------------------------------------- */

typedef struct Run {
    char *recipe;  /* NULL when not translated */
    char *diag;    /* everything printed */
    int n_errors;
} Run;

static Run translate(const char *yaml) {
    Run r = { NULL, NULL, 0 };
    SrcFile *f = src_from_string("c.yml", yaml, strlen(yaml));
    if (!f) return r;
    size_t len = 0;
    FILE *out = open_memstream(&r.diag, &len);
    Diag d;
    diag_init(&d, out);
    Arena arena;
    arena_init(&arena);
    Mk mk = { .src = f, .dir = ".", .diag = &d, .arena = &arena };
    MkYNode **docs = NULL;
    int n = mkimport_yaml_load(f, &arena, &d, &docs);
    if (n >= 0 && mkimport_read_config(&mk, docs, (size_t)n) && d.n_errors == 0)
        r.recipe = mkimport_emit(&mk, "c.yml", "r.merge");
    fclose(out);
    r.n_errors = d.n_errors;
    arena_free(&arena);
    src_free(f);
    return r;
}

static void run_free(Run *r) {
    free(r->recipe);
    free(r->diag);
}

static bool has(const char *text, const char *part) { return text && strstr(text, part) != NULL; }

/* ---- the method table ----------------------------------------------------------- */

static void test_methods_match_builtins(void) {
    const char *names[32];
    size_t n = mkimport_method_names(names, 32);
    CHECK(n == 20);  /* mergekit's registry */
    for (size_t i = 0; i < n; i++) {
        const MkMethod *m = mkimport_method(names[i]);
        CHECK(m != NULL);
        if (!m || !m->builtin) continue;
        const Builtin *bi = builtin_find(m->builtin);
        CHECK(bi != NULL);
        if (!bi) continue;
        int np = builtin_n_params(bi);
        for (int k = 0; k < MK_MAX_PARAMS && m->params[k].name; k++) {
            const char *arg = m->params[k].arg;
            if (!arg) continue;
            bool found = false;
            for (int j = 0; j < np; j++) found = found || strcmp(bi->params[j].name, arg) == 0;
            if (!found) printf("  %s(): no parameter '%s'\n", m->builtin, arg);
            CHECK(found);
        }
        /* Defaults come from the registry: every parameter mergekit does
         * not require has one there. */
        for (int k = 0; k < MK_MAX_PARAMS && m->params[k].name; k++) {
            const MkParam *p = &m->params[k];
            if (!p->arg) continue;
            CHECK(p->own_dflt == NULL);
            if (!p->required && !mkimport_param_default(m, p)) printf("  %s(): no default for '%s'\n", m->builtin, p->arg);
            CHECK(p->required || mkimport_param_default(m, p) != NULL);
        }
    }
    CHECK(mkimport_method("tie") == NULL);
}

/* ---- names ----------------------------------------------------------------------------- */

static void test_names(void) {
    Arena arena;
    arena_init(&arena);
    Mk mk = { .arena = &arena };
    CHECK_STR(mkimport_name(&mk, "m0.safetensors"), "m0");
    CHECK_STR(mkimport_name(&mk, "mistralai/Mistral-7B-v0.1"), "mistral_7b_v0_1");
    CHECK_STR(mkimport_name(&mk, "models/m0"), "m0_2");
    CHECK_STR(mkimport_name(&mk, "linear.safetensors"), "linear_2");  /* a built-in */
    CHECK_STR(mkimport_name(&mk, "if"), "if_2");                      /* a keyword */
    CHECK_STR(mkimport_name(&mk, "layer"), "layer_2");                /* tensor context */
    CHECK_STR(mkimport_name(&mk, "7b-base"), "m7b_base");
    CHECK_STR(mkimport_name(&mk, "--"), "model_2");                   /* model() is a built-in */
    CHECK_STR(mkimport_name(&mk, "models/"), "models");
    arena_free(&arena);
}

/* ---- YAML ------------------------------------------------------------------------------- */

static void test_yaml_spans(void) {
    /* libyaml counts characters after the BOM; spans are bytes. */
    const char *text = "\xEF\xBB\xBF# \xC3\xA9t\xC3\xA9\r\nmerge_method: \"d\xC3\xA9j\xC3\xA0\"\r\nx: [1, 2]\n";
    SrcFile *f = src_from_string("c.yml", text, strlen(text));
    Arena arena;
    arena_init(&arena);
    Diag d;
    diag_init(&d, stderr);
    MkYNode **docs = NULL;
    CHECK(mkimport_yaml_load(f, &arena, &d, &docs) == 1);
    if (docs) {
        const MkYNode *v = mkimport_yaml_get(docs[0], "merge_method");
        CHECK(v && v->kind == MKY_SCALAR && !v->plain);
        if (v) CHECK(strncmp(text + v->at.start, "\"d\xC3\xA9j", 5) == 0);
        const MkYNode *x = mkimport_yaml_get(docs[0], "x");
        CHECK(x && x->kind == MKY_SEQ && x->n == 2);
        if (x && x->n == 2) CHECK(text[x->items[1]->at.start] == '2');
    }
    arena_free(&arena);
    src_free(f);
}

static void test_yaml_hostile(void) {
    /* Deep nesting is refused, not recursed into. */
    size_t depth = 100000;
    char *deep = malloc(depth * 2 + 16);
    memset(deep, '[', depth);
    memset(deep + depth, ']', depth);
    deep[2 * depth] = '\0';
    Run r = translate(deep);
    CHECK(r.n_errors > 0 && !r.recipe);
    run_free(&r);
    free(deep);

    r = translate("a: &a [*a]\n");
    CHECK(has(r.diag, "contains itself"));
    run_free(&r);

    r = translate("a: \"\\0\"\n");
    CHECK(has(r.diag, "NUL"));
    run_free(&r);

    r = translate("\xFF\xFEm\0");
    CHECK(r.n_errors > 0);
    run_free(&r);

    r = translate("a: !python/object:os.system x\n");
    CHECK(has(r.diag, "unsupported YAML tag"));
    run_free(&r);

    r = translate("a: 1\na: 2\n");
    CHECK(has(r.diag, "c.yml:2:1: error: duplicate key 'a'"));
    run_free(&r);
}

/* ---- translations ------------------------------------------------------------------------ */

static void test_translate_models(void) {
    Run r = translate("models:\n"
                      "  - model: a.safetensors\n"
                      "    parameters: {weight: 0.5, density: [1, 0.5]}\n"
                      "  - model: b.safetensors\n"
                      "    parameters: {weight: 0.5}\n"
                      "merge_method: dare_ties\n"
                      "base_model: base.safetensors\n"
                      "parameters: {density: 0.3}\n");
    CHECK(r.recipe != NULL);
    CHECK(has(r.recipe, "base = model(\"base.safetensors\")\n"));
    CHECK(has(r.recipe, "a = model(\"a.safetensors\")\n"));
    CHECK(strstr(r.recipe ? r.recipe : "", "base = ") < strstr(r.recipe ? r.recipe : "", "a = "));
    CHECK(has(r.recipe, "param out = \"merged\""));
    CHECK(has(r.recipe, "param seed = 0"));
    CHECK(has(r.recipe, "density_a = gradient([1, 0.5])\n"));
    CHECK(has(r.recipe, "merged = dare_ties(base, [a, b], weights = 0.5, density = [density_a, 0.3], seed = seed,\n"
              "                   vocab = \"crop\")"));
    CHECK(has(r.recipe, "save(merged, out, config = base)"));
    run_free(&r);
}

static void test_translate_fallthrough(void) {
    /* Source list -> slice list -> top-level list -> method default. */
    Run r = translate("slices:\n"
                      "  - sources:\n"
                      "      - {model: base.safetensors, layer_range: [0, 2]}\n"
                      "      - model: a.safetensors\n"
                      "        layer_range: [2, 4]\n"
                      "        parameters: {density: [{filter: q_proj, value: 0.1}]}\n"
                      "    parameters: {density: [{filter: mlp, value: 0.2}]}\n"
                      "merge_method: ties\n"
                      "base_model: base.safetensors\n"
                      "parameters: {weight: 1, density: [{filter: norm, value: 0.3}]}\n");
    CHECK(r.recipe != NULL);
    CHECK(has(r.recipe, "density_a = if name ~ \"q_proj\" then 0.1\n"
                        "            else if name ~ \"mlp\" then 0.2\n"
                        "            else if name ~ \"norm\" then 0.3\n"
                        "            else 1\n"));
    CHECK(has(r.recipe, "merged = ties(layers(base, 0, 2), [layers(a, 2, 4)], weights = 1, density = density_a,\n"
                        "              vocab = \"crop\")"));
    run_free(&r);
}

static void test_translate_strings(void) {
    /* Filters are quoted for the recipe whatever they hold. */
    Run r = translate("models:\n"
                      "  - model: a.safetensors\n"
                      "    parameters:\n"
                      "      weight: [{filter: \"a\\\"b\\\\ else c\\t\", value: 1}, {filter: '*', value: 2}]\n"
                      "merge_method: linear\n");
    CHECK(r.recipe != NULL);
    CHECK(has(r.recipe, "merged = linear([a], weights = weight_a, vocab = \"crop\")"));
    CHECK(has(r.recipe, "weight_a = if name ~ \"a\\\"b\\\\ else c\\t\" then 1 else 2\n"));
    run_free(&r);
}

/* mergekit crops embeddings of different vocabulary sizes only without a
 * tokenizer source, and not for karcher, multislerp & co: the recipe asks
 * for the crop exactly there. */
static void test_translate_vocab(void) {
    Run r = translate("models: [{model: a.safetensors}, {model: b.safetensors}]\n"
                      "merge_method: slerp\nbase_model: a.safetensors\nparameters: {t: 0.5}\n");
    CHECK(has(r.recipe, "vocab = \"crop\""));
    run_free(&r);
    r = translate("models: [{model: a.safetensors}, {model: b.safetensors}]\n"
                  "merge_method: slerp\nbase_model: a.safetensors\nparameters: {t: 0.5}\n"
                  "tokenizer_source: base\n");
    CHECK(r.recipe != NULL && !has(r.recipe, "vocab ="));
    run_free(&r);
    r = translate("models: [{model: a.safetensors}, {model: b.safetensors}]\nmerge_method: karcher\n");
    CHECK(r.recipe != NULL && !has(r.recipe, "vocab ="));
    run_free(&r);
    r = translate("models: [{model: a.safetensors}, {model: b.safetensors}]\nmerge_method: multislerp\n"
                  "parameters: {weight: 1}\n");
    CHECK(r.recipe != NULL && !has(r.recipe, "vocab ="));
    run_free(&r);
}

static void test_translate_errors(void) {
    Run r = translate("models:\n  - model: a.safetensors\nmerge_method: linear\n");
    CHECK(!r.recipe);
    CHECK(has(r.diag, "c.yml:2:12: error: missing required parameter 'weight' for 'a.safetensors'"));
    run_free(&r);

    r = translate("models:\n  - model: a.safetensors\n    parameters: {weight: 1}\nmerge_method: linear\n"
                  "out_dtype: bf16\n");
    CHECK(has(r.diag, "c.yml:5:12: error: unknown out_dtype 'bf16'"));
    CHECK(has(r.diag, "hint: did you mean 'bfloat16'?"));
    run_free(&r);

    r = translate("models:\n  - model: a.safetensors\n    parameters: {weight: inf}\nmerge_method: linear\n");
    CHECK(has(r.diag, "c.yml:3:26: error: parameter 'weight' must be a number, found 'inf'"));
    run_free(&r);

    r = translate("merge_method: nuslerp\nmodels:\n  - model: a.safetensors\n    parameters: {weight: 1}\n");
    CHECK(has(r.diag, "nuslerp merges exactly 2 models besides base_model; found 1"));
    run_free(&r);
}

int main(void) {
    RUN_TEST(test_methods_match_builtins);
    RUN_TEST(test_names);
    RUN_TEST(test_yaml_spans);
    RUN_TEST(test_yaml_hostile);
    RUN_TEST(test_translate_models);
    RUN_TEST(test_translate_fallthrough);
    RUN_TEST(test_translate_strings);
    RUN_TEST(test_translate_vocab);
    RUN_TEST(test_translate_errors);
    return CHECK_DONE();
}
