# fmt: no file is a usage error
$ mergelang fmt
exit 2
