# inspect -h
$ mergelang inspect -h
stdout first-line ^usage: mergelang inspect
