# diff --json: valid JSON with the right values
needs jq
$ mergelang diff models/base models/renamed --json
jq .a == "models/base" and .b == "models/renamed" and (.tensors | length) == 37 and
    .only_in_b == ["model.final_norm.weight"] and .overall.common == 37 and .overall.only_in_a == 2 and
    (.layers | length) == 5 and .layers[0].layer == 0 and .layers[4].layer == null and
    (.tensors[0] | .name == "model.embed_tokens.weight" and .layer == null and .cosine == 1 and .rel_diff == 0)
