# fmt -w: a symbolic link is followed, not replaced
mkdir -p wlink
cp messy.merge wlink/r.merge
ln -s r.merge wlink/link.merge
"$BIN" fmt -w wlink/link.merge >out 2>err
rc=$?
if [ $rc -eq 0 ] && [ -L wlink/link.merge ] && cmp -s wlink/r.merge formatted.merge; then exit 0; fi
echo "exit $rc"
ls -l wlink
cat out err
exit 1
