# diff --json: tensors only in A, natural order
$ mergelang diff models/base models/renamed --json
stdout has "only_in_a":	\["model.norm.weight", "lm_head.weight"\]
