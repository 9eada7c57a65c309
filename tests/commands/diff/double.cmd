# diff: 2 * base has cosine 1 and relative difference 1
$ mergelang diff models/base models/double
check [ "$(tensor_lines | awk '$2 == "1.000000" && $3 == "1.000e+00"' | wc -l)" -eq 39 ]
stdout has whole model: cosine 1.000000, rel diff 1.000e+00
