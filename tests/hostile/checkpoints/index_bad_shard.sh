# An index whose second shard is truncated.
index ck/index_bad_shard '{"weight_map":{"w":"model-00001-of-00001.safetensors","v":"bad.safetensors"}}'
st ck/index_bad_shard/bad.safetensors '{"v":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}' 8
