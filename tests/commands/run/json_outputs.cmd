# run --json writes the outputs check --json announced
# In a copy of proj/, whose out/ the other cases need empty.
needs jq
$ cp -R proj run && cd run && mergelang run r.merge -j 2 --json
jq has("outputs")
check jq -e --argjson check "$(cd proj && mergelang check r.merge --json)" '.outputs == $check.outputs' out
