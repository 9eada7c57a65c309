# inspect --tensors: every tensor with shape and dtype, in natural order
"$BIN" inspect models/deep --tensors >out 2>err
rc=$?
first=$(sed -n '/^tensor /{n;p;}' out | awk '{print $1}')
last=$(tail -n 1 out | awk '{print $1}')
l2=$(grep -n '^model.layers.2.input_layernorm.weight ' out | cut -d: -f1)
l10=$(grep -n '^model.layers.10.input_layernorm.weight ' out | cut -d: -f1)
rows=$(sed -n '/^tensor /,$p' out | tail -n +2 | wc -l)
if [ $rc -eq 0 ] && [ "$first" = model.embed_tokens.weight ] && [ "$last" = lm_head.weight ] &&
   [ -n "$l2" ] && [ -n "$l10" ] && [ "$l2" -lt "$l10" ] && [ "$rows" -eq 111 ] &&
   has out '^model.layers.0.mlp.down_proj.weight  *\[8, 64\]  *float32$'; then
    exit 0
fi
echo "exit $rc; first $first, last $last, layer 2 at line $l2, layer 10 at line $l10, $rows rows"
head -n 40 out
exit 1
