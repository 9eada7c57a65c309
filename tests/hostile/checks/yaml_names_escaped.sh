# The recipe imported from escapes.yml parses: the model names stay strings
# (the check fails only at opening the models) and no name turned into an
# extra save(...) line of code.
cp "$HERE/checks/escapes.yml" . &&
timeout 20 "$BIN" import-mergekit escapes.yml -o escapes.merge 2>/dev/null
timeout 20 "$BIN" check escapes.merge > escapes.check 2>&1
if grep -q 'cannot open model' escapes.check && ! grep -q 'expected\|unexpected' escapes.check &&
    [ "$(grep -c '^save(' escapes.merge)" = 1 ]; then
    exit 0
fi
echo "the recipe does not parse, or holds an extra save: $(head -c 300 escapes.check)"
exit 1
