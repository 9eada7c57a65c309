# plan --json: exit 0, nothing on stderr
$ cd proj && mergelang plan r.merge -j 2 --json
stderr empty
