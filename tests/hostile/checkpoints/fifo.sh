# The checkpoint path is a FIFO (opening it for reading would block).
mkfifo ck/fifo 2>/dev/null || skip "no mkfifo"
