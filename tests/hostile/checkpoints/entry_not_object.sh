# A tensor entry that is an array.
st ck/entry_not_object '{"w":[0,8]}' 8
