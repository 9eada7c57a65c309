#!/usr/bin/env python3
# Writes the small checkpoints of tests/golden/arch_*.merge: the same two
# tensors (model.norm.weight [2], model.embed_tokens.weight [2, 2], float32)
# with config.json files that differ in architecture, model_type or hidden
# size. Run from this folder; the files are committed.
import json, os, struct

def write(folder, config, values):
    os.makedirs(folder, exist_ok=True)
    header = {"model.embed_tokens.weight": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
              "model.norm.weight": {"dtype": "F32", "shape": [2], "data_offsets": [16, 24]}}
    h = json.dumps(header, separators=(",", ":")).encode()
    with open(os.path.join(folder, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + struct.pack("<6f", *values))
    if config is not None:
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump(config, f, indent=2)
            f.write("\n")

llama = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 2}
write("llama", llama, [1, 2, 3, 4, 5, 6])
write("llama2", dict(llama), [2, 3, 4, 5, 6, 7])
write("mistral", {"architectures": ["MistralForCausalLM"], "model_type": "mistral", "hidden_size": 2},
      [1, 1, 1, 1, 1, 1])
write("llama-h4", dict(llama, hidden_size=4), [1, 1, 1, 1, 1, 1])
write("vlm", {"architectures": ["LlavaForConditionalGeneration"], "model_type": "llava",
              "text_config": {"hidden_size": 4}}, [1, 1, 1, 1, 1, 1])
write("noconfig", None, [1, 1, 1, 1, 1, 1])
# tied: no head tensor, and config.json says so (for untie_errors.merge)
write("tied", dict(llama, tie_word_embeddings=True), [1, 2, 3, 4, 5, 6])

# The expected linear([llama, mistral]) of arch_crimes.merge: the element-wise
# mean, worked out here in float64.
mean = [(a + b) / 2 for a, b in zip([1, 2, 3, 4, 5, 6], [1, 1, 1, 1, 1, 1])]
write("expected-crimes", None, mean)
# nolayers: a config.json with no layer-count key (for config_no_layers.merge)
write("nolayers", {"architectures": ["LlamaForCausalLM"], "model_type": "llama"}, [1, 1, 1, 1, 1, 1])
