# A byte 0xff in a comment and a terminal escape (clear the screen) in the
# code: messages must not print them raw.
printf '# \377 comment\nx = y\033[2J\n'
