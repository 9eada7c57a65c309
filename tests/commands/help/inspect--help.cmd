# inspect --help
$ mergelang inspect --help
stdout first-line ^usage: mergelang inspect
stdout has exit status
