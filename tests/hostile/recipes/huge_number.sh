# A literal of 1,000,000 digits.
printf 'x = '; rep 1000000 9; echo
