# A file of 0 bytes.
: > ck/empty_file
