# plan --json: row ranges and streamed tensors
# Row ranges of 16 entries (tests only): how each tensor is cut; 64 MB of write queue.
needs jq
$ cd proj && export MERGELANG_CHUNK_ENTRIES=16 && mergelang plan r.merge -j 3 --json
jq ([.outputs[] | select(.path != "out/mlp0") | .tensors[]] | INDEX(.name)) as $t |
    (.outputs[2].tensors | INDEX(.name)) as $m0 |
    ($m0["model.layers.0.mlp.down_proj.weight"] | [.computed, .parts, .rows_per_part] == ["row ranges", 32, 1]) and
    ($t["model.layers.3.self_attn.q_proj.weight"] | [.computed, .parts, .rows_per_part] == ["streamed", 32, 1]) and
    ($t["model.embed_tokens.weight"] | [.computed, .parts] == ["streamed", 64]) and
    $t["model.layers.3.input_layernorm.weight"].computed == "whole" and
    (.peak_memory | .row_range == true and .threads == 3 and .write_queue_bytes == 64 * 1048576)
