# A tensor of rank 9 (the limit is 8).
st ck/rank_too_large '{"w":{"dtype":"F32","shape":[1,1,1,1,1,1,1,1,2],"data_offsets":[0,8]}}' 8
