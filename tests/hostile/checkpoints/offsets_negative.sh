# A negative data offset.
st ck/offsets_negative '{"w":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}}' 8
