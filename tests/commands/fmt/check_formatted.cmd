# fmt --check: a formatted file is exit 0, silent
$ mergelang fmt --check formatted.merge
stdout empty
stderr empty
