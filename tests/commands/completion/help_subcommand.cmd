# completion: help takes a subcommand
needs bash
$ completions mergelang help d
stdout same help_subcommand.out
