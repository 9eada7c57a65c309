# diff --summary: no per-tensor lines
$ mergelang diff models/base models/ft1 --summary
stdout lacks ^tensor[ ]
stdout has ^per layer:$
stdout has ^overall:[ ]
