# inspect: two paths is a usage error
$ mergelang inspect models/base models/ft1
exit 2
