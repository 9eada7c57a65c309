# An index whose shard is a folder.
index ck/index_shard_is_folder '{"weight_map":{"w":"shard.safetensors"}}'
mkdir ck/index_shard_is_folder/shard.safetensors
