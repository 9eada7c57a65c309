# inspect: a folder with both model.safetensors and pytorch_model.bin is read from the safetensors
$ python3 "$ROOT/tests/torchbin/make_torch_bin.py" convert models/wide both && cp models/base/model.safetensors both/ && mergelang inspect both
stdout has ^shards        1 (model.safetensors)$
stdout has ^parameters    41,248$
