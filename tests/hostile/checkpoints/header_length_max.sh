# A header length of 2^64 - 1.
st ck/header_length_max "$GOOD" 8 -1
