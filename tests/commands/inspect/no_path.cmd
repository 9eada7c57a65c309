# inspect: no path is a usage error
$ mergelang inspect
exit 2
