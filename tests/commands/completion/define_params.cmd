# completion: -D offers the recipe's params
needs bash
$ completions mergelang run r.merge -D ""
stdout same define_params.out
