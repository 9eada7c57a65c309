# fmt: --check with -w is a usage error
$ mergelang fmt --check -w messy.merge
exit 2
