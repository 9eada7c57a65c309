/* test_hfnames.c - block indices and the natural write order of tensor
 * names, plus the did-you-mean suggestions. */
#include <stdlib.h>
#include <string.h>

#include "interp/syntax/suggest.h"
#include "runtime/io/hfnames.h"
#include "tests/unit/check.h"

static void test_layer_index(void) {
    CHECK(hfname_layer("model.layers.12.mlp.up_proj.weight") == 12);
    CHECK(hfname_layer("model.layers.0.input_layernorm.weight") == 0);
    CHECK(hfname_layer("transformer.h.7.attn.c_attn.weight") == 7);
    CHECK(hfname_layer("model.embed_tokens.weight") == -1);
    CHECK(hfname_layer("model.norm.weight") == -1);
    CHECK(hfname_layer("lm_head.weight") == -1);
    CHECK(hfname_layer("model.layers.x.weight") == -1);
    CHECK(hfname_layer("experts.3.weight") == -1);  /* "experts" is not a block word */
    CHECK(hfname_layer("model.layers.3.mlp.experts.11.w1.weight") == 3);
}

static int cmp(const void *a, const void *b) {
    return hfname_cmp(*(const char *const *)a, *(const char *const *)b);
}

static void test_natural_order(void) {
    const char *names[] = {
        "lm_head.weight",
        "model.layers.10.mlp.up_proj.weight",
        "model.norm.weight",
        "model.layers.2.self_attn.q_proj.weight",
        "model.embed_tokens.weight",
        "model.layers.2.mlp.up_proj.weight",
        "model.layers.1.mlp.experts.10.w1.weight",
        "model.layers.1.mlp.experts.9.w1.weight",
    };
    const char *want[] = {
        "model.embed_tokens.weight",
        "model.layers.1.mlp.experts.9.w1.weight",
        "model.layers.1.mlp.experts.10.w1.weight",
        "model.layers.2.mlp.up_proj.weight",
        "model.layers.2.self_attn.q_proj.weight",
        "model.layers.10.mlp.up_proj.weight",
        "model.norm.weight",
        "lm_head.weight",
    };
    size_t n = sizeof names / sizeof names[0];
    qsort(names, n, sizeof names[0], cmp);
    for (size_t i = 0; i < n; i++) CHECK_STR(names[i], want[i]);
}

static void test_suggest(void) {
    const char *cands[] = { "weights", "normalize", "density", "lambda" };
    CHECK_STR(suggest_closest("wieghts", cands, 4), "weights");
    CHECK_STR(suggest_closest("densty", cands, 4), "density");
    CHECK_STR(suggest_closest("normalise", cands, 4), "normalize");
    CHECK(suggest_closest("xyz", cands, 4) == NULL);
    CHECK(suggest_closest("t", cands, 4) == NULL);
}

int main(void) {
    RUN_TEST(test_layer_index);
    RUN_TEST(test_natural_order);
    RUN_TEST(test_suggest);
    return CHECK_DONE();
}
