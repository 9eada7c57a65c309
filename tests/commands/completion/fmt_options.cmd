# completion: fmt options
needs bash
$ completions mergelang fmt --
stdout same fmt_options.out
