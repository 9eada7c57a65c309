# check --json: recipe, ok, errors, outputs with tensors and bytes
needs jq
$ cd proj && mergelang check r.merge --json
jq .recipe == "r.merge" and .ok == true and .errors == 0 and
    .outputs == [{"path": "out/layer3", "tensors": 9, "bytes": 18560},
                 {"path": "out/embed", "tensors": 1, "bytes": 8192},
                 {"path": "out/mlp0", "tensors": 3, "bytes": 24576}]
