# check --json: exit 0, nothing on stderr
$ cd proj && mergelang check r.merge --json
stderr empty
