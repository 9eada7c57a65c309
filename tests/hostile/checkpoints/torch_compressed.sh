# PyTorch .bin: data.pkl deflated instead of stored.
torchbin compressed
