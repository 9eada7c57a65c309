# 100,000 nested not.
printf 'x = '; rep 100000 'not '; echo true
