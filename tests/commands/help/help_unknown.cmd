# help of a name close to nothing: a usage error that says where to look
$ mergelang help frobnicate
exit 2
stderr has mergelang help builtins
