# A recipe of 9.1 MB (the limit is 8 MiB).
rep 1300000 'x = 1  '; echo
