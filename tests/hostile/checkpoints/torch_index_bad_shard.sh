# PyTorch .bin, sharded: the index names a shard that is not a torch checkpoint.
mkdir -p ck/torch_index_bad_shard
printf 'not a zip' > ck/torch_index_bad_shard/pytorch_model-00001-of-00001.bin
printf '{"weight_map":{"w":"pytorch_model-00001-of-00001.bin"}}' > ck/torch_index_bad_shard/pytorch_model.bin.index.json
