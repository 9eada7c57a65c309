# A header length of 1000 in a 70-byte file.
st ck/header_past_end "$GOOD" 8 1000
