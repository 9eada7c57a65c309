# A folder with no checkpoint in it.
mkdir -p ck/empty_folder
