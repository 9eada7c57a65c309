# fmt: unknown option is a usage error
$ mergelang fmt --wide messy.merge
exit 2
