# PyTorch .bin: a string length of 4 GB.
torchbin huge_string
