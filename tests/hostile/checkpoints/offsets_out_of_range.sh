# data_offsets past the end of the data section.
st ck/offsets_out_of_range '{"w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}' 8
