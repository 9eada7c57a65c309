# The other packed 6-bit float: refused by name.
st ck/dtype_f6_e3m2 '{"w":{"dtype":"F6_E3M2","shape":[4],"data_offsets":[0,3]}}' 3
