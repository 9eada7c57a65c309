# help plan
$ mergelang help plan
stdout first-line ^usage: mergelang plan
