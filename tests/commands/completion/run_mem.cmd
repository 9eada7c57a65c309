# completion: run offers --mem
needs bash
$ completions mergelang run --m
stdout same run_mem.out
stderr empty
