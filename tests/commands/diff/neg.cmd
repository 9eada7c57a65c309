# diff: -base has cosine -1 and relative difference 2
$ mergelang diff models/base models/neg
check [ "$(tensor_lines | awk '$2 == "-1.000000" && $3 == "2.000e+00"' | wc -l)" -eq 39 ]
