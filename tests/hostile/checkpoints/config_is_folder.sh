# config.json is a folder: found when save() copies it (exit 3).
mkdir -p ck/config_is_folder/config.json
st ck/config_is_folder/model.safetensors "$GOOD" 8
config_recipe
