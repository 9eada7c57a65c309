# completion: help without a binary to ask: the commands, quietly
needs bash
$ completions "$PWD/no-such-mergelang" help r
stdout same help_no_binary.out
stderr empty
