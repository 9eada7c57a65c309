# PyTorch .bin: a storage entry smaller than the pickle says.
torchbin storage_short
