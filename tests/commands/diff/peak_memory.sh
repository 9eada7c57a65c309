# diff: peak memory for 15 MB tensors under 24000 KB
# Bounded memory: tensors of 15 MB each (float32); reading them whole (or
# keeping their pages mapped) would take over 30 MB, chunked reading ~11 MB.
# AddressSanitizer builds are recognised by not starting under a ulimit -v
# (their shadow memory), and skipped: their RSS means something else.
if [ ! -x /usr/bin/time ]; then echo "no /usr/bin/time"; exit 77; fi
if ! sh -c 'ulimit -v 4000000 && exec "$0" --version' "$BIN" >/dev/null 2>&1; then
    echo "a sanitizer build"; exit 77
fi
"$B/mkmodel" big1 --layers 1 --vocab 60000 --hidden 64 --seed 1 >/dev/null &&
"$B/mkmodel" big2 --layers 1 --vocab 60000 --hidden 64 --seed 2 --finetune-of 1 --delta 0.01 >/dev/null
/usr/bin/time -f 'maxrss %M' "$BIN" diff big1 big2 --summary >out 2>err
rc=$?
kb=$(sed -n 's/^maxrss //p' err)
rm -rf big1 big2
echo "peak memory ${kb:-?} KB (limit 24000), exit $rc"
[ $rc -eq 0 ] && [ -n "$kb" ] && [ "$kb" -lt 24000 ]
