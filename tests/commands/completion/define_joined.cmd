# completion: -DNAME form
needs bash
$ completions mergelang check r.merge -Dd
stdout same define_joined.out
