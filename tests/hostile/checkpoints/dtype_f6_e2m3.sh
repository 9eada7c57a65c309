# A packed 6-bit float: refused by name.
st ck/dtype_f6_e2m3 '{"w":{"dtype":"F6_E2M3","shape":[4],"data_offsets":[0,3]}}' 3
