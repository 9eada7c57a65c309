# PyTorch .bin: a pickle holding a list, not a state dict.
torchbin not_a_dict
