# diff -h
$ mergelang diff -h
stdout first-line ^usage: mergelang diff
