# PyTorch .bin: a ZIP directory claiming 65520 entries.
torchbin huge_entry_count
