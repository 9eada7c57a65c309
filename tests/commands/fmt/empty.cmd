# fmt: an empty recipe stays empty
$ mergelang fmt empty.merge
stdout empty
