# An import of a safetensors file named .merge.
st binary.merge "$GOOD" 8
printf 'import "binary.merge"\n'
