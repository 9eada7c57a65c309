# 150 MB, sparse: a header length within the file but over the 100 MB limit.
st ck/header_over_limit "$GOOD" 0 120000000
dd if=/dev/zero of=ck/header_over_limit bs=1 count=0 seek=150000000 2>/dev/null
