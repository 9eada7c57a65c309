# diff: float32 against its sharded bfloat16 copy
$ mergelang diff models/ft1 models/ft1-bf16
check [ "$(tensor_lines | awk '$2 + 0 >= 0.99999 && $3 + 0 < 0.004' | wc -l)" -eq 39 ]
