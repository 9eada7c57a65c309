# tests/commands/lib.sh - helpers for the command cases, sourced by run.sh
# and by each case script (FOLDER/NAME.sh). The current folder is the work
# folder: models/, the copies of files/, and out and err, the stdout and
# stderr of the last command of a .cmd case.

# mergelang ARGS...: the binary under test.
mergelang() { "$BIN" "$@"; }

# has FILE RE: FILE has a line matching the basic regular expression RE.
has() { grep -q -- "$2" "$1"; }

# tensor_lines: the per-tensor lines of a `diff` in out (between the header
# line "tensor ..." and the first blank line).
tensor_lines() { sed -n '/^tensor /,/^$/p' out | sed '1d;/^$/d'; }

# completions WORD...: the candidates bash offers for the last word of the
# command line WORD..., sorted, one a line, from the folder cdir (r.merge
# with params scale and density, m.safetensors, c.yml, notes.txt, sub/).
completions() {
    (cd cdir && bash -c '. "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _mergelang
                         printf "%s\n" "${COMPREPLY[@]}" | sort' "$ROOT/completions/mergelang.bash" "$@")
}
