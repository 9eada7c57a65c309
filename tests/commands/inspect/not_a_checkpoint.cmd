# inspect: not a checkpoint is exit 1, named
$ mergelang inspect models/garbage.safetensors
exit 1
stderr has models/garbage.safetensors
