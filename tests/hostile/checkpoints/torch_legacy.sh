# PyTorch .bin: a pre-1.6 torch file (a bare pickle).
torchbin legacy
