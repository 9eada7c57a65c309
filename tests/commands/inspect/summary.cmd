# inspect: summary of a model folder
$ mergelang inspect models/base
stdout same summary.out
