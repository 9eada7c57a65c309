# PyTorch .bin: a tensor whose offset + size runs past its storage.
torchbin offset_past_storage
