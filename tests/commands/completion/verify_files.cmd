# completion: folders for verify
needs bash
$ completions mergelang verify ""
stdout same verify_files.out
