# completion: diff options
needs bash
$ completions mergelang diff --s
stdout same diff_options.out
