# config.json is a FIFO: found when save() copies it (exit 3), without
# blocking.
mkdir -p ck/config_fifo
st ck/config_fifo/model.safetensors "$GOOD" 8
mkfifo ck/config_fifo/config.json 2>/dev/null || skip "no mkfifo"
config_recipe
