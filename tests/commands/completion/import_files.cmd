# completion: YAML for import-mergekit
needs bash
$ completions mergelang import-mergekit ""
stdout same import_files.out
