# PyTorch .bin: 100000 nested marks.
torchbin deep_nesting
