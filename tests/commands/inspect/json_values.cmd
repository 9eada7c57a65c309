# inspect --json: valid JSON with the right values
needs jq
$ mergelang inspect models/base --json
jq .tensor_count == 39 and .layers == 4 and .parameters == 41248 and .bytes == 164992 and
    .dtypes == {"float32": 39} and .model_type == "llama" and .architecture_source == "config.json" and
    .shards == ["model.safetensors"] and .outside_blocks == 3
