# 200,000 errors on one line: a bounded number printed, each line cut.
rep 200000 'a = b; '; echo
