# run --help
$ mergelang run --help
stdout first-line ^usage: mergelang run
stdout has exit status
