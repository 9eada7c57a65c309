# data_offsets of 8 bytes for a shape of 3 float32 (12 bytes).
st ck/size_mismatch '{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}' 8
