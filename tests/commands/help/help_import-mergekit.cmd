# help import-mergekit
$ mergelang help import-mergekit
stdout first-line ^usage: mergelang import-mergekit
