# A string literal of 1,000,000 bytes.
printf 'x = model("'; rep 1000000 a; echo '")'
