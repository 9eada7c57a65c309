# help run
$ mergelang help run
stdout first-line ^usage: mergelang run
