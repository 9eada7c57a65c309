# help inspect
$ mergelang help inspect
stdout first-line ^usage: mergelang inspect
