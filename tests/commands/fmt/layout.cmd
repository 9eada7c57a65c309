# fmt: the canonical layout
$ mergelang fmt messy.merge
stdout same ../files/formatted.merge
