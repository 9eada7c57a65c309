# An index mapping a tensor to a shard that does not hold it.
index ck/index_tensor_not_in_shard '{"weight_map":{"v":"model-00001-of-00001.safetensors"}}'
