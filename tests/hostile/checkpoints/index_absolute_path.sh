# An index naming a shard by an absolute path.
index ck/index_absolute_path '{"weight_map":{"w":"/etc/passwd"}}'
