# inspect: a single .safetensors file with GPT-2 names
$ mergelang inspect models/gpt2ish/model.safetensors
stdout has ^architecture  GPT-2-like, guessed from tensor names$
stdout has ^layers        4$
stdout has ^checkpoint    models/gpt2ish/model.safetensors$
