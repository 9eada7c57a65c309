# inspect: a PyTorch .bin folder (made by tests/torchbin/make_torch_bin.py) reads as the model it came from
needs jq
$ python3 "$ROOT/tests/torchbin/make_torch_bin.py" convert models/base bin-single && mergelang inspect bin-single --tensors --json > bin.json && mergelang inspect models/base --tensors --json > st.json && mergelang inspect bin-single
stdout has ^tensors       39 (3 outside the blocks)$
stdout has ^architecture  LlamaForCausalLM (llama), from config.json$
stdout has ^dtypes        float32 (39)$
stdout has ^shards        1 (pytorch_model.bin)$
check jq -e --slurpfile a bin.json --slurpfile b st.json -n '($a[0].tensors | map(del(.shard))) == ($b[0].tensors | map(del(.shard))) and ($a[0].tensors | length) == 39'
