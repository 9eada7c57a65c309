# help run, with --mem
$ mergelang help run
stdout first-line ^usage: mergelang run
stdout has ^  --mem SIZE
