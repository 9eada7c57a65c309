# fmt -: standard input to standard output
$ mergelang fmt - <messy.merge
stdout same ../files/formatted.merge
