# check --json: a failing recipe is ok: false
needs jq
$ cd proj && mergelang check bad.merge --json
exit 1
jq . == {"recipe": "bad.merge", "ok": false, "errors": 1, "outputs": []}
