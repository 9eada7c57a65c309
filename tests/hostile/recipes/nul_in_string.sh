# A NUL byte inside a string literal.
printf 'x = model("a\000b")\n'
