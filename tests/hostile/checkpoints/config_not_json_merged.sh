# config.json cut short in a model merged with another: the architecture
# check reads it when planning, so the error comes before anything is
# written (exit 1), naming the file.
mkdir -p ck/config_not_json_merged ck/config_not_json_merged_other
st ck/config_not_json_merged/model.safetensors "$GOOD" 8
st ck/config_not_json_merged_other/model.safetensors "$GOOD" 8
printf '{"model_type": "llama"}' > ck/config_not_json_merged_other/config.json
printf '{"architectures": ["LlamaForCausalLM"' > ck/config_not_json_merged/config.json
printf 'x = model("ck/%s")\ny = model("ck/%s_other")\nsave(linear([x, y]), "out/%s")\n' "$CASE" "$CASE" \
    "$CASE" > "$CASE.merge"
