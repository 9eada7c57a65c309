# inspect --json --tensors: every tensor, natural order
needs jq
$ mergelang inspect models/deep --json --tensors
jq (.tensors | length) == 111 and .tensors[0].name == "model.embed_tokens.weight" and
    .tensors[-1].name == "lm_head.weight" and .tensors[0].shape == [16, 8] and
    .tensors[0].dtype == "float32" and .tensors[0].bytes == 512 and .layers == 12
