# Two tensors whose data overlap.
st ck/offsets_overlap "{\"a\":{$T},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}" 12
