# lora(x, "ck/lora_fifo") where adapter_config.json is a FIFO: refused
# without blocking.
mkdir -p ck/lora_fifo
st ck/lora_fifo/model.safetensors "$GOOD" 8
mkfifo ck/lora_fifo/adapter_config.json 2>/dev/null || skip "no mkfifo"
printf 'x = model("ck/lora_fifo")\nsave(lora(x, "ck/lora_fifo"), "out/lora_fifo")\n' > lora_fifo.merge
