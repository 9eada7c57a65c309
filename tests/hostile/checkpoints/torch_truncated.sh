# PyTorch .bin: the file cut in half: no end-of-central-directory record.
torchbin truncated
