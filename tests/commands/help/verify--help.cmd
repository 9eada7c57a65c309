# verify --help
$ mergelang verify --help
stdout first-line ^usage: mergelang verify
stdout has exit status
