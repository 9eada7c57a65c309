# diff: one checkpoint is a usage error
$ mergelang diff models/base
exit 2
