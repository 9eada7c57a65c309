# import-mergekit of a YAML whose model names hold quotes, backslashes,
# newlines, tabs, control bytes and terminal escapes (escapes.yml): the
# import succeeds and its warnings hold no raw control bytes.
cp "$HERE/checks/escapes.yml" . &&
timeout 20 "$BIN" import-mergekit escapes.yml -o escapes.merge 2> escapes.err
rc=$?
bad=$(tr -d '\n\t -~' < escapes.err | LC_ALL=C tr -d '\200-\377' | wc -c)
if [ $rc = 0 ] && [ "$bad" = 0 ]; then exit 0; fi
echo "exit $rc, $bad raw control bytes in the warnings"
exit 1
