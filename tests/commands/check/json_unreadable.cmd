# check --json: an unreadable recipe is ok: false
needs jq
$ cd proj && mergelang check missing.merge --json
exit 1
jq .ok == false and .errors == 1 and .outputs == []
