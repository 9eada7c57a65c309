# completion: subcommand prefix
needs bash
$ completions mergelang i
stdout same subcommand_prefix.out
