# A JSON header that is an array, not an object.
st ck/header_not_object '[1, 2, 3]' 0
