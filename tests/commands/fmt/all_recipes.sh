# fmt: every recipe in the tree is idempotent and keeps its syntax tree
# Every recipe of examples/, stdlib/, tests/golden and tests/conformance:
# formatting twice gives the same text and `fmt --ast` the same tree; a
# recipe with a syntax error (on purpose) is refused with a diagnostic and
# nothing on stdout. Over 80 recipes must be seen.
n_ok=0
n_bad=0
for f in "$ROOT"/examples/*.merge "$ROOT"/examples/lib/*.merge "$ROOT"/stdlib/*.merge \
         "$ROOT"/tests/golden/*.merge "$ROOT"/tests/golden/data/*.merge "$ROOT"/tests/conformance/*/*.merge; do
    [ -f "$f" ] || continue
    rel=${f#"$ROOT"/}
    if ! "$BIN" fmt "$f" >f1 2>ferr; then
        if [ -s f1 ] || ! grep -q 'error:' ferr; then
            n_bad=$((n_bad + 1)); echo "FAIL fmt $rel: failed without a diagnostic, or printed output"; cat ferr
        else
            n_ok=$((n_ok + 1))   # a recipe with a syntax error, on purpose
        fi
        continue
    fi
    "$BIN" fmt - <f1 >f2 2>ferr
    "$BIN" fmt --ast "$f" >t1 2>>ferr
    "$BIN" fmt --ast - <f1 >t2 2>>ferr
    if ! cmp -s f1 f2; then
        n_bad=$((n_bad + 1)); echo "FAIL fmt $rel: not idempotent"; diff f1 f2 | head -n 20
    elif ! cmp -s t1 t2 || [ ! -s t1 ]; then
        n_bad=$((n_bad + 1)); echo "FAIL fmt $rel: the syntax tree changed"
    else
        n_ok=$((n_ok + 1))
    fi
done
echo "$n_ok recipes fine, $n_bad not"
[ $n_bad -eq 0 ] && [ $n_ok -gt 80 ]
