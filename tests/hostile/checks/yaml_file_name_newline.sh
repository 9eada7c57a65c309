# A YAML file whose name holds a newline and a line of code: the name,
# quoted in the imported recipe's comments, does not start a line of code.
nl_name=$(printf 'cfg\nsave(model("x"), "evil")\n.yml')
printf 'models:\n  - model: ./missing\nmerge_method: linear\nparameters: {weight: 1}\n' > "$nl_name"
timeout 20 "$BIN" import-mergekit "$nl_name" -o nl_name.merge 2>/dev/null
n=$(grep -c '^save(' nl_name.merge)
rm -f "$nl_name"
if [ "$n" = 1 ]; then exit 0; fi
echo "a newline in the YAML's name started a line of code ($n save lines)"
exit 1
