# diff: a PyTorch .bin copy of a model holds the same values (tensor data read through the .bin reader)
$ python3 "$ROOT/tests/torchbin/make_torch_bin.py" convert models/ft1 bin-ft1 && mergelang diff bin-ft1 models/ft1
stdout has ^overall: 39 common tensors, 0 only in A, 0 only in B$
stdout has ^  max rel diff 0.000e+00
stdout has ^  whole model: cosine 1.000000, rel diff 0.000e+00$
