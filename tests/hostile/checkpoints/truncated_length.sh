# 5 bytes: the 8-byte header length cut short.
printf '\010\000\000\000\000' > ck/truncated_length
