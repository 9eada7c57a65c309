# plan --json: the same operations and peak tensor as the text
# The text and the JSON come from one walk: the "    = OPERATION" lines, and
# the peak tensor in parentheses on the "peak memory: " line.
needs jq
$ cd proj && mergelang plan r.merge -j 2 --json
jq .peak_memory.tensor | type == "string"
check jq -e --arg text "$(cd proj && mergelang plan r.merge -j 2)"
    '($text | split("\n")) as $lines | .peak_memory.tensor as $peak |
     [.outputs[].tensors[].operation] == [$lines[] | select(startswith("    = ")) | ltrimstr("    = ")] and
     ([$lines[] | select(startswith("peak memory: "))] | join("\n") | contains("(" + $peak + ")"))' out
