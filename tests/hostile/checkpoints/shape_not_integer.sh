# A shape dimension of 1.5.
st ck/shape_not_integer '{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,8]}}' 8
