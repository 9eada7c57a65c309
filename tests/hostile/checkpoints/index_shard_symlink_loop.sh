# An index whose shard is a symbolic link to itself.
index ck/index_shard_symlink_loop '{"weight_map":{"w":"loop.safetensors"}}'
ln -s loop.safetensors ck/index_shard_symlink_loop/loop.safetensors
