# completion: plan offers --json
needs bash
$ completions mergelang plan --js
stdout same json_options.out
