# inspect: sharded bfloat16 folder
$ mergelang inspect models/ft1-bf16
stdout has dtypes        bfloat16 (39)
stdout has size          82,496 bytes
stdout has shards        5 (model-00001-of-00005.safetensors ... model-00005-of-00005.safetensors)
