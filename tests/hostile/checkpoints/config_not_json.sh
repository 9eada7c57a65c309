# config.json cut short: found when save() copies it (exit 3), with the
# output being written; it must vanish with its temporary folder.
mkdir -p ck/config_not_json
st ck/config_not_json/model.safetensors "$GOOD" 8
printf '{"architectures": ["LlamaForCausalLM"' > ck/config_not_json/config.json
config_recipe
