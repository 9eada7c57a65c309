# fmt --check: names the unformatted file, exit 1
$ mergelang fmt --check messy.merge formatted.merge
exit 1
stdout same check_names_file.out
