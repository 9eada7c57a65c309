# fmt --check: a syntax error is exit 1
$ mergelang fmt --check broken.merge
exit 1
