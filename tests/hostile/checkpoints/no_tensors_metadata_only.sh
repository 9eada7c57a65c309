# A header with only __metadata__: no tensors either.
st ck/no_tensors_metadata_only '{"__metadata__":{"format":"pt"}}' 0
