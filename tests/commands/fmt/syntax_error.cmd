# fmt: a syntax error is reported and nothing changes
$ mergelang fmt -w broken.merge
exit 1
stdout empty
stderr has broken.merge:1:10: error: expected ']' to close '\[', found ')'
check cmp -s broken.merge "$HERE/files/broken.merge"
