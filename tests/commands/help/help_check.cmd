# help check
$ mergelang help check
stdout first-line ^usage: mergelang check
