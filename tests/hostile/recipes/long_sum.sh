# 1 + 1 + ... 200,000 times: a long left-nested expression.
printf 'x = 1'; rep 200000 ' + 1'; echo
