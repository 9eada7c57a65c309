# fmt --check: examples and stdlib are formatted
$ mergelang fmt --check "$ROOT"/examples/*.merge "$ROOT"/examples/lib/*.merge "$ROOT"/stdlib/*.merge
stdout empty
