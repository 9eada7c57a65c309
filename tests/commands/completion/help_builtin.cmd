# completion: help offers a built-in, asking the binary typed
needs bash
$ completions "$BIN" help ti
stdout same help_builtin.out
stderr empty
