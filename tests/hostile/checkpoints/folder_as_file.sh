# A folder whose model.safetensors is a folder.
mkdir -p ck/folder_as_file/model.safetensors
