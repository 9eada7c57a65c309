# A good header whose tensor data is 5 of its 8 bytes.
st ck/truncated_data "$GOOD" 5
