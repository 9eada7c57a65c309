# A valid safetensors header "{}" with no tensors: an error naming the file
# when model() opens it, not a later "model 2 has no tensor ...".
st ck/no_tensors '{}' 0
