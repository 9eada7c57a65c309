# A complex tensor: refused (nothing merges complex numbers).
st ck/dtype_c64 '{"w":{"dtype":"C64","shape":[2],"data_offsets":[0,16]}}' 16
