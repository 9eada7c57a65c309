# A packed 4-bit float (two per byte): refused by name, before any size is
# computed from it (3 elements would be 1.5 bytes).
st ck/dtype_f4 '{"w":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}' 2
