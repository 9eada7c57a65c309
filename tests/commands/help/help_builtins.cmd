# help builtins: the built-ins grouped by kind
$ mergelang help builtins
exit 0
check grep -A1 -x 'merge methods:' out | grep -q '^  linear, slerp,' &&
  grep -A1 -x 'lists:' out | grep -qx '  len, range, map, zip, sum' &&
  grep -A1 -x 'statistics (a number per tensor):' out | grep -qx '  norm, mean, std, dot, cos'
