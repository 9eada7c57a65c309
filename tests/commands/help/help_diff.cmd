# help diff
$ mergelang help diff
stdout first-line ^usage: mergelang diff
