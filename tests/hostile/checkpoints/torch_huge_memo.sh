# PyTorch .bin: a memo index of 2^32 - 1.
torchbin huge_memo
