# completion: checkpoints and folders for inspect
needs bash
$ completions mergelang inspect ""
stdout same inspect_files.out
