# 100,000 nested parentheses around 1.
printf 'x = '; rep 100000 '('; printf '1'; rep 100000 ')'; echo
