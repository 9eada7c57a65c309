# An index mapping a tensor name of 300 bytes.
index ck/index_tensor_name_too_long "{\"weight_map\":{\"$(rep 300 w)\":\"model-00001-of-00001.safetensors\"}}"
