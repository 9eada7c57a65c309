# 100,000 unary minus signs.
printf 'x = '; rep 100000 '-'; echo 1
