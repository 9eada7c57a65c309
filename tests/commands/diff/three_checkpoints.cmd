# diff: three checkpoints is a usage error
$ mergelang diff models/base models/ft1 models/ft1
exit 2
