# check --json: a failing recipe is exit 1, errors on stderr
$ cd proj && mergelang check bad.merge --json
exit 1
stderr has error:[ ]
