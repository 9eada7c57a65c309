# an error hint shows the registry's signature and doc, as help does
# (the recipe calls prune_topk() without its arguments)
$ mergelang check missing_argument.merge
exit 1
stderr has ^  hint: prune_topk(deltas, density, rescale=false): keep the largest-magnitude floor(density\*n) entries (TIES trim)$
