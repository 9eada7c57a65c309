# An import of a FIFO (reading it would block).
mkfifo pipe.merge 2>/dev/null || skip "no mkfifo"
printf 'import "pipe.merge"\n'
