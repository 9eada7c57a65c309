# A string holding an invalid UTF-8 sequence.
printf 'x = model("\303\050")\n'
