# diff --json: undefined cosine is null
needs jq
$ mergelang diff models/base models/zero --json
jq [.tensors[] | .cosine == null and .rel_diff == 1] | all
