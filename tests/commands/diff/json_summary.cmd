# diff --json --summary: whole-model figures, no tensor list
needs jq
$ mergelang diff models/base models/double --json --summary
jq (has("tensors") | not) and .overall.model_cosine == 1 and .overall.model_rel_diff == 1 and
    .overall.mean_cosine == 1 and .overall.max_rel_diff == 1
