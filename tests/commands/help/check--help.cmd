# check --help
$ mergelang check --help
stdout first-line ^usage: mergelang check
stdout has exit status
stdout has ^  --json 
