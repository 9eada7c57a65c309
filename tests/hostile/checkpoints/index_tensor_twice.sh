# An index listing a tensor twice.
index ck/index_tensor_twice '{"weight_map":{"w":"model-00001-of-00001.safetensors","w":"model-00001-of-00001.safetensors"}}'
