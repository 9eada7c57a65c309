# 20,000 nested if-then-else.
printf 'x = '; rep 20000 'if true then '; printf '1'; rep 20000 ' else 0'; echo
