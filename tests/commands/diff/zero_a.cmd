# diff: an all-zero A has no cosine and an infinite difference
$ mergelang diff models/zero models/base
check [ "$(tensor_lines | awk '$2 == "-" && $3 == "inf"' | wc -l)" -eq 39 ]
