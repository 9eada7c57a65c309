# An error at column 300,009 of a line.
printf 'x = 1 + '; rep 300000 ' '; echo ')'
