# tokenizer.json is a FIFO: save(..., tokenizer = x) stops with a message
# (exit 3) instead of blocking on it or writing a folder without it.
mkdir -p ck/tokenizer_fifo
st ck/tokenizer_fifo/model.safetensors "$GOOD" 8
mkfifo ck/tokenizer_fifo/tokenizer.json 2>/dev/null || skip "no mkfifo"
printf 'x = model("ck/%s")\nsave(x * 2, "out/%s", tokenizer = x)\n' "$CASE" "$CASE" > "$CASE.merge"
