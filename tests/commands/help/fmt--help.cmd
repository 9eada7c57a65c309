# fmt --help
$ mergelang fmt --help
stdout first-line ^usage: mergelang fmt
stdout has exit status
