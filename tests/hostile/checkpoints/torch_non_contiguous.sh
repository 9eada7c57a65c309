# PyTorch .bin: a transposed (non-contiguous) tensor.
torchbin non_contiguous
