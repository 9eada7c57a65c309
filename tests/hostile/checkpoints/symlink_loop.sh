# The checkpoint path is a symbolic link to itself.
ln -s symlink_loop ck/symlink_loop
