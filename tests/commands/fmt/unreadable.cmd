# fmt: an unreadable file is exit 1
$ mergelang fmt missing.merge
exit 1
stderr has cannot read 'missing.merge'
