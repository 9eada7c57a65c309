# plan --json: small tensors are computed whole; the peak estimate
# The peak tensor is the first of those with the most memory.
needs jq
$ cd proj && mergelang plan r.merge -j 2 --json
jq [.outputs[].tensors[]] as $ts | ($ts | map(.memory_bytes) | max) as $most |
    first($ts[] | select(.memory_bytes == $most)) as $top | .peak_memory as $p |
    all($ts[]; [.computed, .parts, .rows_per_part] == ["whole", 1, 0] and .memory_bytes > 0) and
    $p.per_tensor_bytes == $top.memory_bytes and $p.tensor == $top.name and
    $p.threads == 2 and $p.bytes == 2 * $p.per_tensor_bytes and
    $p.row_range == false and $p.write_queue_bytes == 0
