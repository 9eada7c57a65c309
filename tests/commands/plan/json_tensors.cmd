# plan --json: per tensor name, shape, dtype, bytes, operation, inputs
needs jq
$ cd proj && mergelang plan r.merge -j 2 --json
jq (.outputs[0].tensors | map(.name)) as $names | (.outputs[0].tensors | INDEX(.name)) as $l3 |
    $names[0] == "model.layers.3.input_layernorm.weight" and
    $names[-1] == "model.layers.3.self_attn.v_proj.weight" and
    ($l3["model.layers.3.self_attn.q_proj.weight"] |
     .shape == [32, 32] and .dtype == "bfloat16" and .bytes == 2048 and .operation == "slerp(base, ft, t=1)") and
    $l3["model.layers.3.mlp.down_proj.weight"].operation == "linear([base, ft])" and
    all($l3[]; .inputs == ["models/base", "models/ft1"] and .dtype == "bfloat16") and
    (.outputs[1].tensors[0] | .name == "model.embed_tokens.weight" and .dtype == "float32" and .bytes == 8192 and
     .operation == "ties(base, [ft], density=0.5)")
