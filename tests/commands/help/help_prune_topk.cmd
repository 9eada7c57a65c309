# help of a primitive: signature and doc, no paper
$ mergelang help prune_topk
exit 0
stdout first-line ^prune_topk(deltas, density, rescale=false)$
stdout lacks ^paper:
