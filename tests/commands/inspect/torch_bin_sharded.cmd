# inspect --tensors: a sharded PyTorch .bin folder names each tensor's .bin shard
$ python3 "$ROOT/tests/torchbin/make_torch_bin.py" convert models/ft1-bf16 bin-sharded --shards 2 && mergelang inspect bin-sharded --tensors
stdout has ^lm_head.weight  *\[64, 32\]  *bfloat16  *pytorch_model-0000[12]-of-00002.bin$
stdout has ^model.norm.weight  *\[32\]  *bfloat16  *pytorch_model-0000[12]-of-00002.bin$
