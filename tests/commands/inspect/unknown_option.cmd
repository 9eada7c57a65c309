# inspect: unknown option is a usage error
$ mergelang inspect models/base --frobnicate
exit 2
