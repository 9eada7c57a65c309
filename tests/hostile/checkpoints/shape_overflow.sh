# A shape whose element count overflows 64 bits.
st ck/shape_overflow '{"w":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,8]}}' 8
