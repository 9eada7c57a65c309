# mergelang.bash - bash completion for mergelang: subcommands, their
# options, the files each one takes (.merge recipes, checkpoints, mergekit
# YAML), after -D the names of the params the recipe on the command line
# declares, and after `help` the commands and built-ins, which the binary
# lists itself (`mergelang help --names`), so this file keeps no copy.
#
# Install: copy to /usr/share/bash-completion/completions/mergelang (or
# $PREFIX/share/bash-completion/completions/mergelang), or source it from
# ~/.bashrc. Needs bash 4; does not need the bash-completion package.

# The names declared with `param NAME = ...` in the recipes among the words
# typed so far, one per line.
_mergelang_params() {
    local w
    for w in "${COMP_WORDS[@]}"; do
        case $w in
        *.merge)
            [[ -r $w ]] && sed -n 's/^[[:space:]]*param[[:space:]]\{1,\}\([A-Za-z_][A-Za-z0-9_]*\)[[:space:]]*=.*/\1/p' "$w"
            ;;
        esac
    done
}

# What `mergelang help` takes (commands, methods, builtins and every
# built-in's name), one per line, asked of the mergelang being completed:
# the word typed (build/mergelang, ~/bin/mergelang) or the one on PATH.
# Remembered per binary for the shell's life. Prints nothing when it cannot
# be run (not built, not installed, too old to know --names); the caller
# then offers the commands alone.
_mergelang_help_topics() {
    local bin=${COMP_WORDS[0]}
    [[ $bin == "~/"* ]] && bin=$HOME/${bin#"~/"}
    if [[ ${_mergelang_topics_of-} != "$bin" ]]; then
        _mergelang_topics_of=$bin
        _mergelang_topics=
        if command -v -- "$bin" >/dev/null 2>&1; then
            _mergelang_topics=$("$bin" help --names 2>/dev/null </dev/null) || _mergelang_topics=
        fi
    fi
    printf '%s\n' "$_mergelang_topics"
}

# Files whose names end in one of the given suffixes, and folders.
_mergelang_files() {
    local cur=$1 ext
    shift
    compopt -o filenames 2>/dev/null
    COMPREPLY=()
    local IFS=$'\n'
    for ext in "$@"; do
        COMPREPLY+=($(compgen -f -X "!*.$ext" -- "$cur"))
    done
    COMPREPLY+=($(compgen -d -- "$cur"))
}

_mergelang() {
    local cur=${COMP_WORDS[COMP_CWORD]}
    local prev=
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
    local commands="run check plan repl import-mergekit inspect diff fmt verify help"

    # The subcommand: the first word after the program that is not an option.
    local cmd= i
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
        -*) ;;
        *) cmd=${COMP_WORDS[i]}; break ;;
        esac
    done
    if [[ -z $cmd ]]; then
        COMPREPLY=($(compgen -W "$commands --help --version" -- "$cur"))
        return 0
    fi

    local opts=
    case $cmd in
    run) opts="-D -j --jobs --mem --force -q --quiet --json --help" ;;
    check) opts="-D -q --quiet --json --help" ;;
    plan) opts="-D -j --jobs --json --help" ;;
    repl) opts="--echo --force -j --help" ;;
    import-mergekit) opts="-o --help" ;;
    inspect) opts="--tensors --json --help" ;;
    diff) opts="--summary --json --help" ;;
    fmt) opts="--check -w --ast --help" ;;
    verify) opts="--help" ;;
    help)
        local topics
        topics=$(_mergelang_help_topics)
        [[ -n $topics ]] || topics=$commands
        COMPREPLY=($(compgen -W "$topics" -- "$cur"))
        return 0
        ;;
    *) return 0 ;;
    esac

    case $prev in
    -D)
        # `-D NAME=VALUE`: offer the declared names with their '='.
        compopt -o nospace 2>/dev/null
        COMPREPLY=($(compgen -W "$(_mergelang_params)" -S = -- "$cur"))
        return 0
        ;;
    -j | --jobs)
        local n counts="1 2 4 8"
        n=$(getconf _NPROCESSORS_ONLN 2>/dev/null)
        case " $counts " in *" $n "*) ;; *) counts="$counts $n" ;; esac
        COMPREPLY=($(compgen -W "$counts" -- "$cur"))
        return 0
        ;;
    --mem)
        COMPREPLY=($(compgen -W "1GB 2GB 4GB 8GB 16GB 32GB" -- "$cur"))
        return 0
        ;;
    -o)
        _mergelang_files "$cur" merge
        return 0
        ;;
    esac
    if [[ $cur == -D?* ]]; then
        compopt -o nospace 2>/dev/null
        COMPREPLY=($(compgen -W "$(_mergelang_params)" -P -D -S = -- "${cur#-D}"))
        return 0
    fi
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        return 0
    fi
    case $cmd in
    run | check | plan | repl | fmt) _mergelang_files "$cur" merge ;;
    import-mergekit) _mergelang_files "$cur" yml yaml ;;
    inspect | diff) _mergelang_files "$cur" safetensors ;;
    verify)
        compopt -o filenames 2>/dev/null
        COMPREPLY=($(compgen -d -- "$cur"))
        ;;
    esac
    return 0
}

complete -F _mergelang mergelang
