# completion: check and plan offer --json
needs bash
$ completions mergelang check --j
stdout same json_options.out
