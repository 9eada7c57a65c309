# Bytes after the header's JSON object, within the header length.
st ck/header_trailing_data "$GOOD garbage" 8
