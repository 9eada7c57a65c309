# fmt: formatted text is a fixed point
$ mergelang fmt formatted.merge
stdout same ../files/formatted.merge
