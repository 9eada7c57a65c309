# inspect --tensors: shard column for a sharded folder
$ mergelang inspect models/ft1-bf16 --tensors
stdout has ^tensor  *shape  *dtype  *shard$
stdout has ^lm_head.weight  *\[64, 32\]  *bfloat16  *model-00005-of-00005.safetensors$
