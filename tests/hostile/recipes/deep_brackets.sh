# 100,000 nested list brackets.
printf 'x = '; rep 100000 '['; rep 100000 ']'; echo
