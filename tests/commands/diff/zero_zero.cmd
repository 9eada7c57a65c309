# diff: two all-zero tensors are identical
$ mergelang diff models/zero models/zero
check [ "$(tensor_lines | awk '$2 == "1.000000" && $3 == "0.000e+00"' | wc -l)" -eq 39 ]
