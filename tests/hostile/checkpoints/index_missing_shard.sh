# An index naming a shard that does not exist.
index ck/index_missing_shard '{"weight_map":{"w":"model-00002-of-00002.safetensors"}}'
