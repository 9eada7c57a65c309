# inspect: architecture guessed from names without config.json
$ mergelang inspect models/noconfig
stdout has ^architecture  Llama-like (Llama, Mistral, Qwen2), guessed from tensor names$
