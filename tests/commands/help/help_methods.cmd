# help methods: mergekit's methods and fisher, one line each, with what each does
$ mergelang help methods
exit 0
check [ "$(sed -n 's/^  \([a-z_][a-z_]*\)  .*/\1/p' out | tr '\n' ' ')" = "linear slerp task_arithmetic ties dare_ties dare_linear breadcrumbs breadcrumbs_ties della della_linear nuslerp multislerp karcher model_stock nearswap sce ram ramplus_tl arcee_fusion fisher " ]
stdout has ^  fisher  *Fisher-weighted average
