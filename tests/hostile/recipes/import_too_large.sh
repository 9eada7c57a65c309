# An import of a 20 MB file (sparse; the limit is 8 MiB).
dd if=/dev/zero of=big.merge bs=1 count=0 seek=20000000 2>/dev/null
printf 'import "big.merge"\n'
