# plan --help
$ mergelang plan --help
stdout first-line ^usage: mergelang plan
stdout has exit status
stdout has ^  --json 
