# A dtype that does not exist.
st ck/unknown_dtype '{"w":{"dtype":"F24","shape":[2],"data_offsets":[0,6]}}' 6
