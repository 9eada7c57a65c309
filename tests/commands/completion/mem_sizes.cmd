# completion: sizes after --mem
needs bash
$ completions mergelang run --mem 4
stdout same mem_sizes.out
stderr empty
