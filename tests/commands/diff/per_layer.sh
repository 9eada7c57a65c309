# diff: per-layer summary and overall line
"$BIN" diff models/base models/ft1 >out 2>err
rc=$?
cat >want <<'TABLE'
  layer  tensors  mean cosine  min cosine  max rel diff
  0            9     0.916624    0.874865     5.346e-01
  1            9     0.917516    0.888002     5.197e-01
  2            9     0.918826    0.885597     5.106e-01
  3            9     0.920814    0.891787     5.078e-01
  other        3     0.930874    0.895115     4.973e-01
TABLE
sed -n '/^per layer:$/,/^$/p' out | sed '1d;/^$/d' >got
if [ $rc -eq 0 ] && cmp -s want got && [ "$(tensor_lines | wc -l)" -eq 39 ] &&
   has out '^  max rel diff 5.346e-01 (model.layers.0.self_attn.k_proj.weight)$'; then
    exit 0
fi
echo "exit $rc"
diff want got
head -n 60 out
exit 1
