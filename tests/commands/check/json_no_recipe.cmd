# check --json without a recipe: exit 2, no JSON
$ cd proj && mergelang check --json
exit 2
stdout empty
