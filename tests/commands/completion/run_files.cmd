# completion: recipes and folders for run
needs bash
$ completions mergelang run ""
stdout same run_files.out
