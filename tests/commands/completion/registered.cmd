# completion: registered for mergelang
needs bash
$ bash -c '. "$0"; complete -p mergelang' "$ROOT/completions/mergelang.bash"
stdout has _mergelang mergelang$
