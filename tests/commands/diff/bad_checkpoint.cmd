# diff: bad checkpoint is exit 1, named
$ mergelang diff models/garbage.safetensors models/base
exit 1
stderr has models/garbage.safetensors
