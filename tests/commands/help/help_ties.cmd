# help ties: a method's signature with its defaults, wrapped under its parenthesis, the doc line and the paper
$ mergelang help ties
exit 0
stderr empty
stdout first-line ^ties(base, models, weights=1, density=1, lambda=1, normalize=true,$
check sed -n 2,3p out | grep -c '^     [a-z]' | grep -qx 2 &&
  sed -n 3p out | grep -qx '     trim="tensor", vocab="same")'
stdout has ^    task vectors trimmed to their largest entries
stdout has ^paper: TIES-Merging (Yadav et al\., NeurIPS 2023, arXiv:2306\.01708)$
