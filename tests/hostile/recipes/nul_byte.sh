# A NUL byte in the source.
printf 'x = 1\000 + 2\n'
