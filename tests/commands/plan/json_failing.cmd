# plan --json: a failing recipe is exit 1, errors on stderr, nothing on stdout
$ cd proj && mergelang plan bad.merge --json
exit 1
stdout empty
stderr has error:[ ]
