# The bytes 0xff 0xfe (not UTF-8) in the source.
printf 'x = \377\376 + 1\n'
