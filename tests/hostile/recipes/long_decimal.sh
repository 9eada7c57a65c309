# 0.000...1 with 1,000,000 zeros, and a size literal of 1,000 digits.
printf 'x = 0.'; rep 1000000 0; echo '1'; printf 'y = x + '; rep 1000 '1'; echo 'GB'
