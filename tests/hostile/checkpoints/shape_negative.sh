# A negative shape dimension.
st ck/shape_negative '{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}' 8
