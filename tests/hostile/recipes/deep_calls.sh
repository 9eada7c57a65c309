# 50,000 nested calls of a function.
printf 'def f(x) = x\ny = '; rep 50000 'f('; printf '1'; rep 50000 ')'; echo
