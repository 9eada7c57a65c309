# An index whose shard name is a number.
index ck/index_shard_not_string '{"weight_map":{"w":1}}'
