# diff: unknown option is a usage error
$ mergelang diff models/base models/ft1 --tensors
exit 2
