# inspect --json: the summary fields
$ mergelang inspect models/base --json
stdout has "tensor_count":	39
stdout has "parameters":	41248
stdout has "architecture":	"LlamaForCausalLM"
stdout lacks "tensors":
