# An index naming a shard file of 312 bytes.
index ck/index_shard_name_too_long "{\"weight_map\":{\"w\":\"$(rep 300 s).safetensors\"}}"
