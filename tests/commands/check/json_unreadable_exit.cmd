# check --json: an unreadable recipe is exit 1
$ cd proj && mergelang check missing.merge --json
exit 1
stderr has cannot read 'missing.merge'
