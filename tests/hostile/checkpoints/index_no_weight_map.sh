# An index without a weight_map.
index ck/index_no_weight_map '{"metadata":{"total_size":8}}'
