# help verify
$ mergelang help verify
stdout first-line ^usage: mergelang verify
