# fmt -w: rewrites in place, keeps the mode, leaves formatted files and nothing else behind
mkdir -p wdir
cp messy.merge wdir/r.merge
cp formatted.merge wdir/done.merge
chmod 640 wdir/r.merge
touch -t 202001010000 wdir/done.merge
before=$(ls -l --time-style=+%s wdir/done.merge | awk '{print $6}')
"$BIN" fmt -w wdir/r.merge wdir/done.merge >out 2>err
rc=$?
after=$(ls -l --time-style=+%s wdir/done.merge | awk '{print $6}')
mode=$(ls -l wdir/r.merge | cut -c1-10)
left=$(ls -A wdir | grep -v '^r.merge$' | grep -v '^done.merge$')
if [ $rc -eq 0 ] && [ ! -s out ] && cmp -s wdir/r.merge formatted.merge && [ "$mode" = "-rw-r-----" ] &&
   [ "$before" = "$after" ] && [ -z "$left" ]; then
    exit 0
fi
echo "exit $rc, mode $mode, mtime $before -> $after, left: $left"
cat out err
exit 1
