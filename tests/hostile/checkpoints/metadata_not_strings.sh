# A __metadata__ value that is not a string.
st ck/metadata_not_strings "{\"__metadata__\":{\"format\":1},\"w\":{$T}}" 8
