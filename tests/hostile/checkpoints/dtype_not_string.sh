# A dtype that is a number.
st ck/dtype_not_string '{"w":{"dtype":32,"shape":[2],"data_offsets":[0,8]}}' 8
