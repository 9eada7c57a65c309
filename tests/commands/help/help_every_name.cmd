# help takes every name --names lists
# (stdout: the names it refused)
$ mergelang help --names >names &&
  while read -r name; do mergelang help "$name" >/dev/null 2>&1 || echo "$name"; done <names
exit 0
stdout empty
