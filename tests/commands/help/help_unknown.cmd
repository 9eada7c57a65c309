# help of an unknown command is a usage error
$ mergelang help frobnicate
exit 2
