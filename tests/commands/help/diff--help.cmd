# diff --help
$ mergelang diff --help
stdout first-line ^usage: mergelang diff
stdout has exit status
