/* test_hfnames.c - block indices and the natural write order of tensor
 * names, plus the did-you-mean suggestions. */
#include <stdio.h>
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

/* Real names from mergekit's architecture descriptions
 * (the JSON files in mergekit/_data/architectures): module prefix and block index. */
static void test_architecture_names(void) {
    static const struct { const char *arch, *name, *prefix; long block; int aux; } cases[] = {
        { "llama", "model.layers.7.self_attn.q_proj.weight", "model.layers.", 7, 0 },
        { "mistral", "model.layers.0.mlp.gate_proj.weight", "model.layers.", 0, 0 },
        { "gemma2", "model.layers.25.post_feedforward_layernorm.weight", "model.layers.", 25, 0 },
        { "qwen2", "model.embed_tokens.weight", NULL, -1, 0 },
        { "gpt2", "transformer.h.11.attn.c_attn.weight", "transformer.h.", 11, 0 },
        { "gptbigcode", "transformer.h.3.mlp.c_fc.bias", "transformer.h.", 3, 0 },
        { "jais", "transformer.h.2.mlp.c_fc2.weight", "transformer.h.", 2, 0 },
        { "jais", "transformer.relative_pe.slopes", NULL, -1, 0 },
        { "falcon", "transformer.h.5.self_attention.query_key_value.weight", "transformer.h.", 5, 0 },
        { "gpt-neox", "gpt_neox.layers.4.attention.dense.weight", "gpt_neox.layers.", 4, 0 },
        { "gpt-neox", "embed_out.weight", NULL, -1, 0 },
        { "bert", "bert.encoder.layer.9.attention.self.key.bias", "bert.encoder.layer.", 9, 0 },
        { "distilbert", "distilbert.transformer.layer.1.attention.q_lin.weight", "distilbert.transformer.layer.", 1, 0 },
        { "roberta", "roberta.encoder.layer.0.output.dense.weight", "roberta.encoder.layer.", 0, 0 },
        { "t5", "encoder.block.3.layer.0.SelfAttention.q.weight", "encoder.block.", 3, 0 },
        { "t5", "decoder.block.1.layer.2.DenseReluDense.wi.weight", "decoder.block.", 1, 0 },
        { "whisper", "model.decoder.layers.2.encoder_attn.k_proj.weight", "model.decoder.layers.", 2, 0 },
        { "mamba", "backbone.layers.6.mixer.A_log", "backbone.layers.", 6, 0 },
        { "chatglm", "transformer.encoder.layers.1.self_attention.dense.weight", "transformer.encoder.layers.", 1, 0 },
        { "internlm2", "model.layers.2.attention.wqkv.weight", "model.layers.", 2, 0 },
        { "exaone", "transformer.h.0.attn.attention.k_proj.weight", "transformer.h.", 0, 0 },
        { "phi2-old", "transformer.h.8.mixer.Wqkv.weight", "transformer.h.", 8, 0 },
        { "mixtral", "model.layers.3.block_sparse_moe.experts.7.w1.weight", "model.layers.", 3, 0 },
        { "gemma3vl", "language_model.model.layers.5.mlp.up_proj.weight", "language_model.model.layers.", 5, 0 },
        { "gemma3vl", "vision_tower.vision_model.encoder.layers.1.layer_norm1.bias",
          "vision_tower.vision_model.encoder.layers.", 1, 1 },
        { "gemma3vl", "multi_modal_projector.mm_input_projection_weight", NULL, -1, 1 },
        { "mistral3", "vision_tower.transformer.layers.2.ffn_norm.weight", "vision_tower.transformer.layers.", 2, 1 },
        { "llama4", "vision_model.model.layers.0.mlp.fc1.weight", "vision_model.model.layers.", 0, 1 },
        { "qwen2_vl", "visual.blocks.3.norm1.weight", "visual.blocks.", 3, 1 },
        { "qwen2_vl", "model.layers.3.self_attn.q_proj.weight", "model.layers.", 3, 0 },
        { "qwen3_vl", "model.language_model.layers.2.input_layernorm.weight", "model.language_model.layers.", 2, 0 },
        { "qwen3_vl", "model.visual.blocks.4.attn.qkv.weight", "model.visual.blocks.", 4, 1 },
        { "qwen3_vl", "model.visual.deepstack_merger_list.1.norm.weight", NULL, -1, 1 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t plen = 99;
        long b = hfname_block(cases[i].name, &plen);
        int ok = b == cases[i].block && hfname_layer(cases[i].name) == b &&
                 (cases[i].prefix ? plen == strlen(cases[i].prefix) &&
                                        strncmp(cases[i].name, cases[i].prefix, plen) == 0
                                  : plen == 0);
        size_t alen = cases[i].prefix ? plen : strlen(cases[i].name);
        ok = ok && hfname_is_aux(cases[i].name, alen) == cases[i].aux;
        if (!ok) fprintf(stderr, "  %s: %s -> block %ld, prefix %zu\n", cases[i].arch, cases[i].name, b, plen);
        CHECK(ok);
    }
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
    RUN_TEST(test_architecture_names);
    RUN_TEST(test_natural_order);
    RUN_TEST(test_suggest);
    return CHECK_DONE();
}
