# data_offsets that end before they begin.
st ck/offsets_reversed '{"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}' 8
