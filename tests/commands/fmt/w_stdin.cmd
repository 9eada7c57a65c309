# fmt: -w with standard input is a usage error
$ mergelang fmt -w -
exit 2
