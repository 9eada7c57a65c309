# fmt: CRLF line ends become LF
$ mergelang fmt crlf.merge
stdout same crlf.out
