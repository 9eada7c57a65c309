# An index naming a shard in the parent folder.
index ck/index_parent_path '{"weight_map":{"w":"../model-00001-of-00001.safetensors"}}'
