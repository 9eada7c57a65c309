# A float32 NaN in the tensor data: found only when the tensor is read,
# while the output is being written (exit 3), which must vanish with its
# temporary folder.
{ le64 ${#GOOD}; printf '%s' "$GOOD"; printf '\000\000\200\077\000\000\300\177'; } > ck/nan_in_tensor
