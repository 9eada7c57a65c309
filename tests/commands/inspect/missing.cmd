# inspect: missing path is exit 1, named
$ mergelang inspect models/missing
exit 1
stderr has models/missing
stdout empty
