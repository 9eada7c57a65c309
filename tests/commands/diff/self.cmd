# diff: a model against itself
$ mergelang diff models/base models/base
check [ "$(tensor_lines | awk '$2 == "1.000000" && $3 == "0.000e+00"' | wc -l)" -eq 39 ]
stdout has ^overall: 39 common tensors, 0 only in A, 0 only in B$
