# Two tensors named w.
st ck/duplicate_name "{\"w\":{$T},\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}" 16
