# help repl
$ mergelang help repl
stdout first-line ^usage: mergelang repl
