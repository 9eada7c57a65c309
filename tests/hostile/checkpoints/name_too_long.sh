# A tensor name of 300 bytes (the limit is 256).
st ck/name_too_long "{\"$(rep 300 w)\":{$T}}" 8
