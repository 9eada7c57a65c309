# diff: a shape mismatch is exit 1, naming the tensor and both files
$ mergelang diff models/base models/wide
exit 1
stdout empty
stderr has tensor 'model.embed_tokens.weight' has shape \[64, 32\] in models/base/model.safetensors but \[64, 48\] in models/wide/model.safetensors
stderr has and 34 more tensors with different shapes
