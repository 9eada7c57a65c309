# A tensor name holding the byte 0xff (not UTF-8).
st ck/header_bad_utf8 "{\"w$(printf '\377')\":{$T}}" 8
