# fmt -h
$ mergelang fmt -h
stdout first-line ^usage: mergelang fmt
