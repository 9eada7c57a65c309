# PyTorch .bin: an opcode a state dict never uses (INT).
torchbin unknown_opcode
