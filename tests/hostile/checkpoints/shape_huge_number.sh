# A shape dimension of 1e300.
st ck/shape_huge_number '{"w":{"dtype":"F32","shape":[1e300],"data_offsets":[0,8]}}' 8
