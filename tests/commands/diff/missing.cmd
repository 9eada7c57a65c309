# diff: missing checkpoint is exit 1, named
$ mergelang diff models/base models/missing
exit 1
stderr has models/missing
