# plan --json: outputs agree with check --json
# Each output's bytes are the sum of its tensors' bytes, tensor_count their number.
needs jq
$ cd proj && mergelang plan r.merge -j 2 --json
jq .recipe == "r.merge" and .outputs[0].blocks == 4 and
    all(.outputs[]; ([.tensors[].bytes] | add) == .bytes and (.tensors | length) == .tensor_count)
check jq -e --argjson check "$(cd proj && mergelang check r.merge --json)"
    '[.outputs[] | {path, tensors: .tensor_count, bytes}] == $check.outputs' out
