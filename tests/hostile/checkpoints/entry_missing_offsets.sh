# A tensor entry without data_offsets.
st ck/entry_missing_offsets '{"w":{"dtype":"F32","shape":[2]}}' 8
