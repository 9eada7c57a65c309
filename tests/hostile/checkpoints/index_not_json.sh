# An index that is not JSON.
index ck/index_not_json '{"weight_map":{"w":'
