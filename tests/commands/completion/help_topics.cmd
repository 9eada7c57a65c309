# completion: help offers methods and built-ins alike
needs bash
$ completions "$BIN" help me
stdout same help_topics.out
stderr empty
