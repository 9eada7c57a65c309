# 200,000 definitions and 200,000 unknown names: no quadratic lookup or
# suggestion.
awk 'BEGIN { for (i = 0; i < 200000; i++) printf "x%d = %d\n", i, i; for (i = 0; i < 200000; i++) printf "y%d = z%d\n", i, i }'
