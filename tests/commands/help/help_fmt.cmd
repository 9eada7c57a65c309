# help fmt
$ mergelang help fmt
stdout first-line ^usage: mergelang fmt
stdout has fmt
