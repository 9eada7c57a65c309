# completion: subcommands
needs bash
$ completions mergelang ""
stdout same subcommands.out
