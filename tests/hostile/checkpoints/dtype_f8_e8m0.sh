# An exponent-only F8_E8M0 tensor is an MX scale: refused at model().
st ck/dtype_f8_e8m0 '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"w_scale":{"dtype":"F8_E8M0","shape":[2],"data_offsets":[8,10]}}' 10
